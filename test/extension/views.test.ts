import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeHost } from './fakeHost';
import { ExitHistory, exitDocument, MAX_EXITS } from '../../src/extension/exitHistory';
import { SessionWatcher } from '../../src/extension/sessionWatcher';
import { statusText } from '../../src/extension/statusText';
import { breakOnExitReasonCommand, mergeExitBreakpoints, savedExitBreakpoints, STATE_KEY } from '../../src/extension/exitBreakpoints';
import { setNumberFormat } from '../../src/extension/numberFormat';
import { exitReasons } from '../../src/extension/exitReasons';

const io = { type: 'event', event: 'vpdbg.exit', body: { vp: 0, reason: 'X64IoPortAccess', reasonCode: 2, description: 'X64IoPortAccess: OUT 0x3F8 ← 0x48 (1 byte)', rip: '0x100010', instruction: 'out dx,al', instructionBytes: 'ee', mode: 'long', stopped: true, context: { IoPortAccess: { PortNumber: 0x3f8, AccessInfo: { IsWrite: true, AccessSize: 1 } } } } };
const hlt = { type: 'event', event: 'vpdbg.exit', body: { vp: 0, reason: 'X64Halt', description: 'X64Halt: HLT at RIP 0x100030', rip: '0x100030', stopped: true } };

