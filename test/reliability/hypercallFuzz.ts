// Hypercall fuzzer: a 64-bit guest issues VMCALL with a random input value (call code, fast
// bit, variable header size, reserved bits, nested bit, rep count and start) and random
// parameter GPAs (unaligned, page-crossing, outside RAM, above the GPA width) pointing at
// random headers and register lists. The result value must be what the TLFS documents for the
// input — INVALID_HYPERCALL_CODE, INVALID_HYPERCALL_INPUT, INVALID_ALIGNMENT in the order the
// TLFS checks them, otherwise one of the statuses the implemented calls return — with reps
// completed ≤ rep count, or, for a parameter page the guest cannot reach, a memory-access exit.
import { Partition } from '../../src/partition/partition';
import { HvCallCode, HvRegisterName as R, HvStatus, WhvRunVpExitReason as X, HV_PARTITION_ID_SELF } from '../../src/partition/hvdef';
import { u64Value } from '../../src/partition/registerValue';
import { enterLongMode, getReg, setRegs, writeIdentityMap, CODE, RAM_BYTES } from '../partition/harness';
import { campaign, Rng, type FuzzOptions, type FuzzReport } from './fuzzKit';

const NAMES = [R.Rax, R.Rip, R.Rflags, R.Cr0, R.Cr3, R.Efer, R.Cs, R.Gdtr, R.Rsp, 0x00090002, 0xffffffff, 0];
/** Statuses GetVpRegisters/SetVpRegisters return for a well-formed input (TLFS). */
const CALL_STATUSES = new Set<number>([HvStatus.Success, HvStatus.InvalidParameter, HvStatus.AccessDenied, HvStatus.InvalidPartitionId,
  HvStatus.InvalidVpIndex, HvStatus.InvalidVpState, HvStatus.InvalidRegisterValue]);
const IMPLEMENTED = new Map<number, { header: number; inElem: number; outElem: number }>([
  [HvCallCode.GetVpRegisters, { header: 16, inElem: 4, outElem: 16 }],
  [HvCallCode.SetVpRegisters, { header: 16, inElem: 32, outElem: 0 }],
]);

function gpa(r: Rng): bigint {
  switch (r.int(6)) {
    case 0: return BigInt(0x200000 + 8 * r.int(512)); // aligned, in RAM
    case 1: return BigInt(0x200ff8 + r.int(16)); // near a page end
    case 2: return BigInt(r.int(RAM_BYTES)); // anywhere in RAM, any alignment
    case 3: return BigInt(RAM_BYTES + 8 * r.int(4096)); // just above RAM: unmapped
    case 4: return r.u64() & ~7n; // anywhere, aligned
    default: return 0n;
  }
}

/** The status the TLFS's input checks give, or undefined when the input is well formed. */
function expectedStatus(control: bigint, inGpa: bigint, outGpa: bigint): number | undefined {
  const code = Number(control & 0xffffn);
  const def = IMPLEMENTED.get(code);
  if (!def) return HvStatus.InvalidHypercallCode;
  const repCount = Number((control >> 32n) & 0xfffn), repStart = Number((control >> 48n) & 0xfffn);
  if ((control & ((0xfn << 27n) | (0xfn << 44n) | (0xfn << 60n) | (1n << 31n))) !== 0n) return HvStatus.InvalidHypercallInput;
  if (((control >> 17n) & 0x3ffn) !== 0n) return HvStatus.InvalidHypercallInput;
  if (repCount === 0 || repStart >= repCount) return HvStatus.InvalidHypercallInput;
  const inSize = def.header + def.inElem * repCount, outSize = def.outElem * repCount;
  if (control & (1n << 16n)) return inSize > 16 || outSize > 0 ? HvStatus.InvalidHypercallInput : undefined;
  const bad = (g: bigint, size: number) => size > 0 && ((g & 7n) !== 0n || g + BigInt(size) > 1n << 48n || Number(g % 4096n) + size > 4096);
  if (bad(inGpa, inSize) || bad(outGpa, outSize)) return HvStatus.InvalidAlignment;
  return undefined;
}

