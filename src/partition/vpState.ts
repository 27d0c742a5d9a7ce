// Consistency checks WHP applies when a VP is run after its registers were set: a state the
// hardware could not enter gives an InvalidVpRegisterValue exit instead of running.
import { Seg, type VirtualCpu } from '../emulator/vcpu';

const EFER = 0xC0000080;

/** Each rule: a failure message, and the test that the state breaks it. */
const RULES: [string, (c: { cr0: bigint; cr4: bigint; efer: bigint; csAttr: number; rflags: bigint }) => boolean][] = [
  ['CR0.PG is set without CR0.PE', (s) => (s.cr0 & 0x8000_0001n) === 0x8000_0000n],
  ['CR0.NW is set without CR0.CD', (s) => (s.cr0 & 0x6000_0000n) === 0x2000_0000n],
  ['EFER.LME and CR0.PG are set without CR4.PAE', (s) => (s.efer & 0x100n) !== 0n && (s.cr0 & 0x8000_0000n) !== 0n && (s.cr4 & 0x20n) === 0n],
  ['CS.L and CS.D are both set in long mode', (s) => (s.efer & 0x400n) !== 0n && (s.csAttr & 0x6000) === 0x6000],
  ['RFLAGS bit 1 is clear', (s) => (s.rflags & 2n) === 0n],
];

/** The first rule the VP's state breaks, or undefined if it may run. */
export function invalidStateReason(cpu: VirtualCpu): string | undefined {
  const s = { cr0: cpu.getCr(0), cr4: cpu.getCr(4), efer: cpu.getMsr(EFER) ?? 0n, csAttr: cpu.getSegment(Seg.CS).attributes, rflags: cpu.getRflags() };
  return RULES.find(([, broken]) => broken(s))?.[0];
}
