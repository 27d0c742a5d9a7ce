// Little-endian field access for the fixed binary layouts of this layer (exit contexts,
// intercept messages, register values, hypercall pages). Cold path: bigint is fine here.

export class LayoutView {
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u8(off: number): number { return this.view.getUint8(off); }
  u16(off: number): number { return this.view.getUint16(off, true); }
  u32(off: number): number { return this.view.getUint32(off, true); }
  u64(off: number): bigint { return this.view.getBigUint64(off, true); }
  setU8(off: number, v: number): void { this.view.setUint8(off, v); }
  setU16(off: number, v: number): void { this.view.setUint16(off, v, true); }
  setU32(off: number, v: number): void { this.view.setUint32(off, v >>> 0, true); }
  setU64(off: number, v: bigint): void { this.view.setBigUint64(off, BigInt.asUintN(64, v), true); }
  slice(off: number, len: number): Uint8Array { return this.bytes.slice(off, off + len); }
  setBytes(off: number, src: Uint8Array, maxLen: number): void { this.bytes.set(src.subarray(0, maxLen), off); }
}
