// The DAP session: request handling, references, formatting. Execution control lives in
// Runtime; the machine is reached only through the VpTarget seam (registers through
// GetVpRegisters/SetVpRegisters, stops from exit contexts).
import {
  Breakpoint, ContinuedEvent, ExitedEvent, InitializedEvent, InvalidatedEvent, LoggingDebugSession,
  MemoryEvent, OutputEvent, Scope, Source, StackFrame, StoppedEvent, TerminatedEvent, Thread,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import * as path from 'node:path';
import { HvRegisterName } from '../partition/hvdef';
import { COMMANDS, runCommand } from './consoleCommands';
import { decodeInstructions } from './disassembler';
import { checkConditionSyntax, exceptionBreakpointFilters, exitFieldNames, FILTER_BY_ID, FilterState } from './exitFilters';
import { exitToPlain, hex } from '../partition/exitDescription';
import { evaluateAst, evaluateExpression, resolveLValue } from './expression/evaluate';
import { ExpressionError, parseExpression } from './expression/parser';
import { addressRef, formatValue, parseAddressRef } from './format';
import { guestAccessor, RegisterCache, resolveRegister } from './guestAccessor';
import { LaunchConfig, LaunchConfigError, validateLaunchConfig } from './launchConfig';
import { OutputBuffer } from './outputBuffer';
import { SerialTerminal } from './serialTerminal';
import { allRegisterNames, findRegister, readSlice } from './registers';
import { checkHitCondition, CodeBreakpoint, DataBreakpoint, Runtime, StopInfo } from './runtime';
import type { VpTarget } from './target';
import { VariableStore } from './variables';

/** Builds the machine for a validated configuration (machineTarget.ts in the product; tests may inject). */
export type TargetFactory = (config: LaunchConfig, log: (text: string) => void) => VpTarget;

const MAX_READ = 1 << 20;
const MAX_DISASSEMBLE = 2000;
const EXIT_HISTORY = 1000;

/** Exit filters this machine cannot produce, and why (the filter stays set, but says so). */
const NEVER_REPORTED: Record<string, string> = {
  Canceled: 'the only canceled runs are the debugger\'s own pauses, which stop as "pause"',
};

/** Marks a breakpoint unverified with the reason shown in the BREAKPOINTS view. */
function unverified(bp: DebugProtocol.Breakpoint, message: string): DebugProtocol.Breakpoint {
  bp.verified = false;
  bp.message = message;
  bp.reason = 'failed';
  return bp;
}

/** Request failures that are the user's or client's input, shown as the error message. */
class RequestError extends Error {}

export class VpdbgSession extends LoggingDebugSession {
  private config: LaunchConfig | undefined;
  private rawLaunchArgs: unknown;
  private target: VpTarget | undefined;
  private runtime: Runtime | undefined;
  private readonly vars = new VariableStore();
  private regsCache = new Map<number, RegisterCache>();
  private serial: OutputBuffer;
  private configurationDone = false;
  private terminated = false;
  private nextBreakpointId = 1;
  private readonly exitHistory: Record<string, unknown>[] = [];
  private exitIndex = 0;
  private clientRunsTerminals = false;
  private terminal: SerialTerminal | undefined;

  constructor(private readonly createTarget: TargetFactory) {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    this.serial = new OutputBuffer((text) => this.sendEvent(new OutputEvent(text, 'stdout')));
    // The library shuts the adapter down on any 'error', including a message that is not JSON;
    // only a broken transport should end the session, a malformed message is reported and skipped.
    this.removeAllListeners('error');
    this.on('error', (ev: { body?: unknown }) => {
      const what = String(ev?.body ?? '');
      if (what.startsWith('Error handling data')) this.console(`vpdbg: ignored a malformed DAP message (${what.slice(21, 200)})`);
      else this.shutdown();
    });
  }

  // ---- plumbing -------------------------------------------------------------------------

  /** Every request runs here: malformed requests and failures become error responses, never a dead adapter. */
  protected override dispatchRequest(request: DebugProtocol.Request): void {
    if (request === null || typeof request !== 'object' || typeof request.command !== 'string') return;
    if (request.arguments !== undefined && (request.arguments === null || typeof request.arguments !== 'object' || Array.isArray(request.arguments))) {
      const response: DebugProtocol.Response = { type: 'response', seq: 0, request_seq: request.seq, command: request.command, success: false };
      this.sendErrorResponse(response, 1001, `'${request.command}': arguments must be an object`);
      return;
    }
    request.arguments ??= {};
    // DAP's default path format is 'path'; the library rejects a missing one.
    if (request.command === 'initialize') request.arguments.pathFormat ??= 'path';
    try {
      super.dispatchRequest(request);
    } catch (e) {
      this.fail(request, e);
    }
  }

  private fail(request: { seq: number; command: string } | DebugProtocol.Response, e: unknown): void {
    const response: DebugProtocol.Response = 'request_seq' in request
      ? request : { type: 'response', seq: 0, request_seq: request.seq, command: request.command, success: false };
    const known = e instanceof RequestError || e instanceof ExpressionError || e instanceof LaunchConfigError || e instanceof RangeError;
    const message = known ? (e as Error).message : `internal error in '${response.command}': ${(e as Error)?.message ?? String(e)}`;
    this.sendErrorResponse(response, known ? 2001 : 1104, message.replace(/[{}]/g, (c) => (c === '{' ? '(' : ')')));
  }

  /** Runs a handler, sending its error (sync or async) as the response. */
  private handle(response: DebugProtocol.Response, fn: () => void | Promise<void>): void {
    try {
      const r = fn();
      if (r instanceof Promise) r.catch((e) => this.fail(response, e));
    } catch (e) {
      this.fail(response, e);
    }
  }

  private requireRuntime(): Runtime {
    if (!this.runtime || !this.target) throw new RequestError('no guest is running (launch first)');
    return this.runtime;
  }

  private requireStopped(): Runtime {
    const rt = this.requireRuntime();
    if (rt.isRunning) throw new RequestError('the guest is running; pause it first');
    return rt;
  }

  private vpArg(threadId: unknown): number {
    const n = this.target?.processorCount ?? 1;
    if (threadId === undefined) return this.runtime?.lastStop?.vp ?? 0;
    if (typeof threadId !== 'number' || !Number.isInteger(threadId) || threadId < 1 || threadId > n) throw new RequestError(`no thread ${JSON.stringify(threadId)} (threads are VP 0..${n - 1} with ids 1..${n})`);
    return threadId - 1;
  }

  private regs(vp: number): RegisterCache {
    let c = this.regsCache.get(vp);
    if (!c) { c = new RegisterCache(this.target!, vp); this.regsCache.set(vp, c); }
    return c;
  }

  private invalidateState(): void {
    this.vars.reset();
    for (const c of this.regsCache.values()) c.invalidate();
  }

  private frameVp(frameId: unknown): number {
    // Frame ids encode the VP: vp * 1000 + depth (depth < 1000).
    if (frameId === undefined) return this.runtime?.lastStop?.vp ?? 0;
    if (typeof frameId !== 'number' || !Number.isInteger(frameId) || frameId < 0) throw new RequestError(`bad frameId ${JSON.stringify(frameId)}`);
    return this.vpArg(Math.floor(frameId / 1000) + 1);
  }

  private accessor(vp: number) {
    const stop = this.runtime?.lastStop;
    return guestAccessor({ target: this.target!, regs: this.regs(vp), exit: stop?.vp === vp ? stop.exit : undefined, extraExitFields: stop?.extra });
  }

  // ---- life cycle ------------------------------------------------------------------------

  protected override initializeRequest(response: DebugProtocol.InitializeResponse, args: DebugProtocol.InitializeRequestArguments): void {
    this.clientRunsTerminals = args.supportsRunInTerminalRequest === true;
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsEvaluateForHovers: true,
      exceptionBreakpointFilters: exceptionBreakpointFilters(),
      supportsExceptionFilterOptions: true,
      supportsExceptionInfoRequest: true,
      supportsSetVariable: true,
      supportsSetExpression: true,
      supportsRestartRequest: true,
      supportsTerminateRequest: true,
      supportTerminateDebuggee: true,
      supportsCompletionsRequest: true,
      completionTriggerCharacters: ['.', '$'],
      supportsModulesRequest: true,
      supportsLoadedSourcesRequest: true,
      supportsDataBreakpoints: true,
      supportsDataBreakpointBytes: true,
      supportsReadMemoryRequest: true,
      supportsWriteMemoryRequest: true,
      supportsDisassembleRequest: true,
      supportsInstructionBreakpoints: true,
      supportsSteppingGranularity: true,
      supportsValueFormattingOptions: true,
      supportsDelayedStackTraceLoading: true,
      supportsClipboardContext: true,
      supportsBreakpointLocationsRequest: false,
    };
    this.sendResponse(response);
  }

  protected override launchRequest(response: DebugProtocol.LaunchResponse, args: DebugProtocol.LaunchRequestArguments): void {
    this.handle(response, () => {
      if (this.runtime) throw new RequestError('this session already launched a guest');
      const { config, warnings } = validateLaunchConfig(args);
      for (const w of warnings) this.console(w);
      this.rawLaunchArgs = args;
      this.startMachine(config);
      this.sendResponse(response);
      // Breakpoints come after `initialized`, so they are verified against the loaded symbols.
      this.sendEvent(new InitializedEvent());
    });
  }

  private startMachine(config: LaunchConfig): void {
    this.config = config;
    let target: VpTarget;
    try {
      target = this.createTarget(config, (t) => this.console(t));
    } catch (e) {
      throw new RequestError(`cannot start '${config.program}': ${(e as Error).message}`);
    }
    this.target = target;
    const rt = new Runtime(target);
    rt.traceExits = config.traceExits;
    this.runtime = rt;
    if (config.serial === 'terminal') this.openTerminal(target);
    target.onSerial((bytes) => {
      if (this.terminal) this.terminal.write(bytes);
      else if (config.serial !== 'none') this.serial.push(bytes);
    });
    rt.outputBacklog = () => this.serial.backlog();
    rt.on('stopped', (s: StopInfo) => this.onStopped(s));
    rt.on('continued', (vp: number) => {
      this.sendEvent(new ContinuedEvent(vp + 1, true));
      this.sendEvent({ type: 'event', seq: 0, event: 'vpdbg.status', body: { vp, running: true } } as DebugProtocol.Event);
    });
    rt.on('output', (text: string, category: string) => this.sendEvent(new OutputEvent(text, category)));
    rt.on('ended', (e: { status: number; reason: string }) => this.onEnded(e.status, e.reason));
    this.console(`vpdbg: ${target.image.format} image ${target.image.path}, entry ${hex(target.image.entry)}, ${config.processors} VP${config.processors > 1 ? 's' : ''}, ${config.memoryBytes >> 20} MiB`);
    for (const n of target.image.notes) this.console(`vpdbg: ${n}`);
    for (const w of target.symbols.warnings.slice(0, 5)) this.console(`vpdbg: symbols: ${w}`);
  }

  /** COM1 in an integrated terminal through runInTerminal, or the Debug Console if the client cannot. */
  private openTerminal(target: VpTarget): void {
    if (!this.clientRunsTerminals) {
      this.console('vpdbg: this client cannot run terminals (runInTerminal); COM1 goes to the Debug Console');
      return;
    }
    const term = new SerialTerminal((bytes) => target.feedSerial(bytes));
    this.terminal = term;
    term.listen().then((args) => {
      this.runInTerminalRequest({ kind: 'integrated', title: 'vpdbg COM1', cwd: this.config?.cwd ?? process.cwd(), args }, 10_000, (r) => {
        if (!r.success) this.console(`vpdbg: the COM1 terminal could not be started (${r.message ?? 'no reason given'}); output is kept until it connects`);
      });
    }, (e: Error) => {
      this.terminal = undefined;
      this.console(`vpdbg: cannot open the COM1 terminal (${e.message}); COM1 goes to the Debug Console`);
    });
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.handle(response, () => {
      const rt = this.requireRuntime();
      this.sendResponse(response);
      if (this.configurationDone) return;
      this.configurationDone = true;
      this.begin(rt);
    });
  }

  private begin(rt: Runtime): void {
    if (this.config!.stopOnEntry) rt.stopOnEntry();
    else rt.continue();
  }

  private onStopped(s: StopInfo): void {
    this.serial.flush();
    this.invalidateState();
    this.recordExit(s);
    const ev = new StoppedEvent(s.reason, s.vp + 1) as DebugProtocol.StoppedEvent;
    ev.body.description = s.description;
    ev.body.text = s.description;
    ev.body.allThreadsStopped = true;
    if (s.hitBreakpointIds) ev.body.hitBreakpointIds = s.hitBreakpointIds;
    if (s.reason === 'exception') this.console(`Stopped: ${s.description}`);
    this.sendEvent(ev);
    const cpl = s.exit?.VpContext.ExecutionState.Cpl;
    this.sendEvent({ type: 'event', seq: 0, event: 'vpdbg.status', body: { vp: s.vp, mode: this.target!.mode(s.vp), cpl, running: false, lastExit: s.description } } as DebugProtocol.Event);
  }

  private recordExit(s: StopInfo): void {
    if (!s.exit) return;
    const insn = this.runtime!.currentInstruction(s.vp);
    const loc = this.target!.symbols.lineAt(Number(this.runtime!.pc(s.vp)));
    const rec = {
      index: this.exitIndex++, vp: s.vp, reason: s.exceptionId ?? s.reason, reasonCode: s.exit.ExitReason, description: s.description,
      rip: hex(s.exit.VpContext.Rip), mode: this.target!.mode(s.vp), stopped: true, context: exitToPlain(s.exit),
      instruction: insn?.text, instructionBytes: insn ? Array.from(insn.bytes, (b) => b.toString(16).padStart(2, '0')).join(' ') : undefined,
      source: loc ? { path: loc.file, line: loc.line } : undefined,
    };
    this.exitHistory.push(rec);
    if (this.exitHistory.length > EXIT_HISTORY) this.exitHistory.shift();
    this.sendEvent({ type: 'event', seq: 0, event: 'vpdbg.exit', body: rec } as DebugProtocol.Event);
  }

  private onEnded(status: number, reason: string): void {
    if (this.terminated) return;
    this.serial.flush();
    this.console(`vpdbg: guest ended: ${reason} (exit status ${status})`);
    this.sendEvent(new ExitedEvent(status));
    this.end();
  }

  private end(): void {
    if (this.terminated) return;
    this.terminated = true;
    this.runtime?.stop();
    this.serial.flush();
    this.sendEvent(new TerminatedEvent());
  }

  private disposeMachine(): void {
    this.terminal?.close();
    this.terminal = undefined;
    this.runtime?.stop();
    this.runtime?.removeAllListeners();
    this.serial.dispose();
    this.target?.dispose();
    this.target = undefined;
    this.runtime = undefined;
  }

  private console(text: string): void {
    this.sendEvent(new OutputEvent(text.endsWith('\n') ? text : text + '\n', 'console'));
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    this.serial.flush();
    this.disposeMachine();
    this.terminated = true;
    this.sendResponse(response);
    // stdio: the process ends (after the response is out); --server: the next session may come.
    this.shutdown();
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.sendResponse(response);
    this.end();
  }

  protected override restartRequest(response: DebugProtocol.RestartResponse, args: DebugProtocol.RestartArguments): void {
    this.handle(response, () => {
      const old = this.requireRuntime();
      const raw = (args.arguments as unknown) ?? this.rawLaunchArgs;
      const { config } = validateLaunchConfig(raw);
      old.stop();
      old.removeAllListeners();
      const keep = { code: old.breakpointsSnapshot(), data: old.dataSnapshot(), filters: old.filtersSnapshot() };
      this.target?.dispose();
      this.runtime = undefined;
      this.invalidateState();
      this.regsCache.clear();
      this.startMachine(config);
      this.runtime!.restore(keep);
      this.sendResponse(response);
      this.console('vpdbg: restarted');
      this.begin(this.runtime!);
    });
  }

  // ---- threads, stack, scopes, variables --------------------------------------------------

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    const n = this.target?.processorCount ?? 0;
    response.body = { threads: Array.from({ length: n }, (_, i) => new Thread(i + 1, `VP ${i}`)) };
    this.sendResponse(response);
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): void {
    this.handle(response, () => {
      const rt = this.requireStopped();
      const vp = this.vpArg(args.threadId);
      const frames = this.unwind(rt, vp);
      const start = typeof args.startFrame === 'number' && args.startFrame > 0 ? args.startFrame : 0;
      const levels = typeof args.levels === 'number' && args.levels > 0 ? args.levels : frames.length;
      response.body = { stackFrames: frames.slice(start, start + levels), totalFrames: frames.length };
      this.sendResponse(response);
    });
  }

  private frameFor(vp: number, depth: number, address: bigint): StackFrame {
    const syms = this.target!.symbols;
    const name = syms.all().length ? syms.formatAddress(Number(address)) : addressRef(address);
    const loc = syms.lineAt(Number(address));
    const frame = new StackFrame(vp * 1000 + depth, name, loc ? new Source(path.basename(loc.file), this.convertDebuggerPathToClient(loc.file)) : undefined,
      loc ? loc.line : 0, loc ? Math.max(1, loc.column) : 0);
    frame.instructionPointerReference = addressRef(address);
    if (!loc) frame.presentationHint = 'subtle';
    return frame;
  }

  /** Frame 0 at the PC; outer frames from the saved-RBP chain while it stays plausible. */
  private unwind(rt: Runtime, vp: number): StackFrame[] {
    const pc = rt.pc(vp);
    const frames = [this.frameFor(vp, 0, pc)];
    const width = rt.bitness(vp) === 64 ? 8 : rt.bitness(vp) === 32 ? 4 : 0;
    if (width === 0) return frames;
    const regs = this.regs(vp);
    regs.prefetch(VariableStore.visibleCodes());
    let fp = readSlice(regs.raw(HvRegisterName.Rbp), { offset: 0, size: width });
    const sp = readSlice(regs.raw(HvRegisterName.Rsp), { offset: 0, size: width });
    const buf = new Uint8Array(width * 2);
    for (let depth = 1; depth < 64 && fp !== 0n && fp >= sp; depth++) {
      if (this.target!.readVirtual(vp, fp, buf) < buf.length) break;
      const saved = readSlice(buf, { offset: 0, size: width });
      const ret = readSlice(buf, { offset: width, size: width });
      if (ret === 0n) break;
      frames.push(this.frameFor(vp, depth, ret));
      if (saved <= fp) break; // the chain must go up the stack
      fp = saved;
    }
    return frames;
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    this.handle(response, () => {
      const rt = this.requireStopped();
      const vp = this.frameVp(args.frameId);
      // The one GetVpRegisters call of this stop: every register the visible groups show.
      this.regs(vp).prefetch(VariableStore.visibleCodes());
      const scopes: DebugProtocol.Scope[] = [];
      const regScope = new Scope('Registers', this.vars.ref({ kind: 'registers', vp }), false) as DebugProtocol.Scope;
      regScope.presentationHint = 'registers';
      scopes.push(regScope);
      const stop = rt.lastStop;
      if (stop?.exit && stop.vp === vp) {
        const plain: Record<string, unknown> = { ExitReason: stop.exceptionId ?? stop.exit.ExitReason, ...stop.exit as unknown as Record<string, unknown>, ...(stop.extra ?? {}) };
        scopes.push(new Scope('Exit Context', this.vars.ref({ kind: 'exit', value: plain, evaluateName: '$exit' }), false));
      }
      response.body = { scopes };
      this.sendResponse(response);
    });
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    this.handle(response, () => {
      this.requireStopped();
      const c = this.vars.get(args.variablesReference);
      if (!c) throw new RequestError(`variablesReference ${JSON.stringify(args.variablesReference)} is not valid (it expires when the guest runs)`);
      const saved = this.vars.hex;
      if (args.format?.hex !== undefined) this.vars.hex = args.format.hex;
      try {
        let vars = this.vars.children(c, (vp) => this.regs(vp));
        if (typeof args.start === 'number' || typeof args.count === 'number') vars = vars.slice(args.start ?? 0, args.count ? (args.start ?? 0) + args.count : undefined);
        response.body = { variables: vars };
      } finally {
        this.vars.hex = saved;
      }
      this.sendResponse(response);
    });
  }

  protected override setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): void {
    this.handle(response, () => {
      this.requireStopped();
      const c = this.vars.get(args.variablesReference);
      if (!c) throw new RequestError('variablesReference is not valid');
      if (c.kind === 'exit') throw new RequestError('exit context fields are read-only: they describe what the guest did');
      if (typeof args.name !== 'string' || typeof args.value !== 'string') throw new RequestError("'name' and 'value' must be strings");
      const target = c.kind === 'register' ? `${c.evaluateName}.${args.name}` : args.name;
      const result = this.assign(c.vp, target, args.value);
      response.body = { value: result };
      this.sendResponse(response);
    });
  }

  protected override setExpressionRequest(response: DebugProtocol.SetExpressionResponse, args: DebugProtocol.SetExpressionArguments): void {
    this.handle(response, () => {
      this.requireStopped();
      if (typeof args.expression !== 'string' || typeof args.value !== 'string') throw new RequestError("'expression' and 'value' must be strings");
      const vp = this.frameVp(args.frameId);
      response.body = { value: this.assign(vp, args.expression, args.value) };
      this.sendResponse(response);
    });
  }

  /** Writes a register (or field) through SetVpRegisters, or memory; returns the new value's text. */
  private assign(vp: number, targetExpr: string, valueExpr: string): string {
    const acc = this.accessor(vp);
    const value = evaluateExpression(valueExpr, acc).value;
    const lv = resolveLValue(targetExpr, acc);
    if (lv.kind === 'name') {
      if (lv.path[0].toLowerCase() === '$exit') throw new RequestError('exit context fields are read-only');
      const r = resolveRegister(lv.path);
      if (!r) throw new RequestError(`'${lv.path.join('.')}' is not a register or register field (symbols are addresses, not variables; write memory with e.g. dword [${lv.path.join('.')}] = 1)`);
      this.regs(vp).write(r.slice, value, r.field);
    } else {
      const bytes = new Uint8Array(lv.size);
      let v = value;
      for (let i = 0; i < lv.size; i++) { bytes[i] = Number(v & 0xffn); v >>= 8n; }
      const n = lv.physical ? this.target!.writePhysical(lv.address, bytes) : this.target!.writeVirtual(vp, lv.address, bytes);
      if (n < lv.size) throw new RequestError(`memory at ${hex(lv.address + BigInt(n))} is not writable`);
      this.sendEvent(new MemoryEvent(addressRef(lv.address, lv.physical), 0, lv.size));
    }
    this.vars.reset();
    for (const c of this.regsCache.values()) c.invalidate();
    this.sendEvent(new InvalidatedEvent(['variables']));
    const now = evaluateExpression(targetExpr, this.accessor(vp)).value;
    return formatValue(now, this.vars.hex ? 'x' : 'd');
  }

  // ---- evaluate, completions, exceptionInfo ----------------------------------------------

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    this.handle(response, () => {
      if (typeof args.expression !== 'string') throw new RequestError("'expression' must be a string");
      const rt = this.requireRuntime();
      const text = args.expression.trim();
      if (rt.isRunning) throw new RequestError('the guest is running; pause to evaluate');
      const vp = this.frameVp(args.frameId);
      const acc = this.accessor(vp);
      if (args.context === 'repl' || args.context === undefined) {
        const out = runCommand({ target: this.target!, regs: this.regs(vp), accessor: acc, exitCounts: rt.exitCounts, setTrace: (on) => { rt.traceExits = on; } }, text);
        if (out !== undefined) { response.body = { result: out, variablesReference: 0 }; this.sendResponse(response); return; }
        // `lhs = rhs` (not ==, <=, >=, !=) assigns.
        const m = /^(.+?[^=!<>])=(?!=)(.+)$/s.exec(text);
        if (m) {
          response.body = { result: this.assign(vp, m[1].trim(), m[2].trim()), variablesReference: 0 };
          this.sendResponse(response);
          return;
        }
      }
      const r = evaluateExpression(text, acc);
      const fmt = r.format ?? (args.format?.hex === false ? 'd' : args.format?.hex ? 'x' : (this.vars.hex ? 'x' : 'd'));
      const ast = parseExpression(text).ast;
      if (ast.kind === 'name' && !r.format) {
        // A register with fields shows as in the Variables view (cs: selector, base, limit, attributes) and expands.
        const reg = resolveRegister(ast.path);
        if (reg && !reg.field && ((reg.slice.children?.length ?? 0) > 0 || (reg.slice.bits?.length ?? 0) > 0)) {
          const v = this.vars.registerVariable(reg.slice, ast.path.join('.'), this.regs(vp));
          response.body = { result: v.value, variablesReference: v.variablesReference, memoryReference: v.memoryReference };
          this.sendResponse(response);
          return;
        }
      }
      let memoryReference: string | undefined;
      if (ast.kind === 'name') {
        const reg = resolveRegister(ast.path);
        if (!reg || reg.slice.address) memoryReference = addressRef(r.value);
      } else if (ast.kind !== 'memory') {
        memoryReference = addressRef(r.value);
      }
      response.body = { result: formatValue(r.value, fmt), variablesReference: 0, memoryReference: r.value < (1n << 64n) ? memoryReference : undefined };
      this.sendResponse(response);
    });
  }

  protected override completionsRequest(response: DebugProtocol.CompletionsResponse, args: DebugProtocol.CompletionsArguments): void {
    this.handle(response, () => {
      if (typeof args.text !== 'string') throw new RequestError("'text' must be a string");
      const col = typeof args.column === 'number' ? Math.max(0, Math.min(args.text.length, args.column - 1)) : args.text.length;
      const before = args.text.slice(0, col);
      const m = /[.$\w@]*$/.exec(before)!;
      const word = m[0];
      const items: DebugProtocol.CompletionItem[] = [];
      const add = (label: string, type: DebugProtocol.CompletionItemType) => {
        if (label.toLowerCase().startsWith(word.toLowerCase()) && items.length < 200) items.push({ label, type, start: m.index, length: word.length });
      };
      if (/^\s*\.\w*$/.test(before)) for (const c of Object.keys(COMMANDS)) add('.' + c, 'function');
      const dot = word.lastIndexOf('.');
      if (dot > 0) {
        const head = word.slice(0, dot);
        if (head.toLowerCase() === '$exit' && this.runtime?.lastStop?.exit) for (const f of exitFieldNames(this.runtime.lastStop.exit)) add(`$exit.${f}`, 'field');
        const reg = findRegister(head);
        if (reg) for (const f of [...(reg.children ?? []).map((c) => c.name), ...(reg.bits ?? []).map((b) => b.name)]) add(`${head}.${f}`, 'field');
      } else {
        for (const r of allRegisterNames()) add(r, 'variable');
        add('$exit', 'variable');
        for (const s of this.target?.symbols.all() ?? []) add(s.name, s.isFunction ? 'function' : 'value');
        for (const k of ['byte', 'word', 'dword', 'qword', 'phys']) add(k, 'keyword');
      }
      response.body = { targets: items };
      this.sendResponse(response);
    });
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse, args: DebugProtocol.ExceptionInfoArguments): void {
    this.handle(response, () => {
      const rt = this.requireStopped();
      const s = rt.lastStop;
      const vp = this.vpArg(args.threadId);
      if (!s || s.vp !== vp || s.reason !== 'exception') throw new RequestError(`VP ${vp} did not stop on an exit`);
      response.body = {
        exceptionId: s.exceptionId ?? 'Exit', description: s.description, breakMode: 'always',
        details: { message: s.description, typeName: s.exceptionId, fullTypeName: s.exit ? `WHV_RUN_VP_EXIT_REASON ${hex(s.exit.ExitReason)}` : undefined,
          stackTrace: s.exit ? JSON.stringify(exitToPlain(s.exit), null, 2) : undefined },
      };
      this.sendResponse(response);
    });
  }

  // ---- execution ---------------------------------------------------------------------------

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    this.handle(response, () => {
      const rt = this.requireRuntime();
      response.body = { allThreadsContinued: true };
      this.sendResponse(response);
      this.invalidateState();
      rt.continue();
    });
  }

  private stepRequest(response: DebugProtocol.Response, args: { threadId?: unknown; granularity?: unknown }, how: 'over' | 'in' | 'out'): void {
    this.handle(response, () => {
      const rt = this.requireStopped();
      const vp = this.vpArg(args.threadId);
      const g = args.granularity;
      if (g !== undefined && g !== 'statement' && g !== 'line' && g !== 'instruction') throw new RequestError(`granularity must be "statement", "line" or "instruction", not ${JSON.stringify(g)}`);
      this.sendResponse(response);
      this.invalidateState();
      if (how === 'out') rt.stepOut(vp);
      else rt.step(vp, g === 'instruction' ? 'instruction' : 'line', how === 'over');
    });
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void { this.stepRequest(response, args, 'over'); }
  protected override stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): void { this.stepRequest(response, args, 'in'); }
  protected override stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): void { this.stepRequest(response, args, 'out'); }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.handle(response, () => {
      const rt = this.requireRuntime();
      this.sendResponse(response);
      rt.pause();
    });
  }

  // ---- breakpoints ---------------------------------------------------------------------------

  private checkBreakpointOptions(b: { condition?: unknown; hitCondition?: unknown; logMessage?: unknown }): string | undefined {
    if (b.condition !== undefined && typeof b.condition !== 'string') return 'condition must be a string';
    if (b.hitCondition !== undefined && typeof b.hitCondition !== 'string') return 'hitCondition must be a string';
    if (b.logMessage !== undefined && typeof b.logMessage !== 'string') return 'logMessage must be a string';
    if (b.condition) { const e = checkConditionSyntax(b.condition); if (e) return `condition: ${e}`; }
    if (b.hitCondition) { const e = checkHitCondition(b.hitCondition); if (e) return e; }
    return undefined;
  }

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    this.handle(response, () => {
      const rt = this.requireRuntime();
      const file = args.source?.path;
      if (typeof file !== 'string') throw new RequestError("'source.path' must be a string");
      const list: DebugProtocol.SourceBreakpoint[] = Array.isArray(args.breakpoints) ? args.breakpoints : Array.isArray(args.lines) ? args.lines.map((line) => ({ line })) : [];
      const syms = this.target!.symbols;
      const result: DebugProtocol.Breakpoint[] = [];
      const code: CodeBreakpoint[] = [];
      for (const sb of list) {
        const id = this.nextBreakpointId++;
        const bp = new Breakpoint(false) as DebugProtocol.Breakpoint;
        bp.id = id;
        const bad = typeof sb?.line !== 'number' ? 'line must be a number' : this.checkBreakpointOptions(sb);
        if (bad) { result.push(unverified(bp, bad)); continue; }
        const at = syms.addressesFor(this.convertClientPathToDebugger(file), sb.line);
        if (!at || at.addresses.length === 0) {
          unverified(bp, syms.hasLines ? `no code at or after line ${sb.line} of ${path.basename(file)} in the image's line table` : 'the image has no line information (build with -g / nasm -g -F dwarf, or give "symbols")');
          bp.line = sb.line;
        } else {
          bp.verified = true;
          bp.line = at.line;
          bp.source = new Source(path.basename(file), file);
          bp.instructionReference = addressRef(BigInt(at.addresses[0]));
          for (const a of at.addresses) code.push({ id, address: BigInt(a), kind: 'breakpoint', condition: sb.condition || undefined, hitCondition: sb.hitCondition || undefined, logMessage: sb.logMessage, hits: 0 });
        }
        result.push(bp);
      }
      rt.setCodeBreakpoints(code, 'breakpoint', path.resolve(file));
      response.body = { breakpoints: result };
      this.sendResponse(response);
    });
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    this.handle(response, () => {
      const rt = this.requireRuntime();
      const list = Array.isArray(args.breakpoints) ? args.breakpoints : [];
      const result: DebugProtocol.Breakpoint[] = [];
      const code: CodeBreakpoint[] = [];
      for (const fb of list) {
        const bp = new Breakpoint(false) as DebugProtocol.Breakpoint;
        bp.id = this.nextBreakpointId++;
        const bad = typeof fb?.name !== 'string' ? 'name must be a string' : this.checkBreakpointOptions(fb);
        if (bad) { result.push(unverified(bp, bad)); continue; }
        let address: bigint | undefined;
        const sym = this.target!.symbols.lookup(fb.name.trim());
        if (sym !== undefined) address = BigInt(sym);
        else {
          // An address expression works too (`0x7c10`, `kmain+4`).
          try { address = evaluateExpression(fb.name, this.accessor(0)).value; } catch { address = undefined; }
        }
        if (address === undefined) {
          unverified(bp, `no symbol '${fb.name}' in the image${this.target!.symbols.all().length ? '' : ' (it has no symbols)'}`);
        } else {
          bp.verified = true;
          bp.instructionReference = addressRef(address);
          const loc = this.target!.symbols.lineAt(Number(address));
          if (loc) { bp.source = new Source(path.basename(loc.file), loc.file); bp.line = loc.line; }
          code.push({ id: bp.id, address, kind: 'function breakpoint', condition: fb.condition || undefined, hitCondition: fb.hitCondition || undefined, hits: 0 });
        }
        result.push(bp);
      }
      rt.setCodeBreakpoints(code, 'function breakpoint');
      response.body = { breakpoints: result };
      this.sendResponse(response);
    });
  }

  protected override setInstructionBreakpointsRequest(response: DebugProtocol.SetInstructionBreakpointsResponse, args: DebugProtocol.SetInstructionBreakpointsArguments): void {
    this.handle(response, () => {
      const rt = this.requireRuntime();
      const list = Array.isArray(args.breakpoints) ? args.breakpoints : [];
      const result: DebugProtocol.Breakpoint[] = [];
      const code: CodeBreakpoint[] = [];
      for (const ib of list) {
        const bp = new Breakpoint(false) as DebugProtocol.Breakpoint;
        bp.id = this.nextBreakpointId++;
        const ref = parseAddressRef(ib?.instructionReference);
        const bad = !ref ? `instructionReference must be an address such as "0x7c00", not ${JSON.stringify(ib?.instructionReference)}`
          : ref.physical ? 'instruction breakpoints take guest-virtual (linear) addresses'
            : ib.offset !== undefined && (typeof ib.offset !== 'number' || !Number.isInteger(ib.offset)) ? 'offset must be an integer'
              : this.checkBreakpointOptions(ib);
        if (bad) { result.push(unverified(bp, bad)); continue; }
        const address = (ref!.address + BigInt(ib.offset ?? 0)) & ((1n << 64n) - 1n);
        bp.verified = true;
        bp.instructionReference = addressRef(address);
        code.push({ id: bp.id, address, kind: 'instruction breakpoint', condition: ib.condition || undefined, hitCondition: ib.hitCondition || undefined, hits: 0 });
        result.push(bp);
      }
      rt.setCodeBreakpoints(code, 'instruction breakpoint');
      response.body = { breakpoints: result };
      this.sendResponse(response);
    });
  }

  protected override dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): void {
    this.handle(response, () => {
      this.requireRuntime();
      if (typeof args.name !== 'string') throw new RequestError("'name' must be a string");
      let size = args.bytes ?? 8;
      if (!Number.isInteger(size) || size < 1 || size > 4096) throw new RequestError('bytes must be an integer from 1 to 4096');
      let ref = args.asAddress ? parseAddressRef(args.name) : undefined;
      if (!ref && args.variablesReference === undefined && !this.runtime!.isRunning) {
        // An expression: `[rbp-8]`/`dword [x]` watch that memory operand, anything else is an address.
        try {
          const ast = parseExpression(args.name).ast;
          const acc = this.accessor(this.runtime!.lastStop?.vp ?? 0);
          if (ast.kind === 'memory') {
            ref = { address: evaluateAst(ast.address, acc), physical: ast.physical };
            if (args.bytes === undefined) size = ast.size;
          } else if (!(ast.kind === 'name' && resolveRegister(ast.path))) {
            ref = { address: evaluateAst(ast, acc), physical: false };
          }
        } catch { ref = undefined; }
      }
      if (!ref) {
        response.body = { dataId: null, description: 'registers cannot be watched; give an address (e.g. 0x5000, a symbol, or [rbp-8])' };
      } else {
        response.body = {
          dataId: `${ref.physical ? 'p' : 'v'}:${ref.address.toString(16)}:${size}`,
          description: `${size} byte${size === 1 ? '' : 's'} at ${ref.physical ? 'GPA ' : ''}${hex(ref.address)}`,
          accessTypes: ['read', 'write', 'readWrite'], canPersist: true,
        };
      }
      this.sendResponse(response);
    });
  }

  protected override setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): void {
    this.handle(response, () => {
      const rt = this.requireRuntime();
      const list = Array.isArray(args.breakpoints) ? args.breakpoints : [];
      const result: DebugProtocol.Breakpoint[] = [];
      const data: DataBreakpoint[] = [];
      for (const db of list) {
        const bp = new Breakpoint(false) as DebugProtocol.Breakpoint;
        bp.id = this.nextBreakpointId++;
        const m = typeof db?.dataId === 'string' ? /^([pv]):([0-9a-f]+):(\d+)$/.exec(db.dataId) : null;
        const access = db?.accessType ?? 'write';
        const bad = !m ? `dataId ${JSON.stringify(db?.dataId)} did not come from dataBreakpointInfo`
          : !['read', 'write', 'readWrite'].includes(access) ? `accessType must be "read", "write" or "readWrite"` : this.checkBreakpointOptions(db);
        if (bad) { result.push(unverified(bp, bad)); continue; }
        bp.verified = true;
        data.push({ id: bp.id, address: BigInt('0x' + m![2]), size: Number(m![3]), physical: m![1] === 'p', read: access !== 'write', write: access !== 'read',
          condition: db.condition || undefined, hitCondition: db.hitCondition || undefined, hits: 0 });
        result.push(bp);
      }
      rt.setDataBreakpoints(data);
      response.body = { breakpoints: result };
      this.sendResponse(response);
    });
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): void {
    this.handle(response, () => {
      response.body = { breakpoints: this.applyExitFilters(args) };
      this.sendResponse(response);
    });
  }

  private applyExitFilters(args: { filters?: unknown; filterOptions?: unknown }): DebugProtocol.Breakpoint[] {
    const rt = this.requireRuntime();
    const states = new Map<string, FilterState>();
    const result: DebugProtocol.Breakpoint[] = [];
    const filters = Array.isArray(args.filters) ? args.filters : [];
    const options = Array.isArray(args.filterOptions) ? args.filterOptions : [];
    const one = (id: unknown, condition: unknown): void => {
      if (typeof id !== 'string' || !FILTER_BY_ID.has(id)) {
        result.push({ verified: false, reason: 'failed', message: `unknown exit filter ${JSON.stringify(id)}; known: ${[...FILTER_BY_ID.keys()].join(', ')}` });
        return;
      }
      if (condition !== undefined && typeof condition !== 'string') { result.push({ verified: false, reason: 'failed', message: 'condition must be a string' }); return; }
      const err = condition ? checkConditionSyntax(condition) : undefined;
      if (err) { result.push({ verified: false, reason: 'failed', message: `condition: ${err}` }); return; }
      states.set(id, { enabled: true, condition: condition || undefined });
      const never = NEVER_REPORTED[id];
      result.push(never ? { verified: false, reason: 'failed', message: never } : { verified: true });
    };
    for (const f of filters) one(f, undefined);
    for (const o of options) one(o?.filterId, o?.condition);
    rt.setExitFilters(states);
    return result;
  }

  // ---- memory, disassembly, modules -------------------------------------------------------------

  protected override readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments): void {
    this.handle(response, () => {
      this.requireStopped();
      const ref = parseAddressRef(args.memoryReference);
      if (!ref) throw new RequestError(`memoryReference must be an address such as "0x1000" or "phys:0x1000", not ${JSON.stringify(args.memoryReference)}`);
      if (!Number.isInteger(args.count) || args.count < 0) throw new RequestError('count must be a non-negative integer');
      if (args.offset !== undefined && !Number.isInteger(args.offset)) throw new RequestError('offset must be an integer');
      const count = Math.min(args.count, MAX_READ);
      const address = (ref.address + BigInt(args.offset ?? 0)) & ((1n << 64n) - 1n);
      const vp = this.runtime!.lastStop?.vp ?? 0;
      const read = (a: bigint, dst: Uint8Array) => (ref.physical ? this.target!.readPhysical(a, dst) : this.target!.readVirtual(vp, a, dst));
      const buf = new Uint8Array(count);
      const n = read(address, buf);
      if (n === 0 && count > 0) {
        // Report the unreadable run up to the next readable page, so viewers can skip it.
        let skip = 0;
        const probe = new Uint8Array(1);
        while (skip < count) {
          const pageEnd = Number(4096n - ((address + BigInt(skip)) & 4095n));
          skip += pageEnd;
          if (skip >= count || read(address + BigInt(skip), probe) === 1) break;
        }
        response.body = { address: addressRef(address, ref.physical), unreadableBytes: Math.min(skip, count) };
      } else {
        response.body = { address: addressRef(address, ref.physical), data: Buffer.from(buf.subarray(0, n)).toString('base64'), unreadableBytes: count - n };
      }
      this.sendResponse(response);
    });
  }

  protected override writeMemoryRequest(response: DebugProtocol.WriteMemoryResponse, args: DebugProtocol.WriteMemoryArguments): void {
    this.handle(response, () => {
      this.requireStopped();
      const ref = parseAddressRef(args.memoryReference);
      if (!ref) throw new RequestError('memoryReference must be an address such as "0x1000" or "phys:0x1000"');
      if (typeof args.data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(args.data)) throw new RequestError('data must be base64');
      const bytes = new Uint8Array(Buffer.from(args.data, 'base64'));
      if (bytes.length > MAX_READ) throw new RequestError(`at most ${MAX_READ} bytes per write`);
      const address = (ref.address + BigInt(args.offset ?? 0)) & ((1n << 64n) - 1n);
      const vp = this.runtime!.lastStop?.vp ?? 0;
      const n = ref.physical ? this.target!.writePhysical(address, bytes) : this.target!.writeVirtual(vp, address, bytes);
      if (n < bytes.length && !args.allowPartial) {
        throw new RequestError(`memory at ${hex(address + BigInt(n))} is not writable (${n} of ${bytes.length} bytes written)`);
      }
      response.body = { bytesWritten: n };
      this.sendResponse(response);
      this.invalidateState();
      this.sendEvent(new InvalidatedEvent(['variables']));
    });
  }

  protected override disassembleRequest(response: DebugProtocol.DisassembleResponse, args: DebugProtocol.DisassembleArguments): void {
    this.handle(response, () => {
      const rt = this.requireStopped();
      const ref = parseAddressRef(args.memoryReference);
      if (!ref || ref.physical) throw new RequestError('memoryReference must be a guest-virtual address such as "0x7c00"');
      const count = args.instructionCount;
      if (!Number.isInteger(count) || count < 0) throw new RequestError('instructionCount must be a non-negative integer');
      const vp = rt.lastStop?.vp ?? 0;
      const bitness = rt.bitness(vp);
      const syms = this.target!.symbols;
      const symbolize = (a: bigint) => (syms.all().length && a < 2n ** 53n ? syms.nameAt(Number(a)) && syms.formatAddress(Number(a)) : undefined);
      let address = ref.address + BigInt(args.offset ?? 0);
      let skip = args.instructionOffset ?? 0;
      if (!Number.isInteger(skip) || Math.abs(skip) > 100_000) throw new RequestError('instructionOffset must be an integer');
      const out: DebugProtocol.DisassembledInstruction[] = [];
      if (skip < 0) {
        // x86 cannot be decoded backwards: decode from earlier and resynchronise; what cannot be
        // found (unreadable memory) is padded so the reference stays at index -instructionOffset.
        const back = this.backUp(vp, address, Math.min(-skip, MAX_DISASSEMBLE), bitness);
        const pad = Math.min(-skip, MAX_DISASSEMBLE) - back.found;
        address = back.start;
        for (let i = pad; i > 0; i--) {
          out.push({ address: addressRef(address >= BigInt(i) ? address - BigInt(i) : 0n), instruction: '??', instructionBytes: '', presentationHint: 'invalid' });
        }
        skip = 0;
      }
      const want = Math.min(count, MAX_DISASSEMBLE) + skip;
      let lastLine = '';
      while (out.length < want) {
        const chunk = new Uint8Array(Math.min(4096, (want - out.length) * 15));
        const n = this.target!.readVirtual(vp, address, chunk);
        const decoded = n > 0 ? decodeInstructions(chunk.subarray(0, n), address, bitness, want - out.length, symbolize) : [];
        if (decoded.length === 0) {
          out.push({ address: addressRef(address), instruction: '??', instructionBytes: '', presentationHint: 'invalid' });
          address += 1n;
          continue;
        }
        for (const d of decoded) {
          const ins: DebugProtocol.DisassembledInstruction = {
            address: addressRef(d.address), instructionBytes: Array.from(d.bytes, (b) => b.toString(16).padStart(2, '0')).join(' '), instruction: d.text,
          };
          if (d.invalid) ins.presentationHint = 'invalid';
          const n2 = syms.all().length && d.address < 2n ** 53n ? syms.nameAt(Number(d.address)) : undefined;
          if (n2 && n2.offset === 0) ins.symbol = n2.name;
          const loc = d.address < 2n ** 53n ? syms.lineAt(Number(d.address)) : undefined;
          if (loc && `${loc.file}:${loc.line}` !== lastLine) {
            ins.location = new Source(path.basename(loc.file), loc.file);
            ins.line = loc.line;
            lastLine = `${loc.file}:${loc.line}`;
          }
          out.push(ins);
          address = d.address + BigInt(d.length);
        }
      }
      response.body = { instructions: out.slice(skip, skip + count) };
      this.sendResponse(response);
    });
  }

  /** Start of up to `count` instructions that end exactly at `address`, found by decoding from earlier start points. */
  private backUp(vp: number, address: bigint, count: number, bitness: 16 | 32 | 64): { start: bigint; found: number } {
    for (const span of [count * 15, count * 8, count * 4, 256, 64, 16]) {
      for (const slack of [0, 1, 2, 3]) {
        const back = BigInt(span + slack);
        const start = address > back ? address - back : 0n;
        if (start === address) continue;
        const buf = new Uint8Array(Number(address - start));
        if (this.target!.readVirtual(vp, start, buf) < buf.length) continue;
        const list = decodeInstructions(buf, start, bitness, buf.length);
        const idx = list.findIndex((d) => d.address + BigInt(d.length) === address);
        if (idx < 0) continue;
        const found = Math.min(count, idx + 1);
        return { start: list[idx + 1 - found].address, found };
      }
    }
    return { start: address, found: 0 };
  }

  private modulesRequest(response: DebugProtocol.ModulesResponse): void {
    this.handle(response, () => {
      this.requireRuntime();
      const img = this.target!.image;
      const syms = this.target!.symbols.all();
      response.body = {
        modules: [{ id: 1, name: path.basename(img.path), path: img.path, symbolStatus: syms.length ? `${syms.length} symbols` : 'no symbols',
          addressRange: addressRef(img.entry), isOptimized: false, version: img.format }],
        totalModules: 1,
      };
      this.sendResponse(response);
    });
  }

  protected override loadedSourcesRequest(response: DebugProtocol.LoadedSourcesResponse): void {
    this.handle(response, () => {
      this.requireRuntime();
      response.body = { sources: this.target!.symbols.sourceFiles().map((f) => new Source(path.basename(f), f)) };
      this.sendResponse(response);
    });
  }

  // ---- vpdbg custom requests (see src/extension/protocol.ts) ----------------------------------------

  protected override customRequest(command: string, response: DebugProtocol.Response, args: any): void {
    this.handle(response, () => {
      switch (command) {
        case 'modules': // not dispatched by @vscode/debugadapter itself
          this.modulesRequest(response as DebugProtocol.ModulesResponse);
          return;
        case 'vpdbg.exitHistory': {
          const rt = this.requireRuntime();
          response.body = { exits: this.exitHistory, counts: Object.fromEntries(rt.exitCounts) };
          break;
        }
        case 'vpdbg.setExitBreakpoints':
          response.body = { breakpoints: this.applyExitFilters(args ?? {}) };
          break;
        case 'vpdbg.setNumberFormat':
          if (typeof args?.hex !== 'boolean') throw new RequestError("'hex' must be true or false");
          this.vars.hex = args.hex;
          this.sendResponse(response);
          this.sendEvent(new InvalidatedEvent(['variables']));
          return;
        default:
          throw new RequestError(`unknown request '${command}'`);
      }
      this.sendResponse(response);
    });
  }

  /** Called when the transport closes (client gone): free everything. */
  override shutdown(): void {
    this.disposeMachine();
    super.shutdown();
  }
}

