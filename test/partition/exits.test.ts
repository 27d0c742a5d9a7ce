// Every exit reason triggered by a small 64-bit snippet, with every field of the context checked
// and the context round-tripped through its 224-byte encoding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Partition } from '../../src/partition/partition';
import { HvRegisterName as R, WhvRunVpExitReason as X, WhvMapGpaRangeFlags as F, HvMessageType } from '../../src/partition/hvdef';
import { encodeRunVpExitContext, decodeRunVpExitContext, type RunVpExitContext } from '../../src/partition/exitContext';
import { u64Value, segmentValue } from '../../src/partition/registerValue';
import { encodeHvMessage, decodeHvMessage } from '../../src/partition/interceptMessage';
import { Cpu } from '../../src/emulator/cpu';
import { CODE, CODE64, STACK_TOP, longModePartition, setRegs, getReg, installGate } from './harness';

function run(p: Partition, budget = 10_000): RunVpExitContext {
  const c = p.runVirtualProcessor(0, { instructionBudget: budget });
  assert.deepEqual(decodeRunVpExitContext(encodeRunVpExitContext(c)), c, 'exit context survives its binary encoding');
  const m = p.interceptMessage(0, c);
  if (m) assert.deepEqual(decodeHvMessage(encodeHvMessage(m)), m, 'intercept message survives its binary encoding');
  return c;
}

/** The VpContext every snippet exit shares: ring 0, CR0.PE, EFER.LMA, 64-bit CS 0x08. */
function assertVpContext(c: RunVpExitContext, rip: number, length: number, interruptionPending = false): void {
  const v = c.VpContext;
  assert.deepEqual(v.ExecutionState, { Cpl: 0, Cr0Pe: true, Cr0Am: false, EferLma: true, DebugActive: false, InterruptionPending: interruptionPending, InterruptShadow: false, AsUINT16: interruptionPending ? 0x54 : 0x14 });
  assert.equal(v.InstructionLength, length);
  assert.equal(v.Cr8, 0);
  assert.equal(v.Cs.Selector, 0x08);
  assert.equal(v.Cs.Attributes, 0xA09B);
  assert.equal(v.Cs.Long, true);
  assert.equal(v.Rip, BigInt(rip));
  assert.equal(v.Rflags & ~0x8D5n, 2n); // arithmetic flags aside, only the fixed bit
}

test('X64IoPortAccess: OUT, IN and REP OUTSB with every field; completion supplies the IN value', () => {
  // mov dx,0x3f8; mov al,0x41; out dx,al; in ax,dx; mov ecx,2; lea rsi,[rel data]; rep outsb; hlt; data: db 'h','i'
  const p = longModePartition([0x66, 0xBA, 0xF8, 0x03, 0xB0, 0x41, 0xEE, 0x66, 0xED, 0xB9, 0x02, 0x00, 0x00, 0x00, 0x48, 0x8D, 0x35, 0x03, 0x00, 0x00, 0x00, 0xF3, 0x6E, 0xF4, 0x68, 0x69]);
  let c = run(p);
  assert.equal(c.ExitReason, X.X64IoPortAccess);
  assertVpContext(c, CODE + 6, 1);
  const io = c.IoPortAccess!;
  assert.deepEqual({ ...io.AccessInfo }, { IsWrite: true, AccessSize: 1, StringOp: false, RepPrefix: false, AsUINT32: 0x3 });
  assert.equal(io.PortNumber, 0x3F8);
  assert.equal(io.Rax & 0xFFn, 0x41n);
  assert.equal(io.InstructionByteCount, 0);
  assert.equal(io.Ds.Selector, 0x10);
  assert.equal(io.Es.Selector, 0x10);
  assert.deepEqual(p.getPendingAccess(0), { kind: 'io', port: 0x3F8, size: 1, isWrite: true, value: 0x41 });
  const msg = p.interceptMessage(0, c)!;
  assert.equal(msg.MessageType, HvMessageType.X64IoPortIntercept);
  p.completeIoPortAccess(0);

  c = run(p);
  assert.equal(c.ExitReason, X.X64IoPortAccess);
  assertVpContext(c, CODE + 7, 2);
  assert.deepEqual({ ...c.IoPortAccess!.AccessInfo }, { IsWrite: false, AccessSize: 2, StringOp: false, RepPrefix: false, AsUINT32: 0x4 });
  p.completeIoPortAccess(0, 0xBEEF);
  assert.equal(getReg(p, R.Rax) & 0xFFFFn, 0xBEEFn);

  const seen: number[] = [];
  for (let i = 0; i < 2; i++) {
    c = run(p);
    assert.equal(c.ExitReason, X.X64IoPortAccess);
    const s = c.IoPortAccess!;
    assert.deepEqual({ ...s.AccessInfo }, { IsWrite: true, AccessSize: 1, StringOp: true, RepPrefix: true, AsUINT32: 0x33 });
    assert.equal(s.InstructionByteCount, 2);
    assert.deepEqual([...s.InstructionBytes.subarray(0, 2)], [0xF3, 0x6E]);
    assert.equal(s.Rcx, BigInt(2 - i));
    assert.equal(s.Rsi, BigInt(CODE + 24 + i));
    seen.push((p.getPendingAccess(0) as { value: number }).value);
    p.completeIoPortAccess(0);
  }
  assert.deepEqual(seen, [0x68, 0x69]);
  assert.equal(run(p).ExitReason, X.X64Halt);
});

