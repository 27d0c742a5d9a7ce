// A Host for unit tests: scripted answers, recorded calls.
import type { DebugSessionLike, Host, InputOptions, PickItem } from '../../src/extension/seam';

export class FakeHost implements Host {
  errors: string[] = [];
  infos: string[] = [];
  contexts = new Map<string, unknown>();
  state = new Map<string, unknown>();
  settings = new Map<string, unknown>();
  requests: { command: string; args: unknown }[] = [];
  file: { path: string; languageId?: string } | undefined;
  session: DebugSessionLike | undefined;
  /** Answers for pickMany: chooses items by label. */
  pickLabels: string[] | undefined = [];
  inputs: (string | undefined)[] = [];
  prompts: InputOptions[] = [];
  requestReply: (command: string, args: unknown) => unknown = () => ({});

  constructor(readonly dir = '/tmp') {}

  showError(message: string) { this.errors.push(message); return Promise.resolve(undefined); }
  showInfo(message: string) { this.infos.push(message); return Promise.resolve(undefined); }
  pickMany<T extends PickItem>(items: T[]) {
    return Promise.resolve(this.pickLabels === undefined ? undefined : items.filter((i) => this.pickLabels!.includes(i.label)));
  }
  input(options: InputOptions) { this.prompts.push(options); return Promise.resolve(this.inputs.shift()); }
  activeFile() { return this.file; }
  setting<T>(key: string, fallback: T): T { return (this.settings.get(key) as T) ?? fallback; }
  setContext(key: string, value: unknown) { this.contexts.set(key, value); return Promise.resolve(); }
  getState<T>(key: string) { return this.state.get(key) as T | undefined; }
  setState(key: string, value: unknown) { this.state.set(key, value); return Promise.resolve(); }
  storageDir() { return this.dir; }
  activeDebugSession() { return this.session; }

  startSession(): void {
    this.session = {
      type: 'vpdbg',
      id: 's1',
      customRequest: (command: string, args?: unknown) => {
        this.requests.push({ command, args });
        try { return Promise.resolve(this.requestReply(command, args)); } catch (e) { return Promise.reject(e); }
      },
    };
  }
}
