// Paging faults and error codes, exception delivery, mode transitions, the intercept /
// completion API, debugger breakpoints and watchpoints, cancel(), self-modifying code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, runCode, runToExit, r64, w64, CODE, HANDLERS, PT, SMALL_PAGES, STACK_TOP, SEL, FLAGS } from './cpuKit';
import { CpuExitReason, MemoryAccessType, Seg } from '../../src/emulator/vcpu';
import { PhysicalMemory } from '../../src/emulator/physicalMemory';
import { Cpu } from '../../src/emulator/cpu';

const movEbx = (v: number): number[] => [0xbb, v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];

test('#PF: not-present read, write to a read-only page, CR2 and error codes; A/D bits set', () => {
  let c = makeCpu('long64', [...movEbx(SMALL_PAGES + 0x3008), 0x8b, 0x03]); // mov eax,[rbx]
  w64(c.mem, PT + 3 * 8, 0n);
  c.setExceptionExitBitmap(1 << 14);
  assert.equal(runToExit(c), CpuExitReason.Exception);
  assert.equal(c.exit.exception.vector, 14);
  assert.equal(c.exit.exception.errorCode, 0);
  assert.equal(c.getCr(2), BigInt(SMALL_PAGES + 0x3008));
  c = makeCpu('long64', [...movEbx(SMALL_PAGES + 0x5000), 0x89, 0x03]); // mov [rbx],eax
  w64(c.mem, PT + 5 * 8, BigInt(SMALL_PAGES + 0x5000 + 5)); // present, user, read-only
  c.setExceptionExitBitmap(1 << 14);
  assert.equal(runToExit(c), CpuExitReason.Exception);
  assert.equal(c.exit.exception.errorCode, 3); // P | W (supervisor; CR0.WP is set)
  c = runCode('long64', [...movEbx(SMALL_PAGES + 0x6000), 0x89, 0x03]);
  assert.equal(r64(c.mem, PT + 6 * 8) & 0x60n, 0x60n);
});

test('#PF is delivered through the IDT with CR2 and the error code on the stack', () => {
  const c = makeCpu('long64', [...movEbx(SMALL_PAGES + 0x7000), 0x8b, 0x03]);
  w64(c.mem, PT + 7 * 8, 0n);
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.equal(c.getRip(), BigInt(HANDLERS + 14 * 16 + 1));
  const sp = Number(c.getGpr(4));
  assert.equal(sp, STACK_TOP - 48); // error code, RIP, CS, RFLAGS, RSP, SS
  assert.equal(r64(c.mem, sp), 0n);
  assert.equal(r64(c.mem, sp + 8), BigInt(CODE + 5));
  assert.equal(r64(c.mem, sp + 16), BigInt(SEL.code64));
});

test('NX: fetching from an NX page faults with I/D set', () => {
  const c = makeCpu('long64', [...movEbx(SMALL_PAGES + 0x8000), 0xff, 0xe3]); // jmp rbx
  w64(c.mem, PT + 8 * 8, (1n << 63n) | BigInt(SMALL_PAGES + 0x8000 + 3));
  c.setExceptionExitBitmap(1 << 14);
  assert.equal(runToExit(c), CpuExitReason.Exception);
  assert.equal(c.exit.exception.errorCode, 0x11);
});

test('TLB: a changed PTE takes effect only after INVLPG', () => {
  // mov eax,[rbx]; (PTE now points elsewhere) ; mov ecx,[rbx]; invlpg [rbx]; mov edx,[rbx]
  const c = makeCpu('long64', [...movEbx(SMALL_PAGES + 0x9000), 0x8b, 0x03, 0xf4, 0x8b, 0x0b, 0x0f, 0x01, 0x3b, 0x8b, 0x13, 0xf4]);
  c.mem.write(SMALL_PAGES + 0x9000, Uint8Array.of(1)); c.mem.write(SMALL_PAGES + 0xa000, Uint8Array.of(2));
  assert.equal(runToExit(c), CpuExitReason.Halt);
  w64(c.mem, PT + 9 * 8, BigInt(SMALL_PAGES + 0xa000 + 7));
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.equal(c.getGpr(1), 1n);
  assert.equal(c.getGpr(2), 2n);
});