test('MemoryAccess: unmapped GPA write, ROM write (mapped, not writable), MMIO read completion', () => {
  // mov rbx,0xFEE00300; mov [rbx],eax; mov rbx,0x900000; mov [rbx],eax; mov eax,[rbx+8]? (ROM read is allowed) ; mov rbx,0xFEC00000; mov eax,[rbx]; hlt
  const code = [0x48, 0xBB, 0x00, 0x03, 0xE0, 0xFE, 0, 0, 0, 0, 0x89, 0x03,
    0x48, 0xBB, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0x89, 0x03,
    0x48, 0xBB, 0x00, 0x00, 0xC0, 0xFE, 0, 0, 0, 0, 0x8B, 0x03, 0xF4];
  const p = longModePartition(code);
  p.mapRom(0x1000000, new Uint8Array(4096).fill(0xAA));
  setRegs(p, [[R.Rax, u64Value(0x12345678)]]);
  let c = run(p);
  assert.equal(c.ExitReason, X.MemoryAccess);
  assertVpContext(c, CODE + 10, 2);
  assert.deepEqual(c.MemoryAccess, {
    InstructionByteCount: 2, InstructionBytes: Uint8Array.from([0x89, 0x03, ...new Array(14).fill(0)]),
    AccessInfo: { AccessType: 1, GpaUnmapped: true, GvaValid: true, AsUINT32: 0xD }, Gpa: 0xFEE00300n, Gva: 0xFEE00300n,
  });
  assert.deepEqual(p.getPendingAccess(0), { kind: 'mmio', gpa: 0xFEE00300, size: 4, isWrite: true, data: Uint8Array.from([0x78, 0x56, 0x34, 0x12]) });
  assert.equal(p.interceptMessage(0, c)!.MessageType, HvMessageType.UnmappedGpa);
  p.completeMemoryAccess(0);

  c = run(p);
  assert.equal(c.ExitReason, X.MemoryAccess);
  assert.equal(c.MemoryAccess!.AccessInfo.GpaUnmapped, false, 'the ROM is mapped; its permissions forbid the write');
  assert.equal(c.MemoryAccess!.Gpa, 0x1000000n);
  assert.equal(p.interceptMessage(0, c)!.MessageType, HvMessageType.GpaIntercept);
  p.skipInstruction(0);

  c = run(p);
  assert.equal(c.MemoryAccess!.AccessInfo.AccessType, 0);
  assert.equal(c.MemoryAccess!.Gpa, 0xFEC00000n);
  p.completeMemoryAccess(0, Uint8Array.from([1, 2, 3, 4]));
  assert.equal(run(p).ExitReason, X.X64Halt);
  assert.equal(getReg(p, R.Rax), 0x04030201n);
});

