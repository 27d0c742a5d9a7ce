// Generates random user-mode x86-64 instruction sequences for the differential test.
//
// Instruction forms come from iced-x86's opcode tables (every legacy encoding of the
// mnemonics below that is valid in 64-bit mode: short accumulator forms, sign-extended
// immediates, REX and high-byte registers ...), and bytes come from iced-x86's encoder.
// One register (the "base") holds the data buffer address and is never an operand, so every
// memory operand ([base+disp], [rip+disp]) stays inside the buffer; RSP points into the stack
// half of the same compared window. Besides single forms there are hand-built constructs:
// call/ret, enter/leave, pushfq/popfq, forward branches over generated blocks, string ops.
// The generator tracks which flags are undefined at each point ("tainted") and never emits
// an instruction that would consume one, so the final state is fully defined except for
// the tainted flags, which the comparison masks.

import {
  Code, CodeExt, Encoder, FormatterSyntax, Formatter, Instruction, MemoryOperand, Mnemonic, OpCodeOperandKind as K, OpCodeTableKind, Register,
} from 'iced-x86';
import { Rng } from './rng';
import { ARITH_FLAGS, flagEffect, shiftEffect, SHIFTS, ZF, type FlagEffect } from './flags';

/** Fixed guest-linear (= host virtual) addresses, identical on both sides so RIP-relative operands agree. */
export const CODE_ADDRESS = 0x10000000;
export const SCRATCH_ADDRESS = 0x10010000;
/** The compared memory window: data buffer [0, 256) around BASE_VALUE, stack [256, 512) around STACK_VALUE. */
export const SCRATCH_SIZE = 512;
/** The base register points here; displacements stay within [-64, +56] of it. */
export const BASE_VALUE = SCRATCH_ADDRESS + 128;
/** Initial RSP (identical on both sides); pushes and pops stay within 96 bytes of it. */
export const STACK_VALUE = SCRATCH_ADDRESS + 384;
const MAX_DEPTH = 96;