test('#UD from UD2 and #GP from a privileged instruction at CPL 3 are delivered; INT3 is a trap', () => {
  let c = makeCpu('long64', [0x0f, 0x0b]);
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.equal(c.getRip(), BigInt(HANDLERS + 6 * 16 + 1));
  c = makeCpu('long64', [0xcc]);
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.equal(r64(c.mem, Number(c.getGpr(4))), BigInt(CODE + 1)); // return address after INT3
  c = makeCpu('long64', [0xfa]); // cli at CPL 3
  c.setSegment(Seg.CS, { base: 0n, limit: 0xffffffff, selector: SEL.ucode64, attributes: 0xa0fb });
  c.setSegment(Seg.SS, { base: 0n, limit: 0xffffffff, selector: SEL.udata, attributes: 0xc0f3 });
  w64(c.mem, 0x12000, BigInt(0x87)); // (identity map is already user-accessible)
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.equal(c.getRip(), BigInt(HANDLERS + 13 * 16 + 1));
  assert.equal(c.getCpl(), 0);
  assert.equal(Number(c.getGpr(4)), 0x70000 - 48); // switched to RSP0 from the TSS
});

test('triple fault is reported as an exit', () => {
  const c = makeCpu('long64', [0x0f, 0x0b]);
  c.setIdtr({ base: 0n, limit: 0 });
  assert.equal(runToExit(c), CpuExitReason.TripleFault);
});

test('mode transition: 32-bit protected mode enters long mode through CR0.PG and a far jump', () => {
  // mov eax,cr4; or eax,0x20; mov cr4,eax; mov ecx,0xC0000080; rdmsr; or eax,0x100; wrmsr;
  // mov eax,0x10000; mov cr3,eax; mov eax,cr0; or eax,0x80000000; mov cr0,eax; jmp 0x08:target; target: hlt
  const target = CODE + 50;
  const code = [0x0f, 0x20, 0xe0, 0x83, 0xc8, 0x20, 0x0f, 0x22, 0xe0, 0xb9, 0x80, 0, 0, 0xc0, 0x0f, 0x32, 0x0d, 0, 1, 0, 0, 0x0f, 0x30,
    0xb8, 0, 0, 1, 0, 0x0f, 0x22, 0xd8, 0x0f, 0x20, 0xc0, 0x0d, 0, 0, 0, 0x80, 0x0f, 0x22, 0xc0, 0xea, target & 0xff, target >> 8, 0, 0, SEL.code64, 0];
  while (code.length < 50) code.push(0x90);
  const c = makeCpu('prot32', [...code, 0xf4]);
  // Page tables from the long-mode kit layout.
  w64(c.mem, 0x10000, BigInt(0x11000 | 7)); w64(c.mem, 0x11000, BigInt(0x12000 | 7)); w64(c.mem, 0x12000, 0x87n);
  c.setMsr(0xc0000080, 0n); c.setCr(4, 0n);
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.equal(c.getMode(), 'long64');
  assert.equal(c.getMsr(0xc0000080)! & 0x500n, 0x500n);
});

test('real mode INT uses the IVT and IRET returns', () => {
  const c = runCode('real', [0xb8, 0x34, 0x12, 0xcd, 0x05]);
  assert.equal(c.getRip(), BigInt(5 * 16 + 1)); // offset within segment 0x3000
  assert.equal(c.getSegment(Seg.CS).selector, 0x3000);
});

test('IN/OUT exit with the port and are completed by the VMM', () => {
  const c = makeCpu('long64', [0xba, 0xf8, 0x03, 0, 0, 0xb0, 0x41, 0xee, 0xec, 0xf4]);
  assert.equal(runToExit(c), CpuExitReason.IoPort);
  assert.deepEqual({ ...c.exit.io }, { port: 0x3f8, size: 1, isWrite: true, isString: false, rep: false, value: 0x41, segment: Seg.DS });
  assert.deepEqual([...c.exit.instructionBytes], [0xee]);
  const ripBefore = c.getRip();
  c.completeIo();
  assert.equal(c.getRip(), ripBefore + 1n);
  assert.equal(runToExit(c), CpuExitReason.IoPort);
  assert.equal(c.exit.io.isWrite, false);
  c.completeIo(0x5a);
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.equal(c.getGpr(0) & 0xffn, 0x5an);
});

test('an uncompleted exit re-executes the instruction', () => {
  const c = makeCpu('long64', [0xee, 0xf4]);
  assert.equal(runToExit(c), CpuExitReason.IoPort);
  assert.equal(runToExit(c), CpuExitReason.IoPort);
  assert.equal(c.instructionCount, 0);
});