test('an 8-byte MMIO read exits once with size 8 and completes with all 8 bytes; an 8-byte write likewise', () => {
  // mov rbx,0xFEC00000; mov rax,[rbx]; mov [rbx+8],rax; hlt
  const code = [0x48, 0xBB, 0x00, 0x00, 0xC0, 0xFE, 0, 0, 0, 0, 0x48, 0x8B, 0x03, 0x48, 0x89, 0x43, 0x08, 0xF4];
  for (const jit of [false, true]) {
    const p = longModePartition(code);
    (p.virtualProcessor(0).cpu as Cpu).jitThreshold = jit ? 0 : -1;
    let c = run(p);
    assert.equal(c.ExitReason, X.MemoryAccess);
    assert.deepEqual(p.getPendingAccess(0), { kind: 'mmio', gpa: 0xFEC00000, size: 8, isWrite: false, data: new Uint8Array(0) });
    p.completeMemoryAccess(0, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    c = run(p);
    assert.equal(getReg(p, R.Rax), 0x0807060504030201n);
    assert.deepEqual(p.getPendingAccess(0), { kind: 'mmio', gpa: 0xFEC00008, size: 8, isWrite: true, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) });
    p.completeMemoryAccess(0);
    assert.equal(run(p).ExitReason, X.X64Halt);
  }
});

test('X64MsrAccess: listed MSR exits with Rax/Rdx; completion returns EDX:EAX; unknown MSRs exit only when enabled', () => {
  // mov ecx,0xC0000080; rdmsr; mov ecx,0x1234; mov eax,5; xor edx,edx; wrmsr; hlt
  const code = [0xB9, 0x80, 0x00, 0x00, 0xC0, 0x0F, 0x32, 0xB9, 0x34, 0x12, 0, 0, 0xB8, 5, 0, 0, 0, 0x31, 0xD2, 0x0F, 0x30, 0xF4];
  const p = longModePartition(code, { extendedVmExits: { msr: true }, msrExits: [0xC0000080] });
  setRegs(p, [[R.Rdx, u64Value(0)]]);
  let c = run(p);
  assert.equal(c.ExitReason, X.X64MsrAccess);
  assertVpContext(c, CODE + 5, 2);
  assert.deepEqual(c.MsrAccess, { AccessInfo: { IsWrite: false, AsUINT32: 0 }, MsrNumber: 0xC0000080, Rax: 0n, Rdx: 0n });
  p.completeMsrAccess(0, 0x1_0000_0D01n);
  assert.equal(getReg(p, R.Rax), 0xD01n);
  assert.equal(getReg(p, R.Rdx), 1n);
  c = run(p);
  assert.equal(c.ExitReason, X.X64MsrAccess);
  assert.deepEqual(c.MsrAccess, { AccessInfo: { IsWrite: true, AsUINT32: 1 }, MsrNumber: 0x1234, Rax: 5n, Rdx: 0n });
  assert.deepEqual(p.getPendingAccess(0), { kind: 'msr', index: 0x1234, isWrite: true, value: 5n });
  p.completeMsrAccess(0);
  assert.equal(run(p).ExitReason, X.X64Halt);
});

test('MSR exits off: an unknown MSR gets #GP(0) injected by the partition; synthetic MSRs are answered', () => {
  // mov ecx,0x40000002; rdmsr (VP index: answered); mov ecx,0x1234; rdmsr (#GP) ... handler at +0x100: hlt
  const code = [0xB9, 0x02, 0x00, 0x00, 0x40, 0x0F, 0x32, 0xB9, 0x34, 0x12, 0, 0, 0x0F, 0x32];
  const p = longModePartition([...code, ...new Array(0x100 - code.length).fill(0x90), 0xF4]);
  installGate(p, 13, CODE + 0x100);
  setRegs(p, [[R.Rax, u64Value(0xFFFF)]]);
  const c = run(p);
  assert.equal(c.ExitReason, X.X64Halt);
  assert.equal(c.VpContext.Rip, BigInt(CODE + 0x101), 'the #GP handler ran');
  assert.equal(getReg(p, R.Rax), 0n, 'VP_INDEX MSR read 0');
  const frame = new Uint8Array(16);
  p.memory.read(STACK_TOP - 48, frame);
  assert.deepEqual([...frame.subarray(0, 8)], [0, 0, 0, 0, 0, 0, 0, 0], 'error code 0');
  assert.equal(new DataView(frame.buffer).getBigUint64(8, true), BigInt(CODE + 12), 'faulting RIP = the RDMSR');
});

