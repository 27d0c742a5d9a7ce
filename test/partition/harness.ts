// Test harness: a partition whose VP 0 starts in 64-bit mode, set up the way a root does it
// (page tables written into guest RAM, then SetVpRegisters for CR0/CR3/CR4/EFER/segments/RIP).
import assert from 'node:assert/strict';
import { Partition, type PartitionOptions } from '../../src/partition/partition';
import { HvRegisterName as R, HvStatus } from '../../src/partition/hvdef';
import { u64Value, segmentValue, tableValue } from '../../src/partition/registerValue';

export const PML4 = 0x1000;
export const CODE = 0x10000;
export const STACK_TOP = 0x80000;
export const RAM_BYTES = 16 * 1024 * 1024;

/** Identity map of the first 4 GiB with 2 MiB pages: PML4 0x1000, PDPT 0x2000, PDs 0x3000-0x6FFF. */
export function writeIdentityMap(p: Partition): void {
  const pt = new DataView(new ArrayBuffer(0x6000));
  pt.setBigUint64(0, 0x2003n, true);
  for (let d = 0; d < 4; d++) pt.setBigUint64(0x1000 + 8 * d, BigInt(0x3000 + 0x1000 * d) | 3n, true);
  for (let i = 0; i < 2048; i++) pt.setBigUint64(0x2000 + 8 * i, (BigInt(i) << 21n) | 0x83n, true);
  assert.ok(p.memory.write(PML4, new Uint8Array(pt.buffer)));
  // GDT at 0x100: null, 0x08 64-bit code, 0x10 data (what the segment registers below describe).
  const gdt = new DataView(new ArrayBuffer(24));
  gdt.setBigUint64(8, 0x00AF9B000000FFFFn, true);
  gdt.setBigUint64(16, 0x00CF93000000FFFFn, true);
  assert.ok(p.memory.write(0x100, new Uint8Array(gdt.buffer)));
}

export function setRegs(p: Partition, regs: [number, Uint8Array][], vp = 0): void {
  const r = p.setVpRegisters(p.id, vp, 0, regs.map(([n]) => n), regs.map(([, v]) => v));
  assert.equal(r.status, HvStatus.Success, `setVpRegisters failed at element ${r.repsCompleted}`);
}

export function getReg(p: Partition, name: number, vp = 0): bigint {
  const r = p.getVpRegisters(p.id, vp, 0, [name]);
  assert.equal(r.status, HvStatus.Success);
  return new DataView(r.values[0].buffer, r.values[0].byteOffset, 16).getBigUint64(0, true);
}

export const CODE64 = { base: 0n, limit: 0xFFFFFFFF, selector: 0x08, attributes: 0xA09B };
export const DATA64 = { base: 0n, limit: 0xFFFFFFFF, selector: 0x10, attributes: 0xC093 };

/** Enters 64-bit mode on `vp` through SetVpRegisters, with RIP = rip and RSP = STACK_TOP. */
export function enterLongMode(p: Partition, rip: number, vp = 0): void {
  setRegs(p, [
    [R.Cr3, u64Value(PML4)], [R.Cr4, u64Value(0x20)], [R.Efer, u64Value(0x500)], [R.Cr0, u64Value(0x80000031)],
    [R.Cs, segmentValue(CODE64)], [R.Ss, segmentValue(DATA64)], [R.Ds, segmentValue(DATA64)], [R.Es, segmentValue(DATA64)],
    [R.Gdtr, tableValue({ base: 0x100n, limit: 0x17 })],
    [R.Rsp, u64Value(STACK_TOP)], [R.Rip, u64Value(rip)], [R.Rflags, u64Value(2)],
  ], vp);
}

/** A 64-bit partition with `code` at CODE, RAM 0..16 MiB. */
export function longModePartition(code: number[], options: Partial<PartitionOptions> = {}): Partition {
  const p = new Partition({ processorCount: 1, memoryBytes: RAM_BYTES, ...options });
  writeIdentityMap(p);
  assert.ok(p.memory.write(CODE, Uint8Array.from(code)));
  for (let vp = 0; vp < p.processorCount; vp++) enterLongMode(p, CODE, vp);
  return p;
}

/** An IDT at 0x8000 whose gate `vector` (64-bit interrupt gate, CS 0x08) points at `handler`. */
export function installGate(p: Partition, vector: number, handler: number): void {
  const idt = 0x8000;
  const gate = new DataView(new ArrayBuffer(16));
  gate.setUint16(0, handler & 0xFFFF, true);
  gate.setUint16(2, 0x08, true);
  gate.setUint8(5, 0x8E);
  gate.setUint16(6, (handler >>> 16) & 0xFFFF, true);
  assert.ok(p.memory.write(idt + 16 * vector, new Uint8Array(gate.buffer)));
  setRegs(p, [[R.Idtr, tableValue({ base: BigInt(idt), limit: 0xFFF })]]);
}
