// The register model of the Variables view and of expressions: every register, sub-register
// and register field is a byte slice of one 16-byte HV_REGISTER_VALUE, named by its
// HV_REGISTER_NAME code, so a whole stop needs one GetVpRegisters call and a write is a
// read-modify-write of one value through SetVpRegisters.
import { HvRegisterName } from '../partition/hvdef';
import {
  APIC_BASE_BITS, BitField, CR0_BITS, CR3_BITS, CR4_BITS, DR6_BITS, DR7_BITS, EFER_BITS, FCW_BITS, FSW_BITS,
  MXCSR_BITS, RFLAGS_BITS, SEGMENT_ATTRIBUTE_BITS,
} from './bitfields';

export interface RegisterSlice {
  /** Display and expression name, e.g. `rax`, `eax`, `cs`, `cs.Base` children are named `Base`. */
  name: string;
  hv: HvRegisterName;
  /** Byte offset and size inside the 16-byte HV_REGISTER_VALUE. */
  offset: number;
  size: number;
  bits?: readonly BitField[];
  children?: readonly RegisterSlice[];
  /** The value is an address: the variable carries a memoryReference (`physical`: a GPA, e.g. CR3's page-table base). */
  address?: boolean | 'physical';
  readOnly?: string;
  /** Hint for the user (shown as the variable's type). */
  type?: string;
}

export interface RegisterGroup {
  name: string;
  registers: readonly RegisterSlice[];
  /** Fetched only when expanded (kept out of the per-stop GetVpRegisters call). */
  lazy: boolean;
}

const s = (name: string, hv: HvRegisterName, offset: number, size: number, extra: Partial<RegisterSlice> = {}): RegisterSlice =>
  ({ name, hv, offset, size, ...extra });

const GPR_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const GPR_CODES = [HvRegisterName.Rax, HvRegisterName.Rcx, HvRegisterName.Rdx, HvRegisterName.Rbx, HvRegisterName.Rsp,
  HvRegisterName.Rbp, HvRegisterName.Rsi, HvRegisterName.Rdi, HvRegisterName.R8, HvRegisterName.R9, HvRegisterName.R10,
  HvRegisterName.R11, HvRegisterName.R12, HvRegisterName.R13, HvRegisterName.R14, HvRegisterName.R15];

function segment(name: string, hv: HvRegisterName): RegisterSlice {
  return s(name, hv, 0, 16, {
    type: 'segment',
    children: [
      s('Selector', hv, 12, 2), s('Base', hv, 0, 8, { address: true }), s('Limit', hv, 8, 4),
      s('Attributes', hv, 14, 2, { bits: SEGMENT_ATTRIBUTE_BITS }),
    ],
  });
}

function table(name: string, hv: HvRegisterName): RegisterSlice {
  return s(name, hv, 0, 16, { type: 'table', children: [s('Base', hv, 8, 8, { address: true }), s('Limit', hv, 6, 2)] });
}

const gprs = GPR_NAMES.map((n, i) => s(n, GPR_CODES[i], 0, 8, { address: true }));