test('X64Cpuid: a listed leaf exits with the partition default; others are answered without an exit', () => {
  // mov eax,1; cpuid; mov r9d,ecx; xor ecx,ecx; mov eax,0x40000000; cpuid; hlt
  const code = [0xB8, 1, 0, 0, 0, 0x0F, 0xA2, 0x41, 0x89, 0xC9, 0x31, 0xC9, 0xB8, 0, 0, 0, 0x40, 0x0F, 0xA2, 0xF4];
  const p = longModePartition(code, { extendedVmExits: { cpuid: true }, cpuidExitLeaves: [0x40000000] });
  const c = run(p);
  assert.equal(c.ExitReason, X.X64Cpuid);
  assertVpContext(c, CODE + 17, 2);
  assert.equal((getReg(p, R.R9) >> 31n) & 1n, 1n, 'leaf 1 (answered by the partition) has the hypervisor-present bit');
  assert.deepEqual({ ...c.CpuidAccess!, Rdx: 0n, Rbx: 0n }, {
    Rax: 0x40000000n, Rcx: 0n, Rdx: 0n, Rbx: 0n,
    DefaultResultRax: 0x40000006n, DefaultResultRcx: 0x666F736Fn, DefaultResultRdx: 0x76482074n, DefaultResultRbx: 0x7263694Dn,
  });
  p.completeCpuid(0, { eax: 1, ebx: 2, ecx: 3, edx: 4 });
  assert.equal(run(p).ExitReason, X.X64Halt);
  assert.deepEqual([R.Rax, R.Rbx, R.Rcx, R.Rdx].map((r) => getReg(p, r)), [1n, 2n, 3n, 4n]);
});

test('CPUID overrides (CpuidResultList) win over the CPU and hypervisor leaves; default completion uses them', () => {
  // mov eax,0x40000001; cpuid; mov eax,0; cpuid; hlt
  const p = longModePartition([0xB8, 1, 0, 0, 0x40, 0x0F, 0xA2, 0x41, 0x89, 0xC0, 0xB8, 0, 0, 0, 0, 0x0F, 0xA2, 0xF4], {
    cpuidResults: [{ Function: 0, Eax: 7, Ebx: 0x756E6547, Ecx: 0x6C65746E, Edx: 0x49656E69 }],
    extendedVmExits: { cpuid: true }, cpuidExitLeaves: [0],
  });
  const c = run(p);
  assert.equal(getReg(p, R.R8), 0x31237648n, 'leaf 0x40000001 = "Hv#1"');
  assert.equal(c.CpuidAccess!.DefaultResultRax, 7n);
  p.completeCpuid(0);
  run(p);
  assert.equal(getReg(p, R.Rax), 7n);
  assert.equal(getReg(p, R.Rbx), 0x756E6547n);
});

test('Exception: #UD and #PF (error code, CR2 parameter) exit before delivery and stay pending until cleared', () => {
  // ud2; mov rbx,0x100000000; mov eax,[rbx]
  const p = longModePartition([0x0F, 0x0B, 0x48, 0xBB, 0, 0, 0, 0, 1, 0, 0, 0, 0x8B, 0x03], { extendedVmExits: { exception: true }, exceptionExitBitmap: (1 << 6) | (1 << 14) });
  let c = run(p);
  assert.equal(c.ExitReason, X.Exception);
  // The exception stays pending (delivered on resume) until the VMM clears it: InterruptionPending is set.
  assertVpContext(c, CODE, 2, true);
  assert.deepEqual(c.VpException, {
    InstructionByteCount: 2, InstructionBytes: Uint8Array.from([0x0F, 0x0B, ...new Array(14).fill(0)]),
    ExceptionInfo: { ErrorCodeValid: false, SoftwareException: false, AsUINT32: 0 }, ExceptionType: 6, ErrorCode: 0, ExceptionParameter: 0n,
  });
  assert.equal(getReg(p, R.PendingInterruption), 0x0006_0007n, 'pending, hardware exception, vector 6');
  p.clearPendingException(0);
  assert.equal(getReg(p, R.PendingInterruption), 0n);
  setRegs(p, [[R.Rip, u64Value(CODE + 2)]]);
  c = run(p);
  assert.equal(c.ExitReason, X.Exception);
  assertVpContext(c, CODE + 12, 2, true);
  assert.deepEqual({ ...c.VpException!, InstructionBytes: undefined }, {
    InstructionByteCount: 2, InstructionBytes: undefined,
    ExceptionInfo: { ErrorCodeValid: true, SoftwareException: false, AsUINT32: 1 }, ExceptionType: 14, ErrorCode: 0, ExceptionParameter: 0x1_0000_0000n,
  });
  const m = p.interceptMessage(0, c)!;
  assert.equal(m.MessageType, HvMessageType.ExceptionIntercept);
  assert.equal((m.Payload as { Rbx: bigint }).Rbx, 0x1_0000_0000n);
});