test('exit events build the history: newest first, counts per reason, decoded fields', () => {
  const history = new ExitHistory();
  const watcher = new SessionWatcher(history);
  watcher.handle(io); watcher.handle({ type: 'event', event: 'continued', body: {} });
  watcher.handle(io); watcher.handle(hlt);
  const roots = history.children();
  assert.equal(roots.length, 4);
  assert.deepEqual(history.item(roots[0]), { label: '3 exits', description: 'counts per reason', collapsible: 'expanded', icon: 'graph', contextValue: 'summary' });
  const counts = history.children(roots[0]).map((n) => history.item(n));
  assert.deepEqual(counts.map((c) => [c.label, c.description]), [['I/O port access (IN/OUT)', '×2'], ['HLT', '×1']]);
  const newest = history.item(roots[1]);
  assert.equal(newest.label, '#2 HLT');
  assert.equal(newest.reveal?.reason, 'X64Halt');
  const ioItem = history.item(roots[2]);
  assert.equal(ioItem.description, 'OUT 0x3F8 ← 0x48 (1 byte) @ 0x100010');
  const fields = history.children(roots[2]).map((n) => history.item(n));
  assert.deepEqual(fields.slice(0, 3).map((f) => [f.label, f.description]), [['instruction', 'out dx,al   (ee)'], ['rip', '0x100010'], ['vp', '0']]);
  const ctx = history.children(roots[2]).find((n) => n.kind === 'field' && n.label === 'IoPortAccess')!;
  const port = history.children(ctx).map((n) => history.item(n)).find((f) => f.label === 'PortNumber');
  assert.equal(port?.description, '0x3f8 (1016)');
  const byReason = history.children(history.children(roots[0])[0]);
  assert.equal(byReason.length, 2);
  assert.match(exitDocument(roots[2].kind === 'exit' ? roots[2].record : ({} as never)), /Exit #1: I\/O port access .*\n.*OUT 0x3F8[\s\S]*instruction: 0x100010  out dx,al   ; ee[\s\S]*"PortNumber": 1016/);
});

test('a stop without a vpdbg.exit event is still recorded from the stopped event', () => {
  const history = new ExitHistory();
  const watcher = new SessionWatcher(history);
  watcher.handle({ type: 'event', event: 'stopped', body: { reason: 'exception', text: 'X64Cpuid', description: 'CPUID leaf 0x0', threadId: 1 } });
  assert.equal(history.size, 1);
  assert.deepEqual(history.last, { reason: 'X64Cpuid', description: 'CPUID leaf 0x0', stopped: true, vp: 0, index: 0 });
  watcher.handle(io); // the adapter did send the detail: no duplicate after its own stop
  watcher.handle({ type: 'event', event: 'stopped', body: { reason: 'exception', text: 'X64IoPortAccess' } });
  assert.equal(history.size, 2);
  watcher.handle({ type: 'event', event: 'stopped', body: { reason: 'step' } });
  assert.equal(history.size, 2, 'a step is not an exit');
});

test('the adapter\'s history replaces the local one, and the history is bounded', () => {
  const history = new ExitHistory();
  history.add(io.body);
  history.replace({ exits: [hlt.body], counts: { X64Halt: 1, X64IoPortAccess: 500 } });
  assert.equal(history.size, 1);
  assert.equal(history.countOf('X64IoPortAccess'), 500, 'counts include exits the adapter did not report');
  for (let i = 0; i < MAX_EXITS + 5; i++) history.add(hlt.body);
  assert.equal(history.size, MAX_EXITS);
  assert.equal(history.countOf('X64Halt'), MAX_EXITS + 6);
});

test('the status bar shows VP, mode and last exit', () => {
  const history = new ExitHistory();
  const watcher = new SessionWatcher(history);
  assert.equal(statusText(watcher.status, history.last).text, '$(chip) VP');
  watcher.handle({ type: 'event', event: 'vpdbg.status', body: { vp: 0, mode: 'long64', cpl: 0, running: true } });
  assert.equal(statusText(watcher.status, history.last).text, '$(chip) VP0 64-bit long mode (running)');
  watcher.handle(io);
  watcher.handle({ type: 'event', event: 'stopped', body: { reason: 'exception' } });
  const s = statusText(watcher.status, history.last);
  assert.equal(s.text, '$(chip) VP0 long mode · I/O port access (IN/OUT)', 'the exit says which mode it happened in');
  assert.match(s.tooltip, /CPL 0[\s\S]*Last exit: X64IoPortAccess: OUT 0x3F8 ← 0x48 \(1 byte\) at 0x100010/);
});

test('Break on Exit Reason…: picks, conditions, saved state and the custom request', async () => {
  const host = new FakeHost();
  const io = exitReasons.find((r) => r.id === 'X64IoPortAccess')!;
  const halt = exitReasons.find((r) => r.id === 'X64Halt')!;
  host.pickLabels = [io.label, halt.label];
  host.inputs = ['PortNumber == 0x3f8 && AccessInfo.IsWrite', '  '];
  await breakOnExitReasonCommand(host);
  const want = { filters: [], filterOptions: [{ filterId: 'X64IoPortAccess', condition: 'PortNumber == 0x3f8 && AccessInfo.IsWrite' }, { filterId: 'X64Halt' }] };
  assert.deepEqual(host.state.get(STATE_KEY), want);
  assert.match(host.infos[0], /2 exit breakpoint\(s\) saved; they apply when the next session starts/);
  assert.equal(host.prompts[0].placeHolder, io.conditionExample);

  // With a session: the prompt starts from the saved condition, the request carries the choice.
  host.startSession();
  host.pickLabels = [io.label];
  host.inputs = ['PortNumber == 0x80'];
  await breakOnExitReasonCommand(host);
  assert.equal(host.prompts[2].value, 'PortNumber == 0x3f8 && AccessInfo.IsWrite');
  assert.deepEqual(host.requests, [{ command: 'vpdbg.setExitBreakpoints', args: { filters: [], filterOptions: [{ filterId: 'X64IoPortAccess', condition: 'PortNumber == 0x80' }] } }]);
  assert.deepEqual(host.errors, []);

  // The adapter refuses a bad condition: the user is told which and why.
  host.requestReply = () => ({ breakpoints: [{ verified: false, message: 'unknown field Prot' }] });
  host.pickLabels = [io.label];
  host.inputs = ['Prot == 1'];
  await breakOnExitReasonCommand(host);
  assert.match(host.errors[0], /X64IoPortAccess: unknown field Prot/);

  // Escape on a condition cancels without touching the saved setting.
  const before = savedExitBreakpoints(host);
  host.pickLabels = [io.label];
  host.inputs = [undefined];
  await breakOnExitReasonCommand(host);
  assert.deepEqual(savedExitBreakpoints(host), before);
});

test('the hex/decimal toggle asks the adapter and flips the menu context', async () => {
  const host = new FakeHost();
  assert.equal(await setNumberFormat(host, false), false, 'no session: nothing to do');
  host.startSession();
  assert.equal(await setNumberFormat(host, false), true);
  assert.deepEqual(host.requests, [{ command: 'vpdbg.setNumberFormat', args: { hex: false } }]);
  assert.equal(host.contexts.get('vpdbg.decimal'), true);
  host.requestReply = () => { throw new Error('unrecognized request'); };
  assert.equal(await setNumberFormat(host, true), false);
  assert.equal(host.contexts.get('vpdbg.decimal'), true, 'unchanged when the adapter refuses');
  assert.match(host.errors[0], /unrecognized request/);
});

test('the picker\'s set is merged with the BREAKPOINTS view\'s: either side enables, conditions OR, unconditional wins', async () => {
  const ui = { filters: ['Exception', 'X64Halt'], filterOptions: [{ filterId: 'X64Cpuid', condition: 'Rax == 1' }, { filterId: 'X64MsrAccess', condition: 'MsrNumber == 0x10' }] };
  const mine = { filters: [], filterOptions: [{ filterId: 'X64Cpuid', condition: 'Rax == 0x40000000' }, { filterId: 'X64Halt', condition: 'Rip == 0' }, { filterId: 'X64IoPortAccess' }] };
  assert.deepEqual(mergeExitBreakpoints(ui, mine), { filters: [], filterOptions: [
    { filterId: 'Exception' },
    { filterId: 'X64Halt' },
    { filterId: 'X64Cpuid', condition: '(Rax == 1) || (Rax == 0x40000000)' },
    { filterId: 'X64MsrAccess', condition: 'MsrNumber == 0x10' },
    { filterId: 'X64IoPortAccess' },
  ] });
  assert.deepEqual(mergeExitBreakpoints(undefined, mine).filterOptions.map((o) => o.filterId), ['X64Cpuid', 'X64Halt', 'X64IoPortAccess']);

  // Through the command: the request carries the union; a refusal names the right filter.
  const host = new FakeHost();
  host.startSession();
  host.requestReply = () => ({ breakpoints: [{ verified: true }, { verified: false, message: 'condition: unexpected end' }] });
  host.pickLabels = [exitReasons.find((r) => r.id === 'X64IoPortAccess')!.label];
  host.inputs = ['PortNumber =='];
  await breakOnExitReasonCommand(host, () => ({ filters: ['Exception'], filterOptions: [] }));
  assert.deepEqual(host.requests[0].args, { filters: [], filterOptions: [{ filterId: 'Exception' }, { filterId: 'X64IoPortAccess', condition: 'PortNumber ==' }] });
  assert.match(host.errors[0], /X64IoPortAccess: condition: unexpected end/);
});