export const GPR_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const RSP = 4;
const BASE_CHOICES = [3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

/** One instruction; `cut` is false inside a branch/call construct (a prefix may not end there). */
export interface Step { offset: number; length: number; text: string; taintBefore: number; cut: boolean }

export interface DiffCase {
  index: number;
  code: Uint8Array;
  /** Initial RAX..R15; RSP = STACK_VALUE (never an explicit operand, used by PUSH/POP/CALL...). */
  gprs: bigint[];
  rflags: bigint;
  mxcsr: number;
  /** XMM0-15, 16 bytes each. */
  xmm: Uint8Array;
  memory: Uint8Array;
  steps: Step[];
  /** Flags undefined at the end of the sequence. */
  taintEnd: number;
  base: number;
  /** 64: 64-bit mode; 32: compatibility mode (CS.L=0, CS.D=1) at the same addresses. */
  bits: 64 | 32;
}

type OperandKind = 'rm' | 'reg' | 'mem' | 'imm' | 'fixed' | 'xreg' | 'xrm';
interface FormOperand { kind: OperandKind; size: number; immKind?: K; fixed?: Register }
interface Form { code: Code; mnemonic: string; operands: FormOperand[]; lock: boolean; opSize: number }

const MNEMONICS = new Set([
  'add', 'adc', 'sub', 'sbb', 'cmp', 'and', 'or', 'xor', 'test', 'neg', 'not', 'inc', 'dec',
  'shl', 'sal', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr', 'shld', 'shrd',
  'mul', 'imul', 'div', 'idiv', 'bt', 'bts', 'btr', 'btc', 'bsf', 'bsr', 'lzcnt', 'tzcnt', 'popcnt',
  'bswap', 'movbe', 'cmpxchg', 'cmpxchg8b', 'cmpxchg16b', 'xadd', 'xchg', 'movsx', 'movzx', 'movsxd', 'cbw', 'cwde', 'cdqe', 'cwd', 'cdq', 'cqo',
  'lahf', 'sahf', 'lea', 'mov', 'push', 'pop',
  'daa', 'das', 'aaa', 'aas', 'aam', 'aad', 'pusha', 'pushad', 'popa', 'popad', 'bound', 'into', // 32-bit only
  ...['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'].flatMap((cc) => [`cmov${cc}`, `set${cc}`]),
]);

/** SSE/SSE2 as compilers emit it; generated only when asked for (`only`, or `sse: true`). */
export const SSE_MNEMONICS = new Set(`movaps movups movapd movupd movss movsd movd movq movdqa movdqu movlps movhps movlpd
  movhpd movhlps movlhps addps addss addpd addsd subps subss subpd subsd mulps mulss mulpd mulsd divps divss divpd divsd
  sqrtps sqrtss sqrtpd sqrtsd minps minss minpd minsd maxps maxss maxpd maxsd andps andnps orps xorps andpd andnpd orpd
  xorpd cmpps cmpss cmppd cmpsd comiss ucomiss comisd ucomisd shufps shufpd unpcklps unpckhps unpcklpd unpckhpd cvtsi2ss
  cvtsi2sd cvtss2si cvttss2si cvtsd2si cvttsd2si cvtss2sd cvtsd2ss cvtps2pd cvtpd2ps cvtdq2ps cvtps2dq cvttps2dq cvtdq2pd
  cvtpd2dq cvttpd2dq paddb paddw paddd paddq psubb psubw psubd psubq paddsb paddsw paddusb paddusw psubsb psubsw psubusb
  psubusw pmullw pmulhw pmulhuw pmuludq pmaddwd pand pandn por pxor pcmpeqb pcmpeqw pcmpeqd pcmpgtb pcmpgtw pcmpgtd psllw
  pslld psllq psrlw psrld psrlq psraw psrad pslldq psrldq punpcklbw punpcklwd punpckldq punpcklqdq punpckhbw punpckhwd
  punpckhdq punpckhqdq packsswb packssdw packuswb pshufd pshuflw pshufhw pmovmskb movmskps movmskpd pextrw pinsrw pminub
  pmaxub pminsw pmaxsw pavgb pavgw psadbw`.split(/\s+/));

const regKinds: Partial<Record<K, [OperandKind, number]>> = {
  [K.r8_or_mem]: ['rm', 8], [K.r16_or_mem]: ['rm', 16], [K.r32_or_mem]: ['rm', 32], [K.r64_or_mem]: ['rm', 64],
  [K.r8_reg]: ['reg', 8], [K.r8_opcode]: ['reg', 8], [K.r16_reg]: ['reg', 16], [K.r16_opcode]: ['reg', 16], [K.r16_rm]: ['reg', 16],
  [K.r32_reg]: ['reg', 32], [K.r32_opcode]: ['reg', 32], [K.r32_rm]: ['reg', 32],
  [K.r64_reg]: ['reg', 64], [K.r64_opcode]: ['reg', 64], [K.r64_rm]: ['reg', 64], [K.mem]: ['mem', 0],
  [K.xmm_reg]: ['xreg', 128], [K.xmm_rm]: ['xreg', 128], [K.xmm_or_mem]: ['xrm', 128],
};
const fixedKinds: Partial<Record<K, [Register, number]>> = {
  [K.al]: [Register.AL, 8], [K.cl]: [Register.CL, 8], [K.ax]: [Register.AX, 16], [K.eax]: [Register.EAX, 32], [K.rax]: [Register.RAX, 64],
};
const immKinds = new Set([K.imm8, K.imm8sex16, K.imm8sex32, K.imm8sex64, K.imm16, K.imm32, K.imm32sex64, K.imm64, K.imm8_const_1]);

/** Host features the caller detected (CPUID on the host); forms needing a missing one are not generated. */
export interface HostFeatures { lzcnt: boolean; popcnt: boolean; bmi1: boolean; movbe: boolean; lahf64: boolean }

function buildForms(features: HostFeatures, only: ReadonlySet<string> | undefined, sse: boolean, bits: 64 | 32): Form[] {
  const forms: Form[] = [];
  const count = Object.keys(Code).filter((k) => Number.isNaN(Number(k))).length;
  for (let code = 1; code < count; code++) {
    const info = CodeExt.opCode(code);
    try {
      const mnemonic = Mnemonic[info.mnemonic].toLowerCase();
      const known = MNEMONICS.has(mnemonic) || SSE_MNEMONICS.has(mnemonic);
      const wanted = only ? only.has(mnemonic) : MNEMONICS.has(mnemonic) || (sse && SSE_MNEMONICS.has(mnemonic));
      if (!known || !wanted || !(bits === 64 ? info.mode64 : info.mode32) || info.encoding !== 0 || !info.isInstruction) continue;
      // 0F 38 / 0F 3A maps hold SSSE3/SSE4 forms (e.g. SSE4.1 PEXTRW r/m16): outside SSE2.
      if (SSE_MNEMONICS.has(mnemonic) && info.table !== OpCodeTableKind.Normal && info.table !== OpCodeTableKind.T0F) continue;
      if ((mnemonic === 'lzcnt' && !features.lzcnt) || (mnemonic === 'tzcnt' && !features.bmi1) ||
        (mnemonic === 'popcnt' && !features.popcnt) || (mnemonic === 'movbe' && !features.movbe) ||
        ((mnemonic === 'lahf' || mnemonic === 'sahf') && !features.lahf64)) continue;
      const operands: FormOperand[] = [];
      let ok = true;
      for (let i = 0; i < info.opCount; i++) {
        const kind = info.opKind(i);
        const reg = regKinds[kind]; const fixed = fixedKinds[kind];
        if (reg) operands.push({ kind: reg[0], size: reg[1] });
        else if (fixed) operands.push({ kind: 'fixed', size: fixed[1], fixed: fixed[0] });
        else if (immKinds.has(kind)) operands.push({ kind: 'imm', size: 0, immKind: kind });
        else ok = false;
      }
      // 16-bit BSWAP is undefined; MOV to/from segment registers etc. were filtered by kind.
      if (!ok || (mnemonic === 'bswap' && info.operandSize === 16)) continue;
      const isSse = operands.some((o) => o.kind === 'xreg' || o.kind === 'xrm') || SSE_MNEMONICS.has(mnemonic) && !MNEMONICS.has(mnemonic);
      forms.push({ code, mnemonic: isSse ? `sse:${mnemonic}` : mnemonic, operands, lock: info.canUseLockPrefix, opSize: info.operandSize || operands.find((o) => o.size && o.size < 128)?.size || 0 });
    } finally {
      info.free();
    }
  }
  return forms;
}

const REG8 = [Register.AL, Register.CL, Register.DL, Register.BL, Register.AH, Register.CH, Register.DH, Register.BH,
  Register.SPL, Register.BPL, Register.SIL, Register.DIL, Register.R8L, Register.R9L, Register.R10L, Register.R11L,
  Register.R12L, Register.R13L, Register.R14L, Register.R15L];

/** 0-15 index of the 64-bit register a register operand belongs to. */
export function fullIndex(reg: Register): number {
  if (reg >= Register.AL && reg <= Register.BL) return reg - Register.AL;
  if (reg >= Register.AH && reg <= Register.BH) return reg - Register.AH;
  if (reg >= Register.SPL && reg <= Register.R15L) return reg - Register.SPL + 4;
  if (reg >= Register.AX && reg <= Register.R15W) return reg - Register.AX;
  if (reg >= Register.EAX && reg <= Register.R15D) return reg - Register.EAX;
  if (reg >= Register.RAX && reg <= Register.R15) return reg - Register.RAX;
  return -1;
}

function regOfSize(index: number, size: number): Register {
  switch (size) {
    case 8: return index < 4 ? Register.AL + index : Register.SPL + index - 4;
    case 16: return Register.AX + index;
    case 32: return Register.EAX + index;
    default: return Register.RAX + index;
  }
}

type Built = { t: 'r'; reg: Register } | { t: 'm'; mem: MemoryOperand } | { t: 'i'; value: number; u64?: bigint; signed: boolean };

class Builder {
  readonly encoder: Encoder;
  readonly formatter = new Formatter(FormatterSyntax.Intel);
  bytes: number[] = [];
  steps: Step[] = [];
  taint = 0;
  /** Bytes pushed below STACK_VALUE (negative: popped above it). */
  depth = 0;
  /** Open branch/call constructs; no prefix cut inside one. */
  open = 0;

  /** Appends hand-encoded bytes as one step. */
  raw(bytes: number[], text: string, effect: FlagEffect): void {
    this.steps.push({ offset: this.bytes.length, length: bytes.length, text, taintBefore: this.taint, cut: this.open === 0 });
    this.bytes.push(...bytes);
    this.taint = (this.taint & ~effect.def) | effect.und;
  }

  /** General registers this mode has (8 without REX in compatibility mode). */
  readonly regs: number;

  constructor(readonly rng: Rng, readonly base: number, readonly bits: 64 | 32) {
    this.encoder = new Encoder(bits);
    this.regs = bits === 64 ? 16 : 8;
  }

  randomReg(size: number): Register {
    for (;;) {
      const reg = size === 8 ? REG8[this.rng.int(this.regs === 16 ? REG8.length : 8)] : regOfSize(this.rng.int(this.regs), size);
      const idx = fullIndex(reg);
      if (idx !== RSP && idx !== this.base) return reg;
    }
  }

  scratchOperand(disp = this.rng.int(121) - 64 /* [-64, 56] */): MemoryOperand {
    if (this.rng.chance(0.12)) {
      return this.bits === 64
        ? new MemoryOperand(Register.RIP, Register.None, 1, BigInt(BASE_VALUE + disp), 8, false, Register.None)
        : new MemoryOperand(Register.None, Register.None, 1, BigInt(BASE_VALUE + disp), 4, false, Register.None);
    }
    const baseReg = (this.bits === 64 ? Register.RAX : Register.EAX) + this.base;
    const size = disp === 0 && this.rng.chance(0.5) ? 0 : this.rng.chance(0.2) ? 4 : 1;
    return new MemoryOperand(baseReg, Register.None, 1, BigInt(disp), size, false, Register.None);
  }

  /** Any address expression, for LEA (never dereferenced). */
  leaOperand(): MemoryOperand {
    if (this.bits === 32 && this.rng.chance(0.25)) {
      // 16-bit addressing (67 prefix): [bx|bp + si|di + disp], computed modulo 64 KiB
      const [base, index] = this.rng.pick([[Register.BX, Register.SI], [Register.BX, Register.DI], [Register.BP, Register.SI],
        [Register.BP, Register.DI], [Register.SI, Register.None], [Register.DI, Register.None], [Register.BX, Register.None], [Register.BP, Register.None]]);
      const disp = this.rng.int(3) === 0 ? this.rng.int(256) - 128 : this.rng.int(0x10000);
      return new MemoryOperand(base, index, 1, BigInt(disp), disp >= -128 && disp < 128 ? 1 : 2, false, Register.None);
    }
    const wide = this.bits === 64 && this.rng.chance(0.8);
    const pickReg = (): Register => {
      for (;;) {
        const i = this.rng.int(this.regs);
        if (i !== RSP) return (wide ? Register.RAX : Register.EAX) + i;
      }
    };
    if (wide && this.rng.chance(0.1)) {
      return new MemoryOperand(Register.RIP, Register.None, 1, BigInt(CODE_ADDRESS + this.rng.int(0x10000)), 8, false, Register.None);
    }
    const base = this.rng.chance(0.85) ? pickReg() : Register.None;
    const index = this.rng.chance(0.6) ? pickReg() : Register.None;
    const scale = index === Register.None ? 1 : this.rng.pick([1, 2, 4, 8]);
    const dispKind = this.rng.int(3);
    const disp = dispKind === 0 ? 0 : dispKind === 1 ? this.rng.int(256) - 128 : (this.rng.u32() | 0);
    const displSize = base === Register.None ? (wide ? 8 : 4) : dispKind === 0 ? 0 : dispKind === 1 ? 1 : 4;
    return new MemoryOperand(base, index, scale, BigInt(disp), displSize, false, Register.None);
  }

  immediate(kind: K): { value: number; signed: boolean; u64?: bigint } {
    switch (kind) {
      case K.imm8_const_1: return { value: 1, signed: true };
      case K.imm8: return { value: this.rng.int(256), signed: false };
      case K.imm8sex16: case K.imm8sex32: case K.imm8sex64: return { value: this.rng.int(256) - 128, signed: true };
      case K.imm16: return { value: this.rng.int(0x10000), signed: false };
      case K.imm32: return { value: this.rng.u32(), signed: false };
      case K.imm32sex64: return { value: this.rng.u32() | 0, signed: true };
      default: return { value: 0, signed: false, u64: this.rng.interesting64() };
    }
  }

  /** Encodes one instruction and records its flag effect; false if iced refuses the combination. */
  emit(code: Code, ops: Built[], effect: FlagEffect, lock = false): boolean {
    const suffix = ops.map((o) => (o.t === 'r' ? 'Reg' : o.t === 'm' ? 'Mem' : o.u64 !== undefined ? 'U64' : o.signed ? 'I32' : 'U32')).join('');
    const args = ops.map((o) => (o.t === 'r' ? o.reg : o.t === 'm' ? o.mem : o.u64 ?? o.value));
    let instr: Instruction;
    try {
      instr = (Instruction as any)[`create${suffix}`](code, ...args);
    } catch {
      return false;
    }
    try {
      if (lock) instr.hasLockPrefix = true;
      const offset = this.bytes.length;
      let length: number;
      try {
        length = this.encoder.encode(instr, BigInt(CODE_ADDRESS + offset));
      } catch {
        this.encoder.takeBuffer(); // drop the partial encoding left behind
        return false;
      }
      this.bytes.push(...this.encoder.takeBuffer());
      this.steps.push({ offset, length, text: this.formatter.format(instr), taintBefore: this.taint, cut: this.open === 0 });
      this.taint = (this.taint & ~effect.def) | effect.und;
      return true;
    } finally {
      instr.free();
    }
  }
}

/** COMISS/UCOMISS/COMISD/UCOMISD write ZF PF CF and clear OF SF AF; other SSE forms leave RFLAGS alone. */
function sseFlagEffect(m: string): FlagEffect {
  return /^u?comis[sd]$/.test(m) ? { reads: 0, def: ARITH_FLAGS, und: 0 } : { reads: 0, def: 0, und: 0 };
}

const F32 = [0, 0x80000000, 0x3f800000, 0xbf800000, 0x3fc00000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fa00000,
  0x00000001, 0x807fffff, 0x00800000, 0x7f7fffff, 0x4f000000, 0xcf000000, 0x4b000000, 0x3effffff, 0x4effffff, 0xdf000000];
const F64 = [0n, 0x8000000000000000n, 0x3ff0000000000000n, 0xbff0000000000000n, 0x3ff8000000000000n, 0x7ff0000000000000n,
  0xfff0000000000000n, 0x7ff8000000000000n, 0x7ff4000000000000n, 0x0000000000000001n, 0x000fffffffffffffn, 0x0010000000000000n,
  0x7fefffffffffffffn, 0x43e0000000000000n, 0xc3e0000000000000n, 0x41e0000000000000n, 0xc1e0000000000000n, 0x3fdfffffffffffffn,
  0x47efffffe0000000n, 0x36a0000000000000n];

/** One 8-byte XMM lane: interesting doubles, pairs of interesting floats, ordinary numbers, or raw bits. */
function fillSimdLane(rng: Rng, dv: DataView, at: number): void {
  switch (rng.int(6)) {
    case 0: dv.setBigUint64(at, rng.pick(F64), true); break;
    case 1: dv.setUint32(at, rng.pick(F32), true); dv.setUint32(at + 4, rng.pick(F32), true); break;
    case 2: dv.setFloat64(at, (rng.int(2000001) - 1000000) / (1 << rng.int(12)), true); break;
    case 3: dv.setFloat32(at, (rng.int(20001) - 10000) / (1 << rng.int(8)), true); dv.setFloat32(at + 4, rng.int(1000) - 500, true); break;
    default: dv.setUint32(at, rng.u32(), true); dv.setUint32(at + 4, rng.u32(), true);
  }
}

const ALU_IMM8: Record<number, Code> = { 16: Code.Or_rm16_imm8, 32: Code.Or_rm32_imm8, 64: Code.Or_rm64_imm8 };
const AND_IMM8: Record<number, Code> = { 16: Code.And_rm16_imm8, 32: Code.And_rm32_imm8, 64: Code.And_rm64_imm8 };
const SIGN_EXTEND: Record<number, Code> = { 8: Code.Cbw, 16: Code.Cwd, 32: Code.Cdq, 64: Code.Cqo };
const logicEffect = flagEffect('or')!;
const noEffect: FlagEffect = { reads: 0, def: 0, und: 0 };

/** Hand-built constructs (not single forms): selected by these names in `only`, all on by default. */
export const CONSTRUCTS = ['calls', 'branches', 'strings', 'x87'] as const;
type Construct = typeof CONSTRUCTS[number];
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

export class Generator {
  private readonly forms: Form[];
  private readonly constructs: Construct[];

  /** `only`: restrict to these mnemonics (lower case); default all of MNEMONICS. */
  constructor(features: HostFeatures, only?: readonly string[], sse = false, readonly bits: 64 | 32 = 64) {
    this.forms = buildForms(features, only && new Set(only), sse, bits);
    this.constructs = CONSTRUCTS.filter((c) => !only || only.includes(c));
    if (this.forms.length < (only ? 1 : 250)) throw new Error(`only ${this.forms.length} instruction forms found in iced-x86's tables`);
  }

  get formCount(): number { return this.forms.length; }

  generate(seed: number, index: number): DiffCase {
    const rng = new Rng((Math.imul(seed, 0x9e3779b1) + index) >>> 0);
    const base = rng.pick(this.bits === 64 ? BASE_CHOICES : BASE_CHOICES.filter((r) => r < 8));
    const b = new Builder(rng, base, this.bits);
    const target = 1 + rng.int(8);
    for (let attempts = 0; b.steps.length < target && attempts < 200; attempts++) {
      if (this.constructs && rng.chance(0.15)) this.construct(b);
      else this.tryEmit(b, rng.pick(this.forms));
    }
    const gprs = Array.from({ length: 16 }, () => rng.interesting64());
    gprs[base] = BigInt(BASE_VALUE);
    gprs[RSP] = BigInt(STACK_VALUE);
    const memory = new Uint8Array(SCRATCH_SIZE);
    for (let i = 0; i < SCRATCH_SIZE; i += 8) {
      const v = rng.interesting64();
      for (let j = 0; j < 8; j++) memory[i + j] = Number((v >> BigInt(8 * j)) & 0xffn);
    }
    const rflags = 0x2n | BigInt(rng.u32() & 0x8d5);
    const xmm = new Uint8Array(256);
    const xv = new DataView(xmm.buffer);
    for (let i = 0; i < 256; i += 8) fillSimdLane(rng, xv, i);
    const r = rng.int(10);
    const mxcsr = r < 7 ? 0x1f80
      : r === 7 ? 0x1f80 | (rng.int(4) << 13)           // rounding mode
        : r === 8 ? 0x1f80 | (rng.chance(0.5) ? 0x8000 : 0x40) // FTZ or DAZ
          : 0x1f80 & ~(1 << (7 + rng.int(6)));          // one exception unmasked
    b.encoder.free(); b.formatter.free();
    return { index, code: Uint8Array.from(b.bytes), gprs, rflags, mxcsr, xmm, memory, steps: b.steps, taintEnd: b.taint, base, bits: this.bits };
  }

  private construct(b: Builder): void {
    const rng = b.rng;
    const kind = rng.pick(this.constructs);
    const save = { bytes: b.bytes.length, steps: b.steps.length, taint: b.taint, depth: b.depth, open: b.open };
    const rollback = (): void => {
      b.bytes.length = save.bytes; b.steps.length = save.steps; b.taint = save.taint; b.depth = save.depth; b.open = save.open;
    };
    const none: FlagEffect = { reads: 0, def: 0, und: 0 };
    const w = b.bits / 8; // stack slot
    if (kind === 'calls') {
      const v = rng.int(4);
      if (v === 0 && b.depth + 8 <= MAX_DEPTH) {
        // call L; jmp short over; L: ret
        b.open++;
        b.raw([0xe8, 2, 0, 0, 0], 'call $+7', none);
        b.raw([0xeb, 1], 'jmp $+3', none);
        b.open--;
        b.raw([0xc3], 'ret', none);
      } else if (v === 1 && b.depth + 16 <= MAX_DEPTH) {
        // push imm8; call L; jmp short over; L: ret 8 (drops the pushed qword)
        b.raw([0x6a, rng.int(256)], 'push imm8', none);
        b.open++;
        b.raw([0xe8, 2, 0, 0, 0], 'call $+7', none);
        b.raw([0xeb, 3], 'jmp $+5', none);
        b.open--;
        b.raw([0xc2, w, 0], `ret ${w}`, none);
      } else if (v === 2 && b.base !== 5 && b.depth <= 24) {
        const size = 8 * rng.int(7), level = rng.int(2);
        b.open++;
        b.raw([0xc8, size, 0, level], `enter ${size},${level}`, none);
        b.open--;
        b.raw([0xc9], 'leave', none);
      } else if (b.depth + 8 <= MAX_DEPTH) {
        if (rng.chance(0.5)) {
          // push imm32; popfq: every arithmetic flag and DF become defined
          const value = (rng.u32() & 0x8d5) | (rng.chance(0.3) ? 0x400 : 0) | 2;
          b.raw([0x68, value & 0xff, value >> 8, 0, 0], `push 0x${value.toString(16)}`, none);
          b.raw([0x9d], 'popfq', { reads: 0, def: ARITH_FLAGS, und: 0 });
        } else if (!(b.taint & ARITH_FLAGS)) {
          b.raw([0x9c], 'pushfq', none);
          b.depth += w;
          if (rng.chance(0.5)) {
            const reg = b.randomReg(b.bits);
            if (!b.emit(b.bits === 64 ? Code.Pop_r64 : Code.Pop_r32, [{ t: 'r', reg }], none)) return rollback();
            b.depth -= w;
          }
        }
      }
      return;
    }
    if (kind === 'branches') {
      const v = rng.int(8);
      let op: number[], text: string, reads = 0;
      if (v < 4) {
        const cc = rng.int(16);
        op = [0x70 | cc, 0]; text = `j${CC[cc]}`; reads = flagEffect(`set${CC[cc]}`)!.reads;
      } else if (v === 4) {
        op = [0xeb, 0]; text = 'jmp';
      } else if (v === 5) {
        op = [0xe2, 0]; text = 'loop';
      } else if (v === 6) {
        const e = rng.chance(0.5);
        op = [e ? 0xe1 : 0xe0, 0]; text = e ? 'loope' : 'loopne'; reads = ZF;
      } else {
        const a32 = rng.chance(0.3);
        op = a32 ? [0x67, 0xe3, 0] : [0xe3, 0]; text = a32 ? 'jecxz' : 'jrcxz';
      }
      if (reads & b.taint) return;
      const before = b.taint;
      const at = b.bytes.length, stepAt = b.steps.length;
      b.open++;
      b.raw(op, text, none);
      const body = 1 + rng.int(3);
      for (let n = 0, tries = 0; n < body && tries < 20; tries++) if (this.tryEmit(b, rng.pick(this.forms))) n++;
      b.open--;
      const disp = b.bytes.length - (at + op.length);
      if (disp > 127 || b.steps.length === stepAt + 1) return rollback();
      b.bytes[at + op.length - 1] = disp;
      b.steps[stepAt].text = `${text} $+${disp + op.length}`;
      b.taint |= before; // either path may have run
      return;
    }
    if (kind === 'x87') {
      // The x87 control subset C code uses; FNINIT first so no state carries over between cases.
      const mem = (): MemoryOperand => b.scratchOperand(2 * (rng.int(61) - 32));
      b.raw([0xdb, 0xe3], 'fninit', none);
      if (rng.chance(0.6) && !b.emit(Code.Fldcw_m2byte, [{ t: 'm', mem: mem() }], none)) return rollback();
      if (!b.emit(Code.Fnstcw_m2byte, [{ t: 'm', mem: mem() }], none)) return rollback();
      if (rng.chance(0.5)) b.raw([0xdf, 0xe0], 'fnstsw ax', none);
      else if (!b.emit(Code.Fnstsw_m2byte, [{ t: 'm', mem: mem() }], none)) return rollback();
      if (rng.chance(0.5)) b.raw([0x9b], 'fwait', none);
      return;
    }
    // strings: MOVS/STOS/LODS/CMPS/SCAS (with REP/REPE/REPNE, 8-64 bit, 64/32-bit addresses) and XLAT
    if (b.base === 6 || b.base === 7) return;
    const wide = b.bits === 64;
    const baseReg = (wide ? Register.RAX : Register.EAX) + b.base;
    const leaCode = wide ? Code.Lea_r64_m : Code.Lea_r32_m;
    if (rng.chance(0.15)) {
      if (b.base !== 3 && !b.emit(leaCode, [{ t: 'r', reg: wide ? Register.RBX : Register.EBX }, { t: 'm', mem: new MemoryOperand(baseReg, Register.None, 1, -128n, 1, false, Register.None) }], none)) return rollback();
      b.raw(wide && rng.chance(0.5) ? [0x48, 0xd7] : [0xd7], 'xlat', none);
      return;
    }
    const op = rng.pick(['movs', 'stos', 'lods', 'cmps', 'scas'] as const);
    const size = rng.pick(wide ? [1, 2, 4, 8] : [1, 2, 4]);
    const usesSi = op === 'movs' || op === 'lods' || op === 'cmps';
    const usesDi = op !== 'lods';
    const back = rng.chance(0.4);
    const count = rng.int(9);
    const rep = rng.chance(0.7) ? (op === 'cmps' || op === 'scas' ? rng.pick([0xf3, 0xf2]) : 0xf3) : 0;
    const lea = (reg: Register): boolean => b.emit(leaCode, [{ t: 'r', reg: wide ? reg : reg - Register.RAX + Register.EAX },
      { t: 'm', mem: new MemoryOperand(baseReg, Register.None, 1, BigInt(-rng.int(65)), 1, false, Register.None) }], none);
    if (usesSi && !lea(Register.RSI)) return rollback();
    if (usesDi && !lea(Register.RDI)) return rollback();
    if (rep && !b.emit(Code.Mov_r32_imm32, [{ t: 'r', reg: Register.ECX }, { t: 'i', value: count, signed: false }], none)) return rollback();
    if (back) b.raw([0xfd], 'std', none);
    const base = { movs: 0xa4, stos: 0xaa, lods: 0xac, cmps: 0xa6, scas: 0xae }[op];
    const addr32 = wide && rng.chance(0.2); // in compatibility mode 67 would mean 16-bit SI/DI
    const bytes = [...(rep ? [rep] : []), ...(addr32 ? [0x67] : []), ...(size === 2 ? [0x66] : []), ...(size === 8 ? [0x48] : []), size === 1 ? base : base + 1];
    const compares = op === 'cmps' || op === 'scas';
    const effect = compares && !(rep && count === 0) ? { reads: 0, def: ARITH_FLAGS, und: 0 } : none;
    const prefix = rep === 0xf2 ? 'repne ' : rep ? (compares ? 'repe ' : 'rep ') : '';
    b.raw(bytes, `${prefix}${addr32 ? 'a32 ' : ''}${op}${'bwdq'[[1, 2, 4, 8].indexOf(size)]}`, effect);
    if (rng.chance(0.5)) b.raw([0xfc], 'cld', none);
  }

  private tryEmit(b: Builder, form: Form): boolean {
    const rng = b.rng;
    const ops: Built[] = [];
    let memIndex = -1;
    for (const o of form.operands) {
      if (o.kind === 'fixed') ops.push({ t: 'r', reg: o.fixed! });
      else if (o.kind === 'imm') ops.push({ t: 'i', ...b.immediate(o.immKind!) });
      else if (o.kind === 'xreg' || (o.kind === 'xrm' && (memIndex >= 0 || !rng.chance(0.3)))) ops.push({ t: 'r', reg: Register.XMM0 + rng.int(b.regs) });
      else if (o.kind === 'xrm') {
        // Packed forms fault (#GP) on a misaligned operand: mostly aligned, sometimes not.
        memIndex = ops.length;
        const disp = (rng.int(7) - 4) * 16 + (rng.chance(0.1) ? 4 * (1 + rng.int(3)) : 0);
        ops.push({ t: 'm', mem: b.scratchOperand(disp) });
      }
      else if (o.kind === 'mem' || (o.kind === 'rm' && memIndex < 0 && rng.chance(0.3))) {
        memIndex = ops.length;
        ops.push({ t: 'm', mem: form.mnemonic === 'lea' ? b.leaOperand() : b.scratchOperand() });
      } else ops.push({ t: 'r', reg: b.randomReg(o.size) });
    }
    const m = form.mnemonic.startsWith('sse:') ? form.mnemonic.slice(4) : form.mnemonic;
    const size = form.opSize || 8;
    // Operand-dependent preparation so every result is architecturally defined.
    const pre: (() => boolean)[] = [];
    let effect = form.mnemonic.startsWith('sse:') ? sseFlagEffect(m) : flagEffect(m);
    if (SHIFTS.has(m)) {
      const countOp = ops[ops.length - 1];
      let count = rng.pick([0, 1, 1, 2, size - 1, size, size + 1, 31, 32, 63, 64, rng.int(256)]);
      if ((m === 'shld' || m === 'shrd') && size === 16) count = rng.int(17); // >16 leaves the result undefined
      if (countOp.t === 'i') {
        if (form.operands[form.operands.length - 1].immKind === K.imm8_const_1) count = 1;
        else countOp.value = count;
      } else {
        pre.push(() => b.emit(Code.Mov_r8_imm8, [{ t: 'r', reg: Register.CL }, { t: 'i', value: count, signed: false }], noEffect));
      }
      effect = shiftEffect(m, size, count);
    } else if (m === 'div' || m === 'idiv') {
      const d = ops[0];
      if (d.t === 'r' && fullIndex(d.reg) === 0) return false;
      if (d.t === 'r' && size > 8 && fullIndex(d.reg) === 2) return false;
      if (rng.chance(0.9)) {
        pre.push(() => (m === 'div'
          ? size === 8 ? b.emit(Code.Mov_r8_imm8, [{ t: 'r', reg: Register.AH }, { t: 'i', value: 0, signed: false }], noEffect)
            : b.emit(Code.Mov_r32_imm32, [{ t: 'r', reg: Register.EDX }, { t: 'i', value: 0, signed: false }], noEffect)
          : b.emit(SIGN_EXTEND[size], [], noEffect)));
        pre.push(() => b.emit(size === 8 ? Code.Or_rm8_imm8 : ALU_IMM8[size], [d, { t: 'i', value: 1, signed: size !== 8 }], logicEffect));
      }
    } else if (m === 'cmpxchg8b' || m === 'cmpxchg16b') {
      // Half the time load EDX:EAX / RDX:RAX from the operand so the "equal" path runs too.
      const wide = m === 'cmpxchg16b';
      const disp = (rng.int(7) - 4) * 16 + (rng.chance(0.1) ? 8 : 0); // 16-aligned except sometimes (#GP for 16b)
      ops[0] = { t: 'm', mem: b.scratchOperand(disp) };
      if (rng.chance(0.5)) {
        const load = wide ? Code.Mov_r64_rm64 : Code.Mov_r32_rm32;
        const [ax, dx] = wide ? [Register.RAX, Register.RDX] : [Register.EAX, Register.EDX];
        pre.push(() => b.emit(load, [{ t: 'r', reg: ax }, { t: 'm', mem: b.scratchOperand(disp) }], noEffect));
        pre.push(() => b.emit(load, [{ t: 'r', reg: dx }, { t: 'm', mem: b.scratchOperand(disp + (wide ? 8 : 4)) }], noEffect));
      }
    } else if ((m === 'bsf' || m === 'bsr')) {
      // A zero source leaves the destination undefined: force a set bit, keep the others random.
      const src = ops[1];
      pre.push(() => b.emit(ALU_IMM8[size], [src, { t: 'i', value: 1 << rng.int(7), signed: true }], logicEffect));
    } else if (m.startsWith('bt') && ops[0].t === 'm' && ops[1].t === 'r') {
      // A register bit offset addresses memory beyond the operand: keep it inside the buffer.
      pre.push(() => b.emit(AND_IMM8[size], [ops[1], { t: 'i', value: 0x7f, signed: true }], logicEffect));
    }
    if (m === 'push' || m === 'pop' || m.startsWith('pusha') || m.startsWith('popa')) {
      const bytes = ((form.opSize || b.bits) / 8) * (m.startsWith('pusha') || m.startsWith('popa') ? 8 : 1);
      const next = b.depth + (m.startsWith('push') ? bytes : -bytes);
      if (Math.abs(next) > MAX_DEPTH) return false;
      pre.push(() => { b.depth = next; return true; });
      effect = { reads: 0, def: 0, und: 0 };
    }
    if (!effect) throw new Error(`no flag table entry for ${m}`);
    const lock = form.lock && memIndex === 0 && rng.chance(0.3);
    const save = { bytes: b.bytes.length, steps: b.steps.length, taint: b.taint, depth: b.depth };
    const rollback = (): false => { b.bytes.length = save.bytes; b.steps.length = save.steps; b.taint = save.taint; b.depth = save.depth; return false; };
    for (const p of pre) if (!p()) return rollback();
    if (effect.reads & b.taint) return rollback();
    if (!b.emit(form.code, ops, effect, lock)) return rollback();
    // POPA/POPAD reload the base register too: point it back at the buffer.
    if (m.startsWith('popa') && !b.emit(Code.Mov_r32_imm32, [{ t: 'r', reg: Register.EAX + b.base }, { t: 'i', value: BASE_VALUE, signed: false }], noEffect)) return rollback();
    return true;
  }
}