test('Exception: INT3 is a software #BP; dropping it and skipping the INT3 resumes after it', () => {
  const p = longModePartition([0xCC, 0xF4], { extendedVmExits: { exception: true }, exceptionExitBitmap: 1 << 3 });
  const c = run(p);
  assert.equal(c.ExitReason, X.Exception);
  assertVpContext(c, CODE, 1, true);
  assert.deepEqual(c.VpException, {
    InstructionByteCount: 1, InstructionBytes: Uint8Array.from([0xCC, ...new Array(15).fill(0)]),
    ExceptionInfo: { ErrorCodeValid: false, SoftwareException: true, AsUINT32: 2 }, ExceptionType: 3, ErrorCode: 0, ExceptionParameter: 0n,
  });
  assert.equal((p.interceptMessage(0, c)!.Payload as { ExceptionInfo: { SoftwareException: boolean } }).ExceptionInfo.SoftwareException, true);
  p.clearPendingException(0);
  p.skipInstruction(0);
  const h = run(p);
  assert.equal(h.ExitReason, X.X64Halt);
  assert.equal(h.VpContext.Rip, BigInt(CODE + 2));
});

test('X64Halt: RIP is past the HLT; InstructionLength 1', () => {
  const p = longModePartition([0x90, 0xF4]);
  const c = run(p);
  assert.equal(c.ExitReason, X.X64Halt);
  assertVpContext(c, CODE + 2, 1);
  assert.equal(p.interceptMessage(0, c)!.MessageType, HvMessageType.X64Halt);
});

test('X64Rdtsc: RDTSC and RDTSCP with TSC, TSC_AUX, reference time; completion writes EDX:EAX (and ECX)', () => {
  // rdtsc; rdtscp; hlt
  const p = longModePartition([0x0F, 0x31, 0x0F, 0x01, 0xF9, 0xF4], { extendedVmExits: { rdtsc: true } });
  let c = run(p);
  assert.equal(c.ExitReason, X.X64Rdtsc);
  assertVpContext(c, CODE, 2);
  const r = c.ReadTsc!;
  assert.equal(r.RdtscInfo.IsRdtscp, false);
  assert.equal(r.VirtualOffset, 0n);
  assert.equal(r.ReferenceTime, r.Tsc / 100n);
  p.completeRdtsc(0, 0x1_2345_6789n);
  assert.equal(getReg(p, R.Rax), 0x2345_6789n);
  assert.equal(getReg(p, R.Rdx), 1n);
  c = run(p);
  assert.equal(c.ReadTsc!.RdtscInfo.IsRdtscp, true);
  assertVpContext(c, CODE + 2, 3);
  p.completeRdtsc(0, 5n, 9n);
  assert.equal(getReg(p, R.Rcx), 9n);
  assert.equal(run(p).ExitReason, X.X64Halt);
});

test('Hypercall exit (HypercallExit on): registers in the context; completion sets RAX and retires the VMCALL', () => {
  // vmcall; hlt
  const p = longModePartition([0x0F, 0x01, 0xC1, 0xF4], { extendedVmExits: { hypercall: true } });
  setRegs(p, [[R.Rcx, u64Value(0x1_0000_0050n)], [R.Rdx, u64Value(0x3000)], [R.R8, u64Value(0x4000)], [R.Xmm2, u64Value(0x77)]]);
  const c = run(p);
  assert.equal(c.ExitReason, X.Hypercall);
  assertVpContext(c, CODE, 3);
  const h = c.Hypercall!;
  assert.deepEqual([h.Rcx, h.Rdx, h.R8, h.XmmRegisters[2].Low64], [0x1_0000_0050n, 0x3000n, 0x4000n, 0x77n]);
  assert.equal(p.interceptMessage(0, c)!.MessageType, HvMessageType.HypercallIntercept);
  p.completeHypercall(0, 0x2n);
  assert.equal(run(p).ExitReason, X.X64Halt);
  assert.equal(getReg(p, R.Rax), 2n);
});