function runCase(seed: number): string {
  const r = new Rng(seed);
  const p = new Partition({ processorCount: 2, memoryBytes: RAM_BYTES });
  writeIdentityMap(p);
  p.memory.write(CODE, Uint8Array.of(0x0f, 0x01, 0xc1, 0xf4)); // vmcall; hlt
  enterLongMode(p, CODE, 0);
  const code = r.bool(0.7) ? r.pick([HvCallCode.GetVpRegisters, HvCallCode.SetVpRegisters]) : r.bool(0.5) ? r.int(0x100) : r.int(0x10000);
  const repCount = r.pick([0, 1, 2, r.int(16), r.int(0x1000)]), repStart = r.bool(0.7) ? 0 : r.int(repCount + 2);
  let control = BigInt(code) | (BigInt(repCount) << 32n) | (BigInt(repStart) << 48n);
  if (r.bool(0.15)) control |= 1n << 16n; // fast
  if (r.bool(0.1)) control |= BigInt(r.int(0x400)) << 17n; // variable header size
  if (r.bool(0.1)) control |= 1n << BigInt(r.pick([27, 28, 29, 30, 31, 44, 45, 46, 47, 60, 61, 62, 63]));
  const inGpa = gpa(r), outGpa = gpa(r);
  // A random header and list at every in-RAM place the input GPA may point to.
  const page = new Uint8Array(4096);
  const dv = new DataView(page.buffer);
  dv.setBigUint64(0, r.pick([HV_PARTITION_ID_SELF, BigInt(p.id), r.u64()]), true);
  dv.setUint32(8, r.pick([0, 1, 2, 0xfffffffe, r.u32()]), true);
  page[12] = r.bool(0.8) ? 0 : r.int(256);
  if (r.bool(0.1)) page[13 + r.int(3)] = 1 + r.int(255);
  for (let off = 16; off + 4 <= 4096; off += 4) dv.setUint32(off, r.bool(0.7) ? r.pick(NAMES) : r.u32(), true);
  // ...except over the harness's own page tables (0x1000-0x6FFF) and code page: the case would
  // then run garbage instead of the VMCALL, which tests the fuzzer, not the hypercall.
  const inPage = Number(inGpa & ~0xfffn);
  if (inGpa < BigInt(RAM_BYTES) && inPage >= 0x7000 && inPage !== CODE) p.memory.write(inPage, page);
  setRegs(p, [[R.Rcx, u64Value(control)], [R.Rdx, u64Value(inGpa)], [R.R8, u64Value(outGpa)]]);

  const exit = p.runVirtualProcessor(0, { instructionBudget: 1 });
  const expected = expectedStatus(control, inGpa, outGpa);
  if (exit.ExitReason === X.MemoryAccess) {
    if (expected !== undefined) throw new Error(`control 0x${control.toString(16)}: memory exit, expected status 0x${expected.toString(16)}`);
    const g = exit.MemoryAccess!.Gpa;
    if (g < BigInt(RAM_BYTES) && p.memory.lookup(Number(g)) !== undefined) throw new Error(`memory exit for mapped GPA 0x${g.toString(16)}`);
    return 'memory intercept';
  }
  // The VMCALL retired; the budget may also reach the HLT after it, or a SetVpRegisters of the
  // caller's own CR0/RIP/segments may leave it in a state that faults (the guest's doing).
  if (exit.ExitReason !== X.None && exit.ExitReason !== X.X64Halt) {
    if (expected === undefined && (control & 0xffffn) === BigInt(HvCallCode.SetVpRegisters)) return `own state changed (exit ${exit.ExitReason})`;
    throw new Error(`control 0x${control.toString(16)}: exit ${exit.ExitReason}`);
  }
  const result = getReg(p, R.Rax);
  const status = Number(result & 0xffffn), reps = Number((result >> 32n) & 0xfffn);
  const ctx = `control 0x${control.toString(16)} in 0x${inGpa.toString(16)} out 0x${outGpa.toString(16)}: status 0x${status.toString(16)}`;
  if (expected !== undefined && status !== expected) throw new Error(`${ctx}, expected 0x${expected.toString(16)}`);
  if (expected === undefined && !CALL_STATUSES.has(status)) throw new Error(`${ctx} is not a documented status of the call`);
  if (reps > repCount) throw new Error(`${ctx}: ${reps} reps completed of ${repCount}`);
  if ((result >> 16n) & 0xffffn || result >> 44n) throw new Error(`${ctx}: reserved result bits set (0x${result.toString(16)})`);
  return `status 0x${status.toString(16)}`;
}

export function fuzzHypercalls(opts: FuzzOptions): FuzzReport { return campaign('hypercalls', opts, runCase); }
