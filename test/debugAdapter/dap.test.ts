// The debug adapter through a real DAP client: @vscode/debugadapter-testsupport's DebugClient
// drives `node dist/debugAdapter.js` (built by `node scripts/build.mjs --tests`) against the
// guests in test/guests (prebuilt images in test/fixtures/guests).
import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { serverPort } from '../support/adapterServer';
import type { DebugProtocol } from '@vscode/debugprotocol';

const ADAPTER = resolve('dist/debugAdapter.js');
const MAIN = resolve('test/fixtures/guests/dap-main.elf');
const MAIN_SRC = resolve('test/guests/dap-main.asm');
const SPIN = resolve('test/fixtures/guests/dap-spin.bin');
const FAULT = resolve('test/fixtures/guests/dap-fault.bin');
const MODES = resolve('test/fixtures/guests/dap-modes.bin');
const TRIPLE = resolve('test/fixtures/guests/dap-triple.bin');
const SRC_LINES = readFileSync(MAIN_SRC, 'utf8').split('\n');
/** 1-based line of the first source line containing `text`. */
const line = (text: string): number => {
  const i = SRC_LINES.findIndex((l) => l.includes(text));
  assert.ok(i >= 0, `no line with ${text}`);
  return i + 1;
};

let dc: DebugClient;
afterEach(async () => { await dc?.stop().catch(() => undefined); dc = undefined as unknown as DebugClient; });

