// x86-64 instruction decoder: prefixes, REX, opcode maps, ModRM/SIB/displacement (16-, 32-
// and 64-bit addressing, RIP-relative), immediates. Produces an Insn with the handler and
// every operand field resolved. Runs once per instruction when a block is built.

import { Insn } from './insn';
import { F, ONE, TWO, THREE38, special, type Op } from './opcodes';
import { extensionHooks, simdHasImm8 } from './extensionHooks';
import { undefinedOpcode } from './system';
import { nop } from './dataMove';
import { Seg } from './vcpu';
// The SSE/SSE2 and x87 modules register their opcode lookups with extensionHooks on import.
import './sseTable';
import './x87Control';

/** Byte source for the decoder: returns byte i of the instruction stream, or -1 past readable memory. */
export type ByteSource = (i: number) => number;

/** Thrown (as a value) when bytes run out mid-instruction: the caller decides (#PF on the next page, or #GP for > 15 bytes). */
export const NEED_MORE = { kind: 'need-more' as const };

const MODRM16_BASE = [3, 3, 5, 5, 6, 7, 5, 3];
const MODRM16_INDEX = [6, 7, 6, 7, -1, -1, -1, -1];

/**
 * Decodes one instruction. `mode`: 0 = 16-bit, 1 = 32-bit, 2 = 64-bit code. Returns the
 * Insn; an instruction longer than 15 bytes decodes to a #GP raiser, an invalid one to #UD.
 */
export function decode(fetch: ByteSource, mode: number): Insn {
  const d = new Insn();
  let pos = 0;
  const byte = (): number => {
    if (pos >= 15) throw TOO_LONG;
    const b = fetch(pos);
    if (b < 0) throw NEED_MORE;
    pos++;
    return b;
  };
  try {
    decodeInto(d, byte, mode);
    d.len = pos;
  } catch (e) {
    if (e !== TOO_LONG) throw e;
    d.fn = gpHandler; d.len = 15; d.flags |= 1;
  }
  return d;
}

const TOO_LONG = { kind: 'too-long' as const };

function gpHandler(c: import('./cpu').Cpu): void { c.gp(0); }