test('X64ApicEoi: with the exit on, an xAPIC EOI write is claimed, performed by the APIC model and reported', () => {
  // mov rbx,0xFEE000B0; mov dword [rbx],0; hlt
  const p = longModePartition([0x48, 0xBB, 0xB0, 0x00, 0xE0, 0xFE, 0, 0, 0, 0, 0xC7, 0x03, 0, 0, 0, 0, 0xF4], { extendedVmExits: { apicEoi: true } });
  let eois = 0;
  p.setInterruptController(0, undefined, { eoi: () => { eois++; return 0x31; } });
  const c = run(p);
  assert.equal(c.ExitReason, X.X64ApicEoi);
  assertVpContext(c, CODE + 10, 6);
  assert.deepEqual(c.ApicEoi, { InterruptVector: 0x31 });
  assert.equal(eois, 1);
  assert.equal(run(p).ExitReason, X.X64Halt, 'the EOI write was completed by the partition');
});

test('X64ApicEoi through the x2APIC EOI MSR (0x80B); without the exit the MSR is unknown (#GP)', () => {
  // mov ecx,0x80B; xor eax,eax; xor edx,edx; wrmsr; hlt
  const code = [0xB9, 0x0B, 0x08, 0, 0, 0x31, 0xC0, 0x31, 0xD2, 0x0F, 0x30, 0xF4];
  const p = longModePartition(code, { extendedVmExits: { apicEoi: true } });
  p.setInterruptController(0, undefined, { eoi: () => 0x41 });
  const c = run(p);
  assert.equal(c.ExitReason, X.X64ApicEoi);
  assertVpContext(c, CODE + 9, 2);
  assert.deepEqual(c.ApicEoi, { InterruptVector: 0x41 });
  assert.equal(run(p).ExitReason, X.X64Halt);
  const q = longModePartition([...code.slice(0, 11), ...new Array(0x100 - 11).fill(0x90), 0xF4]);
  installGate(q, 13, CODE + 0x100);
  const g = run(q);
  assert.equal(g.ExitReason, X.X64Halt);
  assert.equal(g.VpContext.Rip, BigInt(CODE + 0x101), 'the #GP handler ran');
});

test('X64InterruptWindow: DeliverabilityNotifications.InterruptNotification asks for one exit when IF=1', () => {
  const p = longModePartition([0x90, 0x90, 0xF4]);
  setRegs(p, [[R.Rflags, u64Value(0x202)], [R.DeliverabilityNotifications, u64Value(2)]]);
  const c = run(p);
  assert.equal(c.ExitReason, X.X64InterruptWindow);
  assert.deepEqual(c.InterruptWindow, { DeliverableType: 0 });
  assert.equal(getReg(p, R.DeliverabilityNotifications), 0n, 'the notification is one-shot');
  assert.equal(run(p).ExitReason, X.X64Halt);
});

test('UnrecoverableException: a triple fault (empty IDT) ends the VP', () => {
  const p = longModePartition([0x0F, 0x0B]); // ud2
  setRegs(p, [[R.Idtr, new Uint8Array(16)]]);
  const c = run(p);
  assert.equal(c.ExitReason, X.UnrecoverableException);
  assert.equal(p.interceptMessage(0, c)!.MessageType, HvMessageType.UnrecoverableException);
});

test('InvalidVpRegisterValue: CS with both L and D in long mode is refused at run time', () => {
  const p = longModePartition([0xF4]);
  setRegs(p, [[R.Cs, segmentValue({ ...CODE64, attributes: 0xE09B })]]);
  const c = run(p);
  assert.equal(c.ExitReason, X.InvalidVpRegisterValue);
  assert.equal(p.virtualProcessor(0).invalidStateReason, 'CS.L and CS.D are both set in long mode');
  setRegs(p, [[R.Cs, segmentValue(CODE64)]]);
  assert.equal(run(p).ExitReason, X.X64Halt);
});

test('UnsupportedFeature: page tables in unmapped GPA space', () => {
  const p = longModePartition([0xF4]);
  setRegs(p, [[R.Cr3, u64Value(0x4000_0000)]]);
  const c = run(p);
  assert.equal(c.ExitReason, X.UnsupportedFeature);
  assert.deepEqual(c.UnsupportedFeature, { FeatureCode: 1, FeatureParameter: 0n });
});