export const REGISTER_GROUPS: readonly RegisterGroup[] = [
  {
    name: 'General purpose', lazy: false, registers: [
      ...gprs,
      s('rip', HvRegisterName.Rip, 0, 8, { address: true }),
      s('rflags', HvRegisterName.Rflags, 0, 8, { bits: RFLAGS_BITS }),
    ],
  },
  {
    name: 'Segment', lazy: false, registers: [
      segment('cs', HvRegisterName.Cs), segment('ds', HvRegisterName.Ds), segment('es', HvRegisterName.Es),
      segment('fs', HvRegisterName.Fs), segment('gs', HvRegisterName.Gs), segment('ss', HvRegisterName.Ss),
    ],
  },
  {
    name: 'Control & debug', lazy: false, registers: [
      s('cr0', HvRegisterName.Cr0, 0, 8, { bits: CR0_BITS }), s('cr2', HvRegisterName.Cr2, 0, 8, { address: true }),
      s('cr3', HvRegisterName.Cr3, 0, 8, { bits: CR3_BITS, address: 'physical' }), s('cr4', HvRegisterName.Cr4, 0, 8, { bits: CR4_BITS }),
      s('cr8', HvRegisterName.Cr8, 0, 8), s('xcr0', HvRegisterName.Xfem, 0, 8),
      s('dr0', HvRegisterName.Dr0, 0, 8, { address: true }), s('dr1', HvRegisterName.Dr1, 0, 8, { address: true }),
      s('dr2', HvRegisterName.Dr2, 0, 8, { address: true }), s('dr3', HvRegisterName.Dr3, 0, 8, { address: true }),
      s('dr6', HvRegisterName.Dr6, 0, 8, { bits: DR6_BITS }), s('dr7', HvRegisterName.Dr7, 0, 8, { bits: DR7_BITS }),
    ],
  },
  {
    name: 'Descriptor tables', lazy: false, registers: [
      table('gdtr', HvRegisterName.Gdtr), table('idtr', HvRegisterName.Idtr),
      segment('ldtr', HvRegisterName.Ldtr), segment('tr', HvRegisterName.Tr),
    ],
  },
  {
    name: 'MSRs', lazy: true, registers: [
      s('efer', HvRegisterName.Efer, 0, 8, { bits: EFER_BITS }), s('apic_base', HvRegisterName.ApicBase, 0, 8, { bits: APIC_BASE_BITS }),
      s('kernel_gs_base', HvRegisterName.KernelGsBase, 0, 8, { address: true }), s('pat', HvRegisterName.Pat, 0, 8),
      s('star', HvRegisterName.Star, 0, 8), s('lstar', HvRegisterName.Lstar, 0, 8, { address: true }),
      s('cstar', HvRegisterName.Cstar, 0, 8, { address: true }), s('sfmask', HvRegisterName.Sfmask, 0, 8),
      s('sysenter_cs', HvRegisterName.SysenterCs, 0, 8), s('sysenter_eip', HvRegisterName.SysenterEip, 0, 8, { address: true }),
      s('sysenter_esp', HvRegisterName.SysenterEsp, 0, 8, { address: true }), s('tsc', HvRegisterName.Tsc, 0, 8),
      s('tsc_aux', HvRegisterName.TscAux, 0, 8),
    ],
  },
  {
    name: 'SSE', lazy: true, registers: [
      ...Array.from({ length: 16 }, (_, i) => s(`xmm${i}`, (HvRegisterName.Xmm0 + i) as HvRegisterName, 0, 16, { type: 'xmm' })),
      s('mxcsr', HvRegisterName.XmmControlStatus, 8, 4, { bits: MXCSR_BITS }),
      s('mxcsr_mask', HvRegisterName.XmmControlStatus, 12, 4, { readOnly: 'MXCSR_MASK is fixed by the processor' }),
    ],
  },
  {
    name: 'x87', lazy: true, registers: [
      ...Array.from({ length: 8 }, (_, i) => s(`st${i}`, (HvRegisterName.FpMmx0 + i) as HvRegisterName, 0, 10, {
        type: 'x87', children: [s('Mantissa', (HvRegisterName.FpMmx0 + i) as HvRegisterName, 0, 8), s('SignExponent', (HvRegisterName.FpMmx0 + i) as HvRegisterName, 8, 2)],
      })),
      s('fcw', HvRegisterName.FpControlStatus, 0, 2, { bits: FCW_BITS }),
      s('fsw', HvRegisterName.FpControlStatus, 2, 2, { bits: FSW_BITS }),
      s('ftw', HvRegisterName.FpControlStatus, 4, 1),
      s('fop', HvRegisterName.FpControlStatus, 6, 2),
      s('fip', HvRegisterName.FpControlStatus, 8, 8, { address: true }),
      s('fdp', HvRegisterName.XmmControlStatus, 0, 8, { address: true }),
    ],
  },
];

/** Sub-registers (eax, ax, al, ah, r8d, ...) as slices of the full GPR values. */
function subRegisters(): RegisterSlice[] {
  const out: RegisterSlice[] = [];
  const legacy = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
  legacy.forEach((n, i) => {
    out.push(s('e' + n, GPR_CODES[i], 0, 4), s(n, GPR_CODES[i], 0, 2));
    if (i < 4) out.push(s(n[0] + 'l', GPR_CODES[i], 0, 1), s(n[0] + 'h', GPR_CODES[i], 1, 1));
    else out.push(s(n + 'l', GPR_CODES[i], 0, 1));
  });
  for (let i = 8; i < 16; i++) out.push(s(`r${i}d`, GPR_CODES[i], 0, 4), s(`r${i}w`, GPR_CODES[i], 0, 2), s(`r${i}b`, GPR_CODES[i], 0, 1));
  out.push(s('eip', HvRegisterName.Rip, 0, 4), s('ip', HvRegisterName.Rip, 0, 2), s('eflags', HvRegisterName.Rflags, 0, 4, { bits: RFLAGS_BITS }),
    s('flags', HvRegisterName.Rflags, 0, 2, { bits: RFLAGS_BITS }));
  for (let i = 0; i < 8; i++) out.push(s(`mm${i}`, (HvRegisterName.FpMmx0 + i) as HvRegisterName, 0, 8));
  return out;
}

