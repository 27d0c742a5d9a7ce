// The seam for the SSE/SSE2 and x87 instruction sets, implemented in sse*.ts / x87*.ts.
// The decoder routes every SSE-space opcode (0F 10-17, 28-2F, 50-7F, AE /0-/3, C2, C4-C6,
// D0-FF, 0F 38 xx, 0F 3A xx) and every x87 opcode (D8-DF) through these lookups after it
// has decoded ModRM/SIB/displacement (and the imm8 the opcode carries). A lookup returns
// the handler, or undefined, in which case the instruction raises #UD. Until a module
// registers itself, every such opcode raises #UD.

import type { Handler } from './insn';

/** Identifies an SSE-space instruction: opcode as in Insn.opcode (0x1xx, 0x2xx, 0x3xx), the mandatory prefix, ModRM reg and mod. */
export interface SimdKey { opcode: number; prefix: 0 | 0x66 | 0xf3 | 0xf2; reg: number; mod: number }

export type SimdLookup = (key: SimdKey) => Handler | undefined;
/** x87: escape opcode 0xD8-0xDF with the ModRM byte. */
export type X87Lookup = (opcode: number, modrm: number) => Handler | undefined;

export const extensionHooks: { simd: SimdLookup | undefined; x87: X87Lookup | undefined } = { simd: undefined, x87: undefined };

export function registerSimd(lookup: SimdLookup): void { extensionHooks.simd = lookup; }
export function registerX87(lookup: X87Lookup): void { extensionHooks.x87 = lookup; }

/** 0F-map opcodes (second byte) that belong to the SSE space. */
export function isSimdOpcode(op2: number): boolean {
  return (op2 >= 0x10 && op2 <= 0x17) || (op2 >= 0x28 && op2 <= 0x2f) || (op2 >= 0x50 && op2 <= 0x7f)
    || op2 === 0xc2 || (op2 >= 0xc4 && op2 <= 0xc6) || op2 >= 0xd0;
}

/** 0F-map SSE opcodes followed by an imm8. */
export function simdHasImm8(op2: number): boolean {
  return (op2 >= 0x70 && op2 <= 0x73) || op2 === 0xc2 || (op2 >= 0xc4 && op2 <= 0xc6);
}