async function start(): Promise<DebugClient> {
  dc = new DebugClient('node', ADAPTER, 'vpdbg');
  dc.defaultTimeout = 10_000;
  await dc.start();
  await dc.initializeRequest({ adapterID: 'vpdbg', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', supportsMemoryReferences: true });
  return dc;
}

/** initialize → launch → (setup after `initialized`) → configurationDone; resolves with the first stop when `waitFor` says so. */
async function launch(args: Record<string, unknown>, setup?: () => Promise<unknown>): Promise<void> {
  const initialized = dc.waitForEvent('initialized');
  await dc.launchRequest(args as DebugProtocol.LaunchRequestArguments);
  await initialized;
  if (setup) await setup();
  await dc.configurationDoneRequest();
}

async function stopped(): Promise<DebugProtocol.StoppedEvent> {
  return (await dc.waitForEvent('stopped')) as DebugProtocol.StoppedEvent;
}

async function evaluate(expression: string): Promise<string> {
  const r = await dc.evaluateRequest({ expression, context: 'watch', frameId: 0 });
  return r.body.result;
}

async function topFrame(): Promise<DebugProtocol.StackFrame> {
  return (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
}

async function registerGroup(name: string): Promise<DebugProtocol.Variable[]> {
  const scopes = (await dc.scopesRequest({ frameId: 0 })).body.scopes;
  const regs = scopes.find((s) => s.presentationHint === 'registers')!;
  const groups = (await dc.variablesRequest({ variablesReference: regs.variablesReference })).body.variables;
  const g = groups.find((v) => v.name === name)!;
  return (await dc.variablesRequest({ variablesReference: g.variablesReference })).body.variables;
}

async function runToEnd(): Promise<number> {
  const exited = dc.waitForEvent('exited');
  const terminated = dc.waitForEvent('terminated');
  const e = (await exited) as DebugProtocol.ExitedEvent;
  await terminated;
  return e.body.exitCode;
}

describe('debug adapter over DAP', () => {
  test('initialize declares one exit filter per exit reason and the capabilities', async () => {
    dc = new DebugClient('node', ADAPTER, 'vpdbg');
    await dc.start();
    const r = await dc.initializeRequest({ adapterID: 'vpdbg' });
    assert.deepEqual(r.body!.exceptionBreakpointFilters!.map((f) => f.filter), ['MemoryAccess', 'X64IoPortAccess', 'UnrecoverableException',
      'InvalidVpRegisterValue', 'UnsupportedFeature', 'X64InterruptWindow', 'X64Halt', 'X64MsrAccess', 'X64Cpuid', 'Exception', 'Canceled',
      'X64Rdtsc', 'X64ApicEoi', 'Hypercall', 'ModeChange']);
    assert.ok(r.body!.exceptionBreakpointFilters!.every((f) => f.supportsCondition));
    for (const cap of ['supportsDataBreakpointBytes', 'supportsInstructionBreakpoints', 'supportsSteppingGranularity', 'supportsReadMemoryRequest',
      'supportsWriteMemoryRequest', 'supportsDisassembleRequest', 'supportsExceptionFilterOptions', 'supportsSetExpression', 'supportsLogPoints'] as const) {
      assert.equal(r.body![cap], true, cap);
    }
  });

  test('stop on entry: frame 0 with source and instruction pointer; a guest run to its end', async () => {
    await start();
    const stop = stopped();
    await launch({ program: MAIN, stopOnEntry: true });
    const s = await stop;
    assert.equal(s.body.reason, 'entry');
    assert.equal(s.body.allThreadsStopped, true);
    assert.deepEqual((await dc.threadsRequest()).body.threads, [{ id: 1, name: 'VP 0' }]);
    const f = await topFrame();
    assert.equal(f.name, '_start');
    assert.equal(f.instructionPointerReference, '0x100000');
    assert.equal(f.source?.path, MAIN_SRC);
    assert.equal(f.line, line('mov rax, 6'));
    const output = dc.assertOutput('stdout', 'Hi\n');
    const end = runToEnd();
    await dc.continueRequest({ threadId: 1 });
    await output;
    assert.equal(await end, 3);
  });

  test('registers hold what the guest computed; sub-registers, fields and memory evaluate', async () => {
    await start();
    const stop = stopped();
    await launch({ program: MAIN }, () => dc.setBreakpointsRequest({ source: { path: MAIN_SRC }, breakpoints: [{ line: line('mov [result], rax') }] }));
    assert.equal((await stop).body.reason, 'breakpoint');
    const gpr = await registerGroup('General purpose');
    const rax = gpr.find((v) => v.name === 'rax')!;
    assert.equal(rax.value, '0x000000000000002a');
    assert.equal(rax.evaluateName, 'rax');
    assert.equal(rax.memoryReference, '0x2a');
    assert.equal(gpr.find((v) => v.name === 'rbx')!.value, '0x0000000000000007');
    const rflags = gpr.find((v) => v.name === 'rflags')!;
    const bits = (await dc.variablesRequest({ variablesReference: rflags.variablesReference })).body.variables;
    assert.ok(bits.some((b) => b.name === 'ZF' && b.evaluateName === 'rflags.ZF'));
    assert.equal(await evaluate('eax'), '0x2a');
    assert.equal(await evaluate('al + ah'), '0x2a');
    assert.equal(await evaluate('rax,d'), '42');
    assert.equal(await evaluate('rax * 2 == 84'), '0x1');
    assert.equal(await evaluate('HvX64RegisterRbx'), '0x7');
    assert.equal(await evaluate('cr0.PG'), '0x1');
    assert.equal(await evaluate('cs.L'), '0x1');
    assert.match(await evaluate('cs'), /^0x0018 \(base 0x0, limit 0xffffffff, attr 0xa09b\)$/);
    assert.equal(await evaluate('cs + 0'), '0x18', 'as a number a segment register is its selector');
    assert.match(await evaluate('rflags'), /^0x0000000000000[0-9a-f]{3} \[.*\]$/);
    assert.equal(await evaluate('qword [result]'), '0x0');
    assert.equal(await evaluate('result'), '0x101000');
    await assert.rejects(dc.evaluateRequest({ expression: 'nosuchreg + 1', context: 'watch' }), /unknown name 'nosuchreg'/);
    await assert.rejects(dc.evaluateRequest({ expression: '(1', context: 'repl' }), /expected '\)'/);
    const scopes = (await dc.scopesRequest({ frameId: 0 })).body.scopes;
    assert.equal(scopes.length, 1, 'no Exit Context scope for a breakpoint stop');
  });

  test('setVariable and setExpression write registers and change what the guest does', async () => {
    await start();
    const stop = stopped();
    await launch({ program: MAIN }, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'decide' }] }));
    assert.equal((await stop).body.reason, 'function breakpoint');
    const scopes = (await dc.scopesRequest({ frameId: 0 })).body.scopes;
    const groups = (await dc.variablesRequest({ variablesReference: scopes[0].variablesReference })).body.variables;
    const gp = groups.find((g) => g.name === 'General purpose')!;
    const r = await dc.setVariableRequest({ variablesReference: gp.variablesReference, name: 'rbx', value: '1' });
    assert.equal(r.body.value, '0x1');
    const e = await dc.customRequest('setExpression', { expression: 'rflags.CF', value: '1', frameId: 0 });
    assert.equal(e.body.value, '0x1');
    assert.equal(await evaluate('rflags & 1'), '0x1');
    await assert.rejects(dc.customRequest('setExpression', { expression: 'rax + 1', value: '1' }), /cannot be assigned/);
    const end = runToEnd();
    await dc.continueRequest({ threadId: 1 });
    assert.equal(await end, 5, 'RBX = 1 takes the other branch');
  });

  test('X64IoPortAccess stops with a decoded exit, with and without a condition', async () => {
    await start();
    let stop = stopped();
    await launch({ program: MAIN }, () => dc.setExceptionBreakpointsRequest({ filters: ['X64IoPortAccess'] }));
    let s = await stop;
    assert.equal(s.body.reason, 'exception');
    assert.equal(s.body.description, 'X64IoPortAccess: OUT 0x3F8 ← 0x48 (1 byte)');
    const info = await dc.exceptionInfoRequest({ threadId: 1 });
    assert.equal(info.body.exceptionId, 'X64IoPortAccess');
    const scopes = (await dc.scopesRequest({ frameId: 0 })).body.scopes;
    const exitScope = scopes.find((sc) => sc.name === 'Exit Context')!;
    const fields = (await dc.variablesRequest({ variablesReference: exitScope.variablesReference })).body.variables;
    const io = fields.find((f) => f.name === 'IoPortAccess')!;
    const ioFields = (await dc.variablesRequest({ variablesReference: io.variablesReference })).body.variables;
    assert.equal(ioFields.find((f) => f.name === 'PortNumber')!.value, '0x3f8');
    assert.equal(await evaluate('$exit.PortNumber'), '0x3f8');
    await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'X64IoPortAccess', condition: 'PortNumber == 0x3f8 && (Rax & 0xff) == 0x0a' }] });
    stop = stopped();
    await dc.continueRequest({ threadId: 1 });
    s = await stop;
    assert.equal(s.body.description, 'X64IoPortAccess: OUT 0x3F8 ← 0xA (1 byte)');
    await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'X64IoPortAccess', condition: 'PortNumber == 0xf4' }] });
    stop = stopped();
    await dc.continueRequest({ threadId: 1 });
    s = await stop;
    assert.match(s.body.description!, /OUT 0xF4 ← 0x1/);
    const bad = await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'X64IoPortAccess', condition: 'PortNumber ==' }, { filterId: 'NoSuch' }] });
    assert.deepEqual(bad.body!.breakpoints!.map((b) => b.verified), [false, false]);
  });

  test('X64MsrAccess and X64Cpuid exits, with conditions', async () => {
    await start();
    let stop = stopped();
    await launch({ program: MAIN, msrExits: ['0xC0000080'] }, () => dc.setExceptionBreakpointsRequest({ filters: ['X64Cpuid'], filterOptions: [{ filterId: 'X64MsrAccess', condition: 'MsrNumber == 0xC0000080' }] }));
    let s = await stop;
    assert.equal(s.body.description, 'X64MsrAccess: RDMSR 0xC0000080 (IA32_EFER)');
    stop = stopped();
    await dc.continueRequest({ threadId: 1 });
    s = await stop;
    assert.equal(s.body.description, 'X64Cpuid: CPUID leaf 0x40000000 subleaf 0xC0000080'); // ECX still holds the MSR number
    assert.equal(await evaluate('$exit.Rax'), '0x40000000');
    // A condition that never holds lets the guest run to its end.
    await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'X64Cpuid', condition: 'Rax == 1' }] });
    const end = runToEnd();
    await dc.continueRequest({ threadId: 1 });
    assert.equal(await end, 3);
  });

  test('Exception exit (#UD listed in exceptionExits), then a halt with interrupts off', async () => {
    await start();
    let stop = stopped();
    await launch({ program: FAULT, exceptionExits: ['#UD'] }, () => dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'Exception', condition: 'ExceptionType == 6' }] }));
    let s = await stop;
    assert.match(s.body.description!, /^Exception: #UD \(6\)/);
    assert.equal(await evaluate('ax'), '0x1234');
    // Skip the UD2 by moving IP past it.
    await dc.customRequest('setExpression', { expression: 'rip', value: 'rip + 2', frameId: 0 });
    stop = stopped();
    await dc.continueRequest({ threadId: 1 });
    s = await stop;
    assert.equal(s.body.reason, 'exception');
    assert.match(s.body.description!, /X64Halt/);
    assert.equal(await evaluate('bx'), '0x5678');
  });

  test('ModeChange, MemoryAccess and Hypercall exits', async () => {
    await start();
    let stop = stopped();
    await launch({ program: MODES }, () => dc.setExceptionBreakpointsRequest({ filters: ['MemoryAccess', 'Hypercall'], filterOptions: [{ filterId: 'ModeChange', condition: 'To == 2' }] }));
    let s = await stop;
    assert.equal(s.body.description, 'ModeChange: protected16 → protected32');
    assert.equal(await evaluate('$exit.From'), '0x1');
    await dc.setExceptionBreakpointsRequest({ filters: ['MemoryAccess', 'Hypercall'] });
    stop = stopped();
    await dc.continueRequest({ threadId: 1 });
    s = await stop;
    assert.match(s.body.description!, /^MemoryAccess: read of unmapped GPA 0xF0000000/);
    assert.equal(await evaluate('$exit.Gpa'), '0xf0000000');
    stop = stopped();
    await dc.continueRequest({ threadId: 1 });
    s = await stop;
    assert.match(s.body.description!, /^Hypercall: VMCALL call code 0xFFFF \(input 0xFFFF in EDX:EAX\)/);
    assert.equal(await evaluate('ebx'), '0xffffffff', 'the unmapped read completed with all ones');
    const end = runToEnd();
    await dc.continueRequest({ threadId: 1 });
    assert.equal(await end, 1);
  });

  test('a triple fault stops (UnrecoverableException is on by default), then ends the session; output before it arrives', async () => {
    await start();
    const output = dc.assertOutput('stdout', 'bye\n');
    const stop = stopped();
    await launch({ program: TRIPLE });
    const s = await stop;
    assert.match(s.body.description!, /^UnrecoverableException: triple fault/);
    await output;
    const end = runToEnd();
    await dc.continueRequest({ threadId: 1 });
    assert.equal(await end, 1);
  });

  test('terminate ends a running guest', async () => {
    await start();
    await launch({ program: SPIN });
    const terminated = dc.waitForEvent('terminated');
    await dc.terminateRequest({});
    await terminated;
  });

  test('several VPs are threads; the exit trace prints device-handled exits', async () => {
    await start();
    const trace: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => { if (e.body.output.startsWith('[exit]')) trace.push(e.body.output.trim()); });
    const stop = stopped();
    await launch({ program: MAIN, processors: 2, stopOnEntry: true, traceExits: true });
    await stop;
    assert.deepEqual((await dc.threadsRequest()).body.threads.map((t) => t.name), ['VP 0', 'VP 1']);
    assert.equal((await dc.stackTraceRequest({ threadId: 2 })).body.stackFrames.length, 1);
    const end = runToEnd();
    await dc.continueRequest({ threadId: 1 });
    assert.equal(await end, 3);
    assert.ok(trace.includes('[exit] VP 0: X64IoPortAccess: OUT 0x3F8 ← 0x48 (1 byte)'), trace.join('\n'));
  });

  test('instruction breakpoints, the frame-pointer chain and stepping at both granularities', async () => {
    await start();
    let stop = stopped();
    await launch({ program: MAIN }, () => dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: '0x100073' }] }));
    assert.equal((await stop).body.reason, 'instruction breakpoint');
    assert.equal((await topFrame()).name, 'square');
    for (let i = 0; i < 2; i++) {
      stop = stopped();
      await dc.nextRequest({ threadId: 1, granularity: 'instruction' });
      assert.equal((await stop).body.reason, 'step');
    }
    const frames = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
    assert.equal(frames.length, 2);
    assert.equal(frames[1].line, line('mov [result2], rax'));
    assert.equal(frames[0].line, line('mov rax, rdi'));
    stop = stopped();
    await dc.stepOutRequest({ threadId: 1 });
    await stop;
    assert.equal((await topFrame()).line, line('mov [result2], rax'));
    assert.equal(await evaluate('rax,d'), '25');
  });

  test('line stepping: next steps over CALL, stepIn enters it', async () => {
    await start();
    let stop = stopped();
    await launch({ program: MAIN }, () => dc.setBreakpointsRequest({ source: { path: MAIN_SRC }, breakpoints: [{ line: line('call square') }] }));
    await stop;
    stop = stopped();
    await dc.nextRequest({ threadId: 1 });
    await stop;
    assert.equal((await topFrame()).line, line('mov [result2], rax'));
    assert.equal(await evaluate('rax,d'), '25');
    const bp = await dc.setBreakpointsRequest({ source: { path: MAIN_SRC }, breakpoints: [{ line: line('mov rdi, 5') }, { line: 1 }] });
    assert.equal(bp.body.breakpoints[0].verified, true);
    assert.equal(bp.body.breakpoints[1].line, line('mov rax, 6'), 'a line without code moves to the next line with code');
    // Restart and step into the call.
    stop = stopped();
    await dc.restartRequest({});
    await stop;
    assert.equal((await topFrame()).line, line('mov rdi, 5'));
    stop = stopped();
    await dc.nextRequest({ threadId: 1 });
    await stop;
    stop = stopped();
    await dc.stepInRequest({ threadId: 1 });
    await stop;
    assert.equal((await topFrame()).name, 'square');
  });

  test('conditions, hit conditions and logpoints', async () => {
    await start();
    const logs: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => { if (e.body.output.startsWith('r12=')) logs.push(e.body.output.trim()); });
    let stop = stopped();
    const inc = line('inc r12');
    await launch({ program: MAIN }, () => dc.setBreakpointsRequest({ source: { path: MAIN_SRC }, breakpoints: [{ line: inc, hitCondition: '3' }] }));
    await stop;
    assert.equal(await evaluate('r12'), '0x2');
    // The rest of the loop: a logpoint on `inc r12`, a conditional breakpoint on `dec rcx`.
    const bps = await dc.setBreakpointsRequest({ source: { path: MAIN_SRC }, breakpoints: [
      { line: inc, logMessage: 'r12={r12,d}' }, { line: inc + 1, condition: 'rcx == 1' }, { line: inc, condition: 'rcx ==' }, { line: inc, hitCondition: 'often' }] });
    assert.deepEqual(bps.body.breakpoints.map((b) => b.verified), [true, true, false, false]);
    assert.match(bps.body.breakpoints[2].message!, /condition/);
    stop = stopped();
    await dc.continueRequest({ threadId: 1 });
    await stop;
    assert.equal(await evaluate('r12'), '0x5', 'stopped on the last dec (rcx == 1), after the fifth inc');
    assert.deepEqual(logs, ['r12=3', 'r12=4']);
    await dc.setBreakpointsRequest({ source: { path: MAIN_SRC }, breakpoints: [] });
    const end = runToEnd();
    await dc.continueRequest({ threadId: 1 });
    assert.equal(await end, 3);
  });

  test('data breakpoints on guest memory', async () => {
    await start();
    const stop = stopped();
    await launch({ program: MAIN }, async () => {
      const info = await dc.dataBreakpointInfoRequest({ name: '0x101010', asAddress: true, bytes: 8 } as DebugProtocol.DataBreakpointInfoArguments);
      assert.ok(info.body.dataId);
      assert.deepEqual(info.body.accessTypes, ['read', 'write', 'readWrite']);
      const r = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }, { dataId: 'garbage' }] });
      assert.deepEqual(r.body.breakpoints.map((b) => b.verified), [true, false]);
    });
    const s = await stop;
    assert.equal(s.body.reason, 'data breakpoint');
    assert.equal(await evaluate('qword [watched]'), '0x1234');
  });

  test('pause stops a guest spinning with interrupts off', async () => {
    await start();
    await launch({ program: SPIN });
    await new Promise((r) => setTimeout(r, 150));
    const stop = stopped();
    await dc.pauseRequest({ threadId: 1 });
    const s = await stop;
    assert.equal(s.body.reason, 'pause');
    const pc = BigInt((await topFrame()).instructionPointerReference!);
    assert.ok(pc >= 0x7c00n && pc < 0x7c10n, `pc ${pc.toString(16)} is in the loop`);
    assert.notEqual(await evaluate('ax'), '0x0');
  });

  test('memory read/write (virtual, physical, unreadable) and disassembly', async () => {
    await start();
    const stop = stopped();
    await launch({ program: MAIN, stopOnEntry: true });
    await stop;
    const r = await dc.customRequest('readMemory', { memoryReference: '0x100000', count: 5 });
    assert.equal(Buffer.from(r.body.data, 'base64').toString('hex'), 'b806000000');
    const p = await dc.customRequest('readMemory', { memoryReference: 'phys:0x100000', offset: 1, count: 1 });
    assert.equal(Buffer.from(p.body.data, 'base64').toString('hex'), '06');
    const un = await dc.customRequest('readMemory', { memoryReference: '0x7fff00000000', count: 16 });
    assert.equal(un.body.data, undefined);
    assert.equal(un.body.unreadableBytes, 16);
    const w = await dc.customRequest('writeMemory', { memoryReference: '0x101000', data: Buffer.from([0x11, 0x22]).toString('base64') });
    assert.equal(w.body.bytesWritten, 2);
    assert.equal(await evaluate('word [result]'), '0x2211');
    await assert.rejects(dc.customRequest('writeMemory', { memoryReference: '0x7fff00000000', data: 'AA==' }), /not writable/);
    const d = await dc.disassembleRequest({ memoryReference: '0x100000', instructionCount: 3 });
    assert.deepEqual(d.body!.instructions.map((i) => [i.address, i.instruction]), [['0x100000', 'mov eax, 6'], ['0x100005', 'mov ebx, 7'], ['0x10000a', 'imul rax, rbx']]);
    assert.equal(d.body!.instructions[0].symbol, '_start');
    assert.equal(d.body!.instructions[0].line, line('mov rax, 6'));
    const call = (await dc.disassembleRequest({ memoryReference: '0x100000', instructionCount: 40 })).body!.instructions.find((i) => i.instruction.startsWith('call'))!;
    assert.match(call.instruction, /call square/);
    const back = await dc.disassembleRequest({ memoryReference: '0x10000a', instructionOffset: -2, instructionCount: 3 });
    assert.deepEqual(back.body!.instructions.map((i) => i.address), ['0x100000', '0x100005', '0x10000a']);
    // What VS Code asks on opening the view: the reference stays at index -instructionOffset, padded where memory is unreadable.
    const view = await dc.disassembleRequest({ memoryReference: '0x100000', offset: 0, instructionOffset: -50, instructionCount: 100 });
    assert.equal(view.body!.instructions.length, 100);
    assert.equal(view.body!.instructions[50].address, '0x100000');
    assert.equal(view.body!.instructions[50].instruction, 'mov eax, 6');
  });

  test('malformed requests and launch configurations get errors; the adapter keeps serving', async () => {
    await start();
    await assert.rejects(dc.launchRequest({ program: 'nope.elf' } as DebugProtocol.LaunchRequestArguments), /'program' names a file that does not exist/);
    await assert.rejects(dc.launchRequest({ program: MAIN, processors: 0 } as DebugProtocol.LaunchRequestArguments), /'processors' must be an integer from 1 to 64/);
    await assert.rejects(dc.launchRequest({ program: MAIN, format: 'pe' } as DebugProtocol.LaunchRequestArguments), /'format' must be one of/);
    await assert.rejects(dc.stackTraceRequest({ threadId: 1 }), /no guest is running/);
    await assert.rejects(dc.customRequest('noSuchRequest', {}), /unknown request/);
    await assert.rejects(dc.customRequest('evaluate', [1, 2] as unknown as object), /arguments must be an object/);
    const stop = stopped();
    await launch({ program: MAIN, stopOnEntry: true });
    await stop;
    await assert.rejects(dc.stackTraceRequest({ threadId: 99 }), /no thread 99/);
    await assert.rejects(dc.customRequest('evaluate', { expression: 42 }), /'expression' must be a string/);
    await assert.rejects(dc.variablesRequest({ variablesReference: 12345 }), /not valid/);
    await assert.rejects(dc.customRequest('readMemory', { memoryReference: 'here', count: 4 }), /memoryReference must be an address/);
    await assert.rejects(dc.customRequest('disassemble', { memoryReference: '0x100000', instructionCount: -1 }), /non-negative/);
    await assert.rejects(dc.nextRequest({ threadId: 1, granularity: 'word' as 'line' }), /granularity must be/);
    const ok = await dc.evaluateRequest({ expression: '.stats', context: 'repl' });
    assert.match(ok.body.result, /instructions retired/);
    const comp = await dc.completionsRequest({ text: 'rfl', column: 4 });
    assert.ok(comp.body.targets.some((t) => t.label === 'rflags'));
  });

  test('console commands: page walk, GDT, IDT', async () => {
    await start();
    const stop = stopped();
    await launch({ program: MAIN, stopOnEntry: true });
    await stop;
    const pt = (await dc.evaluateRequest({ expression: '.pt 0x100000', context: 'repl' })).body.result;
    assert.match(pt, /→ physical 0x100000/);
    const gdt = (await dc.evaluateRequest({ expression: '.gdt', context: 'repl' })).body.result;
    assert.match(gdt, /code 64-bit/);
    await assert.rejects(dc.evaluateRequest({ expression: '.nosuch', context: 'repl' }), /unknown command/);
  });
});

test('a client that goes away ends the adapter process', async () => {
  const child = spawn(process.execPath, [ADAPTER], { stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  child.stdin!.end();
  assert.equal(await exited, 0);
});

test('--server serves several sessions one after another on 127.0.0.1', async () => {
  const child = spawn(process.execPath, [ADAPTER, '--server=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const port = await serverPort(child);
    for (let i = 0; i < 2; i++) {
      dc = new DebugClient('node', ADAPTER, 'vpdbg');
      await dc.start(port);
      await dc.initializeRequest({ adapterID: 'vpdbg' });
      const stop = stopped();
      await launch({ program: MAIN, stopOnEntry: true });
      await stop;
      await dc.disconnectRequest({});
      await dc.stop();
    }
    dc = undefined as unknown as DebugClient;
  } finally {
    child.kill();
  }
});