const BY_NAME = new Map<string, RegisterSlice>();
for (const g of REGISTER_GROUPS) for (const r of g.registers) BY_NAME.set(r.name, r);
for (const r of subRegisters()) BY_NAME.set(r.name, r);
// TLFS spellings: HvX64RegisterCr0, HvRegisterVpIndex... resolve to the natural slice of that code.
const PRIMARY_BY_CODE = new Map<number, RegisterSlice>();
for (const g of REGISTER_GROUPS) for (const r of g.registers) if (!PRIMARY_BY_CODE.has(r.hv)) PRIMARY_BY_CODE.set(r.hv, r);

/** Finds a register by expression name: `rax`, `eax`, `xmm3`, `HvX64RegisterCr0`, `HvRegisterVpIndex`. */
export function findRegister(name: string): RegisterSlice | undefined {
  const lower = name.toLowerCase();
  const direct = BY_NAME.get(lower);
  if (direct) return direct;
  const m = /^hv(?:x64)?register(.+)$/i.exec(name);
  if (!m) return undefined;
  const key = Object.keys(HvRegisterName).find((k) => k.toLowerCase() === m[1].toLowerCase() && isNaN(Number(k)));
  if (key === undefined) return undefined;
  const code = (HvRegisterName as any)[key] as number;
  return PRIMARY_BY_CODE.get(code) ?? s(`HvRegister${key}`, code, 0, 16);
}

export function allRegisterNames(): string[] { return [...BY_NAME.keys()]; }

/** Little-endian unsigned value of a slice of a 16-byte HV_REGISTER_VALUE. */
export function readSlice(value: Uint8Array, slice: { offset: number; size: number }): bigint {
  let v = 0n;
  for (let i = slice.size - 1; i >= 0; i--) v = (v << 8n) | BigInt(value[slice.offset + i] ?? 0);
  return v;
}

/** Returns a copy of `value` with the slice replaced (value must fit). */
export function writeSlice(value: Uint8Array, slice: { offset: number; size: number }, v: bigint): Uint8Array {
  const max = (1n << BigInt(slice.size * 8)) - 1n;
  if (v < 0n) v &= max;
  if (v > max) throw new RangeError(`value ${'0x' + v.toString(16)} does not fit in ${slice.size} byte${slice.size > 1 ? 's' : ''}`);
  const out = new Uint8Array(16);
  out.set(value.subarray(0, 16));
  for (let i = 0; i < slice.size; i++) { out[slice.offset + i] = Number(v & 0xffn); v >>= 8n; }
  return out;
}

/** Every HV register code the given groups need, deduplicated (one GetVpRegisters call). */
export function codesOf(groups: readonly RegisterGroup[]): HvRegisterName[] {
  const set = new Set<HvRegisterName>();
  for (const g of groups) for (const r of g.registers) set.add(r.hv);
  return [...set];
}

/** A bit field of a register: `rflags.ZF`, `cr0.PG`, `cs.DPL`, `cs.Attributes.L`. */
export function findChild(reg: RegisterSlice, path: readonly string[]): { slice: RegisterSlice; field?: BitField } | undefined {
  let cur = reg;
  for (let i = 0; i < path.length; i++) {
    const p = path[i].toLowerCase();
    const child = cur.children?.find((c) => c.name.toLowerCase() === p);
    if (child) { cur = child; continue; }
    const last = i === path.length - 1;
    const field = cur.bits?.find((f) => f.name.toLowerCase() === p)
      // cs.DPL: attribute bits directly on the segment
      ?? (last ? cur.children?.flatMap((c) => (c.bits ?? []).map((f) => ({ f, c }))).find((x) => x.f.name.toLowerCase() === p)?.f : undefined);
    if (!field || !last) return undefined;
    const owner = cur.bits?.includes(field) ? cur : cur.children!.find((c) => c.bits?.includes(field))!;
    return { slice: owner, field };
  }
  return { slice: cur };
}