test('CPUID exits with the default model; RDMSR of an unknown MSR exits; VMCALL is a hypercall at CPL 0 and #UD in real mode', () => {
  let c = makeCpu('long64', [0x31, 0xc0, 0x0f, 0xa2, 0xf4]);
  assert.equal(runToExit(c), CpuExitReason.Cpuid);
  assert.equal(c.exit.cpuid.leaf, 0);
  const vendor = Buffer.alloc(12);
  vendor.writeUInt32LE(c.exit.cpuid.defaultEbx, 0); vendor.writeUInt32LE(c.exit.cpuid.defaultEdx, 4); vendor.writeUInt32LE(c.exit.cpuid.defaultEcx, 8);
  assert.equal(vendor.toString('latin1'), 'GenuineIntel');
  c.completeCpuid(1, 2, 3, 4);
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.deepEqual([0, 3, 1, 2].map((i) => c.getGpr(i)), [1n, 2n, 3n, 4n]);
  c = makeCpu('long64', [0xb9, 0x34, 0x12, 0, 0, 0x0f, 0x32, 0xf4]);
  assert.equal(runToExit(c), CpuExitReason.MsrAccess);
  assert.equal(c.exit.msr.index, 0x1234);
  c.completeMsr(0x1122334455667788n);
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.equal(c.getGpr(0), 0x55667788n); assert.equal(c.getGpr(2), 0x11223344n);
  c = makeCpu('long64', [0x0f, 0x01, 0xc1, 0xf4]);
  assert.equal(runToExit(c), CpuExitReason.Hypercall);
  c.skipInstruction();
  assert.equal(runToExit(c), CpuExitReason.Halt);
  c = makeCpu('real', [0x0f, 0x01, 0xc1]);
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.equal(c.getRip(), BigInt(6 * 16 + 1)); // #UD handler
});

test('reset state: CS F000 base FFFF0000, RIP FFF0, EDX signature', () => {
  const c = new Cpu(new PhysicalMemory(), { vpIndex: 0 });
  assert.equal(c.getRip(), 0xfff0n);
  assert.deepEqual(c.getSegment(Seg.CS), { base: 0xffff0000n, limit: 0xffff, selector: 0xf000, attributes: 0x9b });
  assert.equal(c.getGpr(2), 0x6fbn);
  assert.equal(c.getCr(0), 0x60000010n);
  assert.equal(c.getMode(), 'real');
  const d = runCode('long64', [0x90, 0x90]);
  assert.equal(d.instructionCount, 3);
  d.reset();
  assert.equal(d.instructionCount, 0);
  assert.equal(d.getMsr(0x10), 0n);
  assert.equal(d.getRip(), 0xfff0n);
});

test('instruction breakpoints stop before the instruction and resume past it', () => {
  const c = makeCpu('long64', [0x90, 0x90, 0x40, 0x90, 0xf4]);
  c.setInstructionBreakpoints([BigInt(CODE + 2)]);
  assert.equal(runToExit(c), CpuExitReason.Breakpoint);
  assert.equal(c.getRip(), BigInt(CODE + 2));
  assert.equal(c.instructionCount, 2);
  assert.equal(runToExit(c), CpuExitReason.Halt);
});

test('watchpoints report the access after the instruction retires', () => {
  const c = makeCpu('long64', [...movEbx(0x4000), 0x89, 0x03, 0xf4]);
  c.setWatchpoints([{ address: 0x4000n, size: 4, read: false, write: true, physical: false }]);
  assert.equal(runToExit(c), CpuExitReason.Watchpoint);
  assert.equal(c.getRip(), BigInt(CODE + 7));
  assert.equal(c.exit.watch.isWrite, true);
});

test('TF single-step raises #DB after one instruction', () => {
  const c = makeCpu('long64', [0x90, 0x90]);
  c.setRflags(2n | FLAGS.TF);
  c.setExceptionExitBitmap(1 << 1);
  assert.equal(runToExit(c), CpuExitReason.Exception);
  assert.equal(c.exit.exception.vector, 1);
  assert.equal(c.getRip(), BigInt(CODE + 1));
  assert.equal(c.getDr(6) & 0x4000n, 0x4000n);
});

test('cancel() makes run() return Canceled', () => {
  const c = makeCpu('long64', [0xeb, 0xfe]);
  c.cancel();
  assert.equal(c.run(1e6), CpuExitReason.Canceled);
  assert.equal(c.run(1000), CpuExitReason.BudgetExhausted);
});

