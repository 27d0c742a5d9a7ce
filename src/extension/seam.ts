// The thin seam between vpdbg's extension logic and the vscode API: providers and commands
// take a Host, so unit tests drive them with a fake and vscodeHost.ts is the only real one.

export interface PickItem {
  label: string;
  description?: string;
  detail?: string;
  picked?: boolean;
}

export interface InputOptions {
  title?: string;
  prompt?: string;
  value?: string;
  placeHolder?: string;
}

export interface DebugSessionLike {
  readonly type: string;
  readonly id: string;
  customRequest(command: string, args?: unknown): Thenable<any>;
}

export interface Host {
  showError(message: string, ...actions: string[]): Thenable<string | undefined>;
  showInfo(message: string, ...actions: string[]): Thenable<string | undefined>;
  pickMany<T extends PickItem>(items: T[], options: { title: string; placeHolder?: string }): Thenable<T[] | undefined>;
  input(options: InputOptions): Thenable<string | undefined>;
  /** Path and language of the file in the active editor (or the selected explorer resource). */
  activeFile(): { path: string; languageId?: string } | undefined;
  setting<T>(key: string, fallback: T): T;
  setContext(key: string, value: unknown): Thenable<unknown>;
  /** Per-workspace persistent state. */
  getState<T>(key: string): T | undefined;
  setState(key: string, value: unknown): Thenable<void>;
  /** A directory the extension may write build output to. */
  storageDir(): string;
  activeDebugSession(): DebugSessionLike | undefined;
  openUrl?(url: string): Thenable<unknown>;
  /** The first workspace folder's path. */
  workspaceDir?(): string | undefined;
  /** Open a file in an editor. */
  open?(path: string): Thenable<unknown>;
}
