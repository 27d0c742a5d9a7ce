// HV_X64_SEGMENT_REGISTER / WHV_X64_SEGMENT_REGISTER and the table register (16 bytes each,
// the same layout in TLFS and WHP): Base(8) Limit(4) Selector(2) Attributes(2).
import type { LayoutView } from './binary';
import type { SegmentValue, TableValue } from '../emulator/vcpu';

/** A segment register as the WHP header spells it; the bitfields are views of Attributes. */
export interface WhvSegmentRegister {
  Base: bigint;
  Limit: number;
  Selector: number;
  /** Type(3:0) S(4) DPL(6:5) P(7) AVL(12) L(13) D/B(14) G(15). The encoders use this field. */
  Attributes: number;
  SegmentType: number;
  NonSystemSegment: boolean;
  DescriptorPrivilegeLevel: number;
  Present: boolean;
  Available: boolean;
  Long: boolean;
  Default: boolean;
  Granularity: boolean;
}

export function whvSegment(base: bigint, limit: number, selector: number, attributes: number): WhvSegmentRegister {
  const a = attributes & 0xFFFF;
  return {
    Base: BigInt.asUintN(64, base), Limit: limit >>> 0, Selector: selector & 0xFFFF, Attributes: a,
    SegmentType: a & 0xF, NonSystemSegment: (a & 0x10) !== 0, DescriptorPrivilegeLevel: (a >> 5) & 3,
    Present: (a & 0x80) !== 0, Available: (a & 0x1000) !== 0, Long: (a & 0x2000) !== 0,
    Default: (a & 0x4000) !== 0, Granularity: (a & 0x8000) !== 0,
  };
}

export function fromCpuSegment(s: SegmentValue): WhvSegmentRegister {
  return whvSegment(s.base, s.limit, s.selector, s.attributes);
}

export function toCpuSegment(s: WhvSegmentRegister): SegmentValue {
  return { base: s.Base, limit: s.Limit, selector: s.Selector, attributes: s.Attributes };
}

export function writeSegment(v: LayoutView, off: number, s: WhvSegmentRegister): void {
  v.setU64(off, s.Base);
  v.setU32(off + 8, s.Limit);
  v.setU16(off + 12, s.Selector);
  v.setU16(off + 14, s.Attributes);
}

export function readSegment(v: LayoutView, off: number): WhvSegmentRegister {
  return whvSegment(v.u64(off), v.u32(off + 8), v.u16(off + 12), v.u16(off + 14));
}

/** HV_X64_TABLE_REGISTER: Pad[3] (6 bytes), Limit at 6 (2), Base at 8 (8). */
export function writeTable(v: LayoutView, off: number, t: TableValue): void {
  v.setU16(off + 6, t.limit);
  v.setU64(off + 8, t.base);
}

export function readTable(v: LayoutView, off: number): TableValue {
  return { limit: v.u16(off + 6), base: v.u64(off + 8) };
}