test('self-modifying code runs the new bytes', () => {
  // mov byte [rip+3], 7 patches the immediate of the "mov al, 1" two instructions later (same block).
  const c = runCode('long64', [0xc6, 0x05, 0x03, 0, 0, 0, 0x07, 0x90, 0x90, 0xb0, 0x01]);
  assert.equal(c.getGpr(0) & 0xffn, 7n);
  // Code loaded over an already-executed page runs the new bytes.
  const d = makeCpu('long64', [0xb0, 0x01, 0xf4]);
  assert.equal(runToExit(d), CpuExitReason.Halt);
  d.mem.write(CODE, Uint8Array.of(0xb0, 0x02, 0xf4));
  d.setRip(BigInt(CODE));
  assert.equal(runToExit(d), CpuExitReason.Halt);
  assert.equal(d.getGpr(0) & 0xffn, 2n);
});

test('unmapped GPA reads exit as MemoryAccess and completeMemoryAccess supplies the value', () => {
  const d = makeCpu('long64', [...movEbx(0xf00000), 0x8b, 0x03, 0xf4]);
  d.mem.unmap(0xf00000, 0x1000);
  assert.equal(runToExit(d), CpuExitReason.MemoryAccess);
  assert.equal(d.exit.memory.gpa, 0xf00000n);
  assert.equal(d.exit.memory.accessType, MemoryAccessType.Read);
  assert.equal(d.exit.memory.gpaUnmapped, true);
  d.completeMemoryAccess(Uint8Array.of(0x78, 0x56, 0x34, 0x12));
  assert.equal(runToExit(d), CpuExitReason.Halt);
  assert.equal(d.getGpr(0), 0x12345678n);
});

test('a read-modify-write of MMIO exits for the read, then for the write, then retires', () => {
  const d = makeCpu('long64', [...movEbx(0xf00000), 0x83, 0x03, 0x05, 0xf4]); // add dword [rbx], 5
  d.mem.unmap(0xf00000, 0x1000);
  assert.equal(runToExit(d), CpuExitReason.MemoryAccess);
  assert.equal(d.exit.memory.accessType, MemoryAccessType.Read);
  d.completeMemoryAccess(Uint8Array.of(10, 0, 0, 0));
  assert.equal(runToExit(d), CpuExitReason.MemoryAccess);
  assert.equal(d.exit.memory.accessType, MemoryAccessType.Write);
  assert.deepEqual([...d.exit.memory.data], [15, 0, 0, 0]);
  d.completeMemoryAccess();
  assert.equal(runToExit(d), CpuExitReason.Halt);
  assert.equal(d.instructionCount, 3);
});

test('PhysicalMemory: a 64 GiB map costs only touched pages; copies fail on unmapped bytes', () => {
  const mem = new PhysicalMemory();
  mem.mapRam(0, 64 * 2 ** 30, { read: true, write: true, execute: false });
  assert.equal(mem.residentBytes(), 0);
  assert.equal(mem.write(40 * 2 ** 30 + 4094, Uint8Array.of(1, 2, 3, 4)), true);
  assert.equal(mem.residentBytes(), 8192);
  const b = new Uint8Array(4);
  assert.equal(mem.read(40 * 2 ** 30 + 4094, b), true);
  assert.deepEqual([...b], [1, 2, 3, 4]);
  assert.equal(mem.read(64 * 2 ** 30 - 2, b), false);
  assert.throws(() => mem.mapRam(4096, 4096, { read: true, write: true, execute: true }), RangeError);
  mem.mapRom(64 * 2 ** 30, Uint8Array.of(9, 8, 7));
  assert.equal(mem.lookup(64 * 2 ** 30 + 1)?.rom, true);
  const r = new Uint8Array(3); mem.read(64 * 2 ** 30, r);
  assert.deepEqual([...r], [9, 8, 7]);
});

test('translate() probes without side effects; RDTSC exiting', () => {
  const c = makeCpu('long64', [0x0f, 0x31, 0xf4]);
  const before = c.mem.residentBytes();
  assert.equal(c.translate(BigInt(SMALL_PAGES + 0x1234), MemoryAccessType.Read), BigInt(SMALL_PAGES + 0x1234));
  assert.equal(c.translate(0x7fff00000000n, MemoryAccessType.Read), undefined);
  c.setCr(3, 0x40000000n); // page tables outside RAM
  assert.equal(c.translate(0x1000n, MemoryAccessType.Read), undefined);
  assert.equal(c.exit.message, '');
  assert.equal(c.mem.residentBytes(), before);
  c.setCr(3, 0x10000n);
  c.setRdtscExiting(true);
  assert.equal(runToExit(c), CpuExitReason.Rdtsc);
  c.skipInstruction();
  assert.equal(runToExit(c), CpuExitReason.Halt);
});