function decodeInto(d: Insn, byte: () => number, mode: number): void {
  const m64 = mode === 2;
  let opsize = false, adsize = false, rep = 0, lock = false, seg = -1, rex = 0;
  let b: number;
  for (;;) {
    b = byte();
    if (b === 0x66) { opsize = true; rex = 0; continue; }
    if (b === 0x67) { adsize = true; rex = 0; continue; }
    if (b === 0xf2) { rep = 2; rex = 0; continue; }
    if (b === 0xf3) { rep = 1; rex = 0; continue; }
    if (b === 0xf0) { lock = true; rex = 0; continue; }
    if (b === 0x26 || b === 0x2e || b === 0x36 || b === 0x3e) {
      if (!m64) seg = b === 0x26 ? Seg.ES : b === 0x2e ? Seg.CS : b === 0x36 ? Seg.SS : Seg.DS;
      rex = 0;
      continue;
    }
    if (b === 0x64 || b === 0x65) { seg = b === 0x64 ? Seg.FS : Seg.GS; rex = 0; continue; }
    if (m64 && (b & 0xf0) === 0x40) { rex = b; continue; }
    break;
  }
  d.rex = rex; d.rep = rep; d.lock = lock; d.segOvr = seg; d.opsizePrefix = opsize;
  const rexW = (rex & 8) !== 0, rexR = (rex & 4) << 1, rexX = (rex & 2) << 2, rexB = (rex & 1) << 3;
  let op: Op;
  let opcode: number;
  let simdImm = false;
  if (b === 0x0f) {
    const b2 = byte();
    if (b2 === 0x38) {
      const b3 = byte(); op = THREE38[b3]; opcode = 0x200 | b3;
      // F2 0F 38 F0/F1 is CRC32 (SSE4.2, not modelled): it goes to the SIMD hook, not MOVBE.
      if ((b3 === 0xf0 || b3 === 0xf1) && rep !== 0) op = { fn: undefinedOpcode, f: F.M | F.SIMD | F.END };
    }
    else if (b2 === 0x3a) { const b3 = byte(); op = { fn: undefinedOpcode, f: F.M | F.SIMD | F.END }; opcode = 0x300 | b3; simdImm = true; }
    else {
      op = TWO[b2]; opcode = 0x100 | b2;
      if (op.f & F.SIMD) simdImm = simdHasImm8(b2);
      if (b2 === 0xb8) op = rep === 1 ? TWO[0xb8] : special.ud;
      else if (b2 === 0xbc && rep === 1) op = special.tzcnt;
      else if (b2 === 0xbd && rep === 1) op = special.lzcnt;
      else if (b2 === 0xae) op = { fn: undefinedOpcode, f: F.M };
    }
  } else {
    op = ONE[b]; opcode = b;
    if (b === 0x63 && m64) op = special.movsxd;
    if (b === 0x90 && !rexB) op = special.pause; // NOP / PAUSE; with REX.B it is XCHG r8, rAX
  }
  d.opcode = opcode;
  let f = op.f;
  if ((f & F.NO64) && m64) { d.fn = undefinedOpcode; d.flags = 1; return; }
  // LES/LDS in 64-bit mode are VEX prefixes: not supported (no AVX), so #UD (caught by NO64 above).
  // Operand and address size.
  const os = (f & F.B) ? 1 : m64 ? (rexW ? 8 : (f & F.F64) ? 8 : (f & F.D64) ? (opsize ? 2 : 8) : (opsize ? 2 : 4)) : ((mode === 1) !== opsize ? 4 : 2);
  d.os = os;
  d.as = m64 ? (adsize ? 4 : 8) : ((mode === 1) !== adsize ? 4 : 2);
  if (f & F.W16) d.os = 2;
  if (f & F.OS4) d.os = m64 ? 8 : 4;
  d.seg = seg >= 0 ? seg : Seg.DS;
  d.op = op.op ?? 0;
  // ModRM.
  let modrm = -1;
  if (f & F.M) {
    modrm = byte();
    const mod = modrm >> 6, reg = ((modrm >> 3) & 7), rm = modrm & 7;
    if (op.g) {
      const sub = op.g[reg];
      if (!sub) { d.fn = undefinedOpcode; d.flags = 1; return; }
      // 0F 01 with mod = 3 encodes VMCALL, SWAPGS, RDTSCP, ...
      if (opcode === 0x101 && mod === 3) { op = special.group7reg; d.op = modrm; f = op.f | F.M; }
      else { f |= sub.f; d.op = sub.op ?? 0; op = { fn: sub.fn, f, x: sub.x }; }
      if ((f & F.D64) && m64 && !rexW) d.os = opsize ? 2 : 8;
      if ((f & F.F64) && m64) d.os = 8;
    } else d.op = op.op ?? 0;
    if (opcode === 0x1ae) {
      // Group 15: fences (mod 3), CLFLUSH (/7 m), FXSAVE/FXRSTOR/LDMXCSR/STMXCSR (/0-/3 m) via the SIMD hook.
      if (mod === 3) op = reg >= 5 ? { fn: nop, f: 0 } : special.ud;
      else if (reg === 7) op = { fn: nop, f: 0 };
      else if (reg <= 3) { op = { fn: undefinedOpcode, f: F.M | F.SIMD | F.END }; f = op.f; }
      else op = special.ud;
    }
    d.mod = mod;
    const byteRegs = (f & F.B) !== 0;
    d.reg = byteRegs && !rex && reg >= 4 ? reg + 12 : reg | rexR;
    if (f & F.REGM) { d.mod = 3; d.rm = rm | rexB; }
    else if (mod === 3) d.rm = (byteRegs || op.x === 1) && !rex && rm >= 4 ? rm + 12 : rm | rexB;
    else decodeMem(d, byte, mod, rm, rexX, rexB, seg, m64);
  }
  if (f & F.REG) {
    const r = (opcode & 7) | rexB;
    d.mod = 3;
    d.rm = (f & F.B) && !rex && (opcode & 7) >= 4 ? (opcode & 7) + 12 : r;
  }
  if (f & F.ACC) {
    if (f & F.REG) { d.reg = d.rm; d.rm = 0; } else { d.mod = 3; d.rm = 0; }
  }
  // Immediates.
  if (f & F.IB) { const v = byte(); d.imm = (v << 24) >> 24; d.immHi = d.imm >> 31; }
  else if (f & F.IW) { d.imm = byte() | (byte() << 8); }
  else if (f & F.IZ) {
    if (d.os === 2) { const v = byte() | (byte() << 8); d.imm = (v << 16) >> 16; }
    else d.imm = byte() | (byte() << 8) | (byte() << 16) | (byte() << 24);
    d.immHi = d.imm >> 31;
  } else if (f & F.IV) {
    if (d.os === 2) d.imm = byte() | (byte() << 8);
    else {
      d.imm = byte() | (byte() << 8) | (byte() << 16) | (byte() << 24);
      if (d.os === 8) d.immHi = byte() | (byte() << 8) | (byte() << 16) | (byte() << 24);
    }
  } else if (f & F.ENTER) { d.imm = byte() | (byte() << 8); d.imm2 = byte(); }
  else if (f & F.FAR) {
    d.imm = d.os === 2 ? byte() | (byte() << 8) : byte() | (byte() << 8) | (byte() << 16) | (byte() << 24);
    d.imm2 = byte() | (byte() << 8);
  } else if (f & F.MOFFS) {
    d.mod = 0; d.base = -1; d.index = -1;
    if (d.as === 2) d.disp = byte() | (byte() << 8);
    else {
      d.disp = byte() | (byte() << 8) | (byte() << 16) | (byte() << 24);
      if (d.as === 8) d.dispHi = byte() | (byte() << 8) | (byte() << 16) | (byte() << 24);
    }
  }
  if (f & F.SIMD) {
    if (simdImm) d.imm = byte();
    const prefix = rep === 1 ? 0xf3 : rep === 2 ? 0xf2 : opsize ? 0x66 : 0;
    const h = extensionHooks.simd?.({ opcode, prefix, reg: (modrm >> 3) & 7, mod: modrm >> 6 });
    d.fn = h ?? undefinedOpcode;
    d.flags = h ? 0 : 1;
    return;
  }
  if (f & F.X87) {
    const h = extensionHooks.x87?.(opcode, modrm);
    d.fn = h ?? undefinedOpcode;
    d.flags = h ? 0 : 1;
    return;
  }
  if (f & F.NOWRITE) d.flags |= 0x100;
  if (f & (F.CL | F.IMMF)) d.flags |= 0x200;
  if (op.x !== undefined) d.imm2 = op.x;
  d.fn = op.fn;
  if (f & F.END) d.flags |= 1;
  // LOCK is only valid on read-modify-write instructions with a memory destination.
  if (lock && !lockable(opcode, d)) { d.fn = undefinedOpcode; d.flags |= 1; }
}

