// A decoded instruction. Decoded once when its block is built, then executed from the
// block cache; every field a handler needs is precomputed here so execution never re-reads
// or re-parses instruction bytes.

import type { Cpu } from './cpu';

export type Handler = (c: Cpu, d: Insn) => void;

/** Block-building flags of an instruction. */
export const enum InsnFlag {
  /** Ends the block (control transfer, mode change, interrupt-state change...). */
  EndBlock = 1,
}

export class Insn {
  fn: Handler = undefinedHandler;
  /** Length in bytes (1..15). */
  len = 0;
  /** Handler-specific selector: ALU operation, condition code, group /reg field... */
  op = 0;
  /** Operand size in bytes: 1, 2, 4 or 8. */
  os = 4;
  /** Address size in bytes: 2, 4 or 8. */
  as = 4;
  /** ModRM fields; reg and rm include REX extensions. For byte operands they are byte-register codes (0-15, 16-19 = AH..BH). */
  mod = 3;
  reg = 0;
  rm = 0;
  /** Memory operand: base/index register or -1, scale as a shift count, displacement as 32-bit halves. */
  base = -1;
  index = -1;
  scale = 0;
  disp = 0;
  dispHi = 0;
  ripRel = false;
  /** Effective segment of the memory operand (default or override). */
  seg = 3;
  /** Segment override prefix, or -1. */
  segOvr = -1;
  imm = 0;
  immHi = 0;
  /** Second immediate (ENTER's nesting level, far pointer selector). */
  imm2 = 0;
  /** 0: none, 1: REP/REPE (F3), 2: REPNE (F2). */
  rep = 0;
  lock = false;
  /** A mandatory-prefix-relevant 66 prefix was present (SSE decode). */
  opsizePrefix = false;
  rex = 0;
  flags = 0;
  /** Opcode: one-byte opcodes 0x000-0x0FF, 0F xx as 0x100-0x1FF, 0F 38 xx as 0x200-0x2FF, 0F 3A xx as 0x300-0x3FF. */
  opcode = 0;
}

function undefinedHandler(): void {
  throw new Error('instruction without handler');
}