test('None after the instruction budget; Canceled before and during a run', () => {
  const p = longModePartition([0xEB, 0xFE]); // jmp $
  let c = run(p, 50);
  assert.equal(c.ExitReason, X.None);
  assertVpContext(c, CODE, 0);
  p.cancelRunVirtualProcessor(0);
  c = run(p);
  assert.equal(c.ExitReason, X.Canceled);
  assert.deepEqual(c.CancelReason, { CancelReason: 0 });
  // A cancel raised while the VP runs (here from the interrupt controller's poll) ends the run
  // promptly. The run loop polls between blocks; translated regions do not (vcpu.ts,
  // InterruptSource), so this part runs interpreted.
  (p.virtualProcessor(0).cpu as Cpu).jitThreshold = -1;
  let polls = 0;
  p.setInterruptController(0, { pendingVector: () => { if (++polls === 3) p.cancelRunVirtualProcessor(0); return -1; }, acknowledge: () => -1 });
  setRegs(p, [[R.Rflags, u64Value(0x202)]]);
  c = run(p, 1_000_000);
  assert.equal(c.ExitReason, X.Canceled);
  assert.ok(p.virtualProcessor(0).cpu.instructionCount < 1_000_000);
});

test('vpdbg exits: instruction breakpoint, watchpoint, internal error', () => {
  // nop; mov [rbx],eax (rbx=0x5000); hlt
  const p = longModePartition([0x90, 0x89, 0x03, 0xF4]);
  setRegs(p, [[R.Rbx, u64Value(0x5000)]]);
  p.setInstructionBreakpoints(0, [BigInt(CODE)]);
  let c = run(p);
  assert.equal(c.ExitReason, X.VpdbgBreakpoint);
  assert.deepEqual(c.Breakpoint, { Gva: BigInt(CODE) });
  p.setInstructionBreakpoints(0, []);
  p.setWatchpoints(0, [{ address: 0x5000n, size: 4, read: false, write: true, physical: false }]);
  c = run(p);
  assert.equal(c.ExitReason, X.VpdbgWatchpoint);
  assert.deepEqual(c.Watchpoint, { Address: 0x5000n, Size: 4, AccessInfo: { IsWrite: true, Physical: false, AsUINT32: 1 } });

  class FailingCpu extends Cpu { override run(): never { throw new Error('decoder table corrupt'); } }
  const q = new Partition({ processorCount: 1, memoryBytes: 1 << 20, createCpu: (i, m) => new FailingCpu(m, { vpIndex: i }) });
  c = q.runVirtualProcessor(0);
  assert.equal(c.ExitReason, X.VpdbgInternalError);
  assert.match(c.InternalError!.Message, /decoder table corrupt/);
});

test('runs are deterministic: the same snippet gives the same exit sequence and TSC', () => {
  const trace = () => {
    const p = longModePartition([0x0F, 0x31, 0xEB, 0xFC], { extendedVmExits: { rdtsc: true } }); // rdtsc; jmp back
    const out: string[] = [];
    for (let i = 0; i < 5; i++) {
      const c = run(p, 7);
      out.push(`${c.ExitReason}:${c.VpContext.Rip}:${c.ReadTsc?.Tsc ?? '-'}`);
      if (c.ExitReason === X.X64Rdtsc) p.completeRdtsc(0, 0n);
    }
    return out;
  };
  assert.deepEqual(trace(), trace());
});

test('GPA map: sparse 64 GiB partition costs only touched pages; unmap makes accesses exit', () => {
  const p = new Partition({ processorCount: 2, memoryBytes: 64 * 2 ** 30 });
  assert.equal(p.memory.residentBytes(), 0);
  p.memory.write(0x10_0000_0000 - 4096, new Uint8Array(8).fill(1));
  assert.equal(p.memory.residentBytes(), 4096);
  assert.equal(p.virtualProcessors.length, 2);
  p.unmapGpaRange(0, 4096);
  assert.equal(p.memory.lookup(0), undefined);
  p.mapGpaRange(0, 4096, F.Read);
  assert.deepEqual(p.memory.lookup(0)?.permissions, { read: true, write: false, execute: false });
  assert.throws(() => p.mapGpaRange(2 ** 48, 4096, F.Read), RangeError);
  assert.throws(() => new Partition({ processorCount: 0 }), RangeError);
});
