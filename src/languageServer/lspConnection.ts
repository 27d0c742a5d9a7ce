// The part of vscode-languageserver's node API the server uses, typed here because the
// package publishes its types only through an exports map this repo's TypeScript
// resolution (node10) does not read. Protocol shapes come from vscode-languageserver-types.
import type * as ls from 'vscode-languageserver-types';
import type { TextDocument } from 'vscode-languageserver-textdocument';

type Handler<P, R> = (handler: (params: P) => R | Promise<R>) => void;
interface DocParams { textDocument: { uri: string } }
interface PosParams extends DocParams { position: ls.Position }

export interface LspConnection {
  onInitialize: Handler<{ initializationOptions?: unknown }, { capabilities: unknown; serverInfo?: { name: string } }>;
  onDidChangeConfiguration: Handler<{ settings: any }, void>;
  onDocumentSymbol: Handler<DocParams, ls.DocumentSymbol[]>;
  onDefinition: Handler<PosParams, ls.Location[]>;
  onReferences: Handler<PosParams & { context: { includeDeclaration: boolean } }, ls.Location[]>;
  onHover: Handler<PosParams, ls.Hover | undefined>;
  onDocumentHighlight: Handler<PosParams, ls.DocumentHighlight[]>;
  onPrepareRename: Handler<PosParams, { range: ls.Range; placeholder: string } | null>;
  onRenameRequest: Handler<PosParams & { newName: string }, ls.WorkspaceEdit | null>;
  onCompletion: Handler<PosParams, ls.CompletionItem[]>;
  onCompletionResolve: Handler<ls.CompletionItem, ls.CompletionItem>;
  sendDiagnostics(params: { uri: string; version?: number; diagnostics: ls.Diagnostic[] }): Promise<void>;
  window: { showInformationMessage(message: string): unknown };
  listen(): void;
}

interface DocumentEvent { document: TextDocument }
export interface LspDocuments {
  get(uri: string): TextDocument | undefined;
  all(): TextDocument[];
  onDidOpen(listener: (e: DocumentEvent) => void): void;
  onDidChangeContent(listener: (e: DocumentEvent) => void): void;
  onDidSave(listener: (e: DocumentEvent) => void): void;
  onDidClose(listener: (e: DocumentEvent) => void): void;
  listen(connection: LspConnection): void;
}

export interface LspRuntime {
  createConnection(features: unknown): LspConnection;
  ProposedFeatures: { all: unknown };
  TextDocuments: new (configuration: unknown) => LspDocuments;
}