function lockable(opcode: number, d: Insn): boolean {
  if (d.mod === 3) return false;
  if (opcode < 0x40) return (opcode & 7) < 2 && (opcode & 0x38) !== 0x38;
  if (opcode >= 0x80 && opcode <= 0x83) return d.op !== 7;
  if (opcode === 0x86 || opcode === 0x87) return true;
  if (opcode === 0xf6 || opcode === 0xf7) return d.op === 2 || d.op === 3;
  if (opcode === 0xfe || opcode === 0xff) return d.op <= 1;
  return opcode === 0x1ab || opcode === 0x1b3 || opcode === 0x1bb || opcode === 0x1ba || opcode === 0x1b0 || opcode === 0x1b1 || opcode === 0x1c0 || opcode === 0x1c1 || opcode === 0x1c7;
}

function decodeMem(d: Insn, byte: () => number, mod: number, rm: number, rexX: number, rexB: number, seg: number, m64: boolean): void {
  let defSeg = Seg.DS;
  if (d.as === 2) {
    if (mod === 0 && rm === 6) { d.base = -1; d.index = -1; d.disp = byte() | (byte() << 8); }
    else {
      d.base = MODRM16_BASE[rm]; d.index = MODRM16_INDEX[rm];
      if (rm === 2 || rm === 3 || rm === 6) defSeg = Seg.SS;
      if (mod === 1) { const v = byte(); d.disp = (v << 24) >> 24; } else if (mod === 2) { const v = byte() | (byte() << 8); d.disp = (v << 16) >> 16; }
    }
    // 16-bit addressing adds two registers: model as base + index (scale 0); the sum wraps at 64 KiB in ea().
    d.dispHi = d.disp >> 31;
    d.seg = seg >= 0 ? seg : defSeg;
    return;
  }
  if (rm === 4) {
    const sib = byte();
    const scale = sib >> 6, idx = ((sib >> 3) & 7) | rexX, base = (sib & 7);
    d.scale = scale;
    d.index = idx === 4 ? -1 : idx;
    if (base === 5 && mod === 0) { d.base = -1; d.disp = byte() | (byte() << 8) | (byte() << 16) | (byte() << 24); }
    else { d.base = base | rexB; if (base === 4 || base === 5) defSeg = Seg.SS; }
  } else if (rm === 5 && mod === 0) {
    d.base = -1; d.index = -1;
    d.disp = byte() | (byte() << 8) | (byte() << 16) | (byte() << 24);
    d.ripRel = m64;
  } else {
    d.base = rm | rexB; d.index = -1;
    if (rm === 5 || rm === 4) defSeg = Seg.SS;
  }
  if (mod === 1) { const v = byte(); d.disp = (v << 24) >> 24; }
  else if (mod === 2) d.disp = byte() | (byte() << 8) | (byte() << 16) | (byte() << 24);
  d.dispHi = d.disp >> 31;
  d.seg = seg >= 0 ? seg : defSeg;
}

