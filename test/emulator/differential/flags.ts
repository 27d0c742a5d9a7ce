// What each generated mnemonic does to the six arithmetic flags, per the Intel SDM
// ("Flags Affected" of each instruction). `def` flags get an exact value, `und` flags are
// architecturally undefined (masked from the comparison and never consumed afterwards),
// flags in neither are left unchanged. Shifts and rotates depend on the count and are
// resolved by shiftEffect().

export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
export const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;

export interface FlagEffect { reads: number; def: number; und: number }

const arith: FlagEffect = { reads: 0, def: ARITH_FLAGS, und: 0 };
const logic: FlagEffect = { reads: 0, def: CF | PF | ZF | SF | OF, und: AF };
const none: FlagEffect = { reads: 0, def: 0, und: 0 };
const mul: FlagEffect = { reads: 0, def: CF | OF, und: SF | ZF | AF | PF };

/** Flags each condition code reads (tttn order: o no b ae e ne be a s ns p np l ge le g). */
const conditionReads: Record<string, number> = {
  o: OF, no: OF, b: CF, ae: CF, e: ZF, ne: ZF, be: CF | ZF, a: CF | ZF,
  s: SF, ns: SF, p: PF, np: PF, l: SF | OF, ge: SF | OF, le: ZF | SF | OF, g: ZF | SF | OF,
};

const table: Record<string, FlagEffect> = {
  add: arith, sub: arith, cmp: arith, neg: arith, cmpxchg: arith, xadd: arith,
  adc: { ...arith, reads: CF }, sbb: { ...arith, reads: CF },
  and: logic, or: logic, xor: logic, test: logic,
  inc: { reads: 0, def: OF | SF | ZF | AF | PF, und: 0 }, dec: { reads: 0, def: OF | SF | ZF | AF | PF, und: 0 },
  not: none, mov: none, movzx: none, movsx: none, movsxd: none, lea: none, xchg: none, bswap: none, movbe: none,
  cbw: none, cwde: none, cdqe: none, cwd: none, cdq: none, cqo: none,
  mul, imul: mul,
  div: { reads: 0, def: 0, und: ARITH_FLAGS }, idiv: { reads: 0, def: 0, und: ARITH_FLAGS },
  bt: { reads: 0, def: CF, und: OF | SF | AF | PF }, bts: { reads: 0, def: CF, und: OF | SF | AF | PF },
  btr: { reads: 0, def: CF, und: OF | SF | AF | PF }, btc: { reads: 0, def: CF, und: OF | SF | AF | PF },
  bsf: { reads: 0, def: ZF, und: CF | OF | SF | AF | PF }, bsr: { reads: 0, def: ZF, und: CF | OF | SF | AF | PF },
  lzcnt: { reads: 0, def: CF | ZF, und: OF | SF | AF | PF }, tzcnt: { reads: 0, def: CF | ZF, und: OF | SF | AF | PF },
  popcnt: arith,
  cmpxchg8b: { reads: 0, def: ZF, und: 0 }, cmpxchg16b: { reads: 0, def: ZF, und: 0 },
  // 32-bit-only (compatibility-mode cases)
  daa: { reads: CF | AF, def: CF | AF | SF | ZF | PF, und: OF }, das: { reads: CF | AF, def: CF | AF | SF | ZF | PF, und: OF },
  aaa: { reads: AF, def: CF | AF, und: OF | SF | ZF | PF }, aas: { reads: AF, def: CF | AF, und: OF | SF | ZF | PF },
  aam: { reads: 0, def: SF | ZF | PF, und: OF | AF | CF }, aad: { reads: 0, def: SF | ZF | PF, und: OF | AF | CF },
  pusha: none, pushad: none, popa: none, popad: none, bound: none, into: { reads: OF, def: 0, und: 0 },
  lahf: { reads: SF | ZF | AF | PF | CF, def: 0, und: 0 }, sahf: { reads: 0, def: SF | ZF | AF | PF | CF, und: 0 },
};
for (const [cc, reads] of Object.entries(conditionReads)) {
  table[`cmov${cc}`] = { reads, def: 0, und: 0 };
  table[`set${cc}`] = { reads, def: 0, und: 0 };
}

export const SHIFTS = new Set(['shl', 'sal', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr', 'shld', 'shrd']);

export function flagEffect(mnemonic: string): FlagEffect | undefined { return table[mnemonic]; }

/** Effect of a shift/rotate of an operand of `size` bits by the (unmasked) `count`. */
export function shiftEffect(mnemonic: string, size: number, count: number): FlagEffect {
  const reads = mnemonic === 'rcl' || mnemonic === 'rcr' ? CF : 0;
  const masked = count & (size === 64 ? 63 : 31);
  if (masked === 0) return { reads: 0, def: 0, und: 0 };
  const of = masked === 1 ? OF : 0;
  if (mnemonic === 'rol' || mnemonic === 'ror' || mnemonic === 'rcl' || mnemonic === 'rcr') {
    return { reads, def: CF | of, und: OF & ~of };
  }
  // SHL/SHR/SAR/SHLD/SHRD: AF undefined; CF undefined once every bit has been shifted out
  // of an 8/16-bit operand (SDM: "count greater than or equal to the size").
  const cfUndefined = size < 32 && masked >= size;
  return { reads, def: (cfUndefined ? 0 : CF) | SF | ZF | PF | of, und: AF | (OF & ~of) | (cfUndefined ? CF : 0) };
}

export function flagNames(mask: number): string {
  const names: [number, string][] = [[CF, 'CF'], [PF, 'PF'], [AF, 'AF'], [ZF, 'ZF'], [SF, 'SF'], [OF, 'OF']];
  return names.filter(([bit]) => mask & bit).map(([, n]) => n).join(' ') || '-';
}
