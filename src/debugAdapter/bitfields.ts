// Named bit fields of the registers the Variables view expands (RFLAGS, CR0, CR4, EFER,
// DR6, DR7, MXCSR, x87 control/status, segment attributes). Tables, not code.

export interface BitField {
  name: string;
  /** Lowest bit. */
  lsb: number;
  width: number;
  description: string;
}

const b = (name: string, lsb: number, description: string, width = 1): BitField => ({ name, lsb, width, description });

export const RFLAGS_BITS: readonly BitField[] = [
  b('CF', 0, 'carry'), b('PF', 2, 'parity'), b('AF', 4, 'auxiliary carry'), b('ZF', 6, 'zero'), b('SF', 7, 'sign'),
  b('TF', 8, 'trap (single step)'), b('IF', 9, 'interrupt enable'), b('DF', 10, 'direction'), b('OF', 11, 'overflow'),
  b('IOPL', 12, 'I/O privilege level', 2), b('NT', 14, 'nested task'), b('RF', 16, 'resume'), b('VM', 17, 'virtual-8086 mode'),
  b('AC', 18, 'alignment check'), b('VIF', 19, 'virtual interrupt'), b('VIP', 20, 'virtual interrupt pending'), b('ID', 21, 'CPUID available'),
];

export const CR0_BITS: readonly BitField[] = [
  b('PE', 0, 'protection enable'), b('MP', 1, 'monitor coprocessor'), b('EM', 2, 'x87 emulation'), b('TS', 3, 'task switched'),
  b('ET', 4, 'extension type'), b('NE', 5, 'numeric error'), b('WP', 16, 'write protect'), b('AM', 18, 'alignment mask'),
  b('NW', 29, 'not write-through'), b('CD', 30, 'cache disable'), b('PG', 31, 'paging'),
];

export const CR3_BITS: readonly BitField[] = [
  b('PWT', 3, 'page-level write-through'), b('PCD', 4, 'page-level cache disable'),
];

export const CR4_BITS: readonly BitField[] = [
  b('VME', 0, 'virtual-8086 mode extensions'), b('PVI', 1, 'protected-mode virtual interrupts'), b('TSD', 2, 'time stamp disable'),
  b('DE', 3, 'debugging extensions'), b('PSE', 4, 'page size extensions'), b('PAE', 5, 'physical address extension'),
  b('MCE', 6, 'machine-check enable'), b('PGE', 7, 'page global enable'), b('PCE', 8, 'performance counter enable'),
  b('OSFXSR', 9, 'FXSAVE/FXRSTOR support'), b('OSXMMEXCPT', 10, 'unmasked SIMD exceptions'), b('UMIP', 11, 'user-mode instruction prevention'),
  b('LA57', 12, '5-level paging'), b('VMXE', 13, 'VMX enable'), b('SMXE', 14, 'SMX enable'), b('FSGSBASE', 16, 'RDFSBASE etc.'),
  b('PCIDE', 17, 'PCID enable'), b('OSXSAVE', 18, 'XSAVE enable'), b('SMEP', 20, 'supervisor-mode execution prevention'),
  b('SMAP', 21, 'supervisor-mode access prevention'), b('PKE', 22, 'protection keys'), b('CET', 23, 'control-flow enforcement'),
];

export const EFER_BITS: readonly BitField[] = [
  b('SCE', 0, 'SYSCALL enable'), b('LME', 8, 'long mode enable'), b('LMA', 10, 'long mode active'), b('NXE', 11, 'no-execute enable'),
  b('SVME', 12, 'SVM enable'), b('LMSLE', 13, 'long mode segment limit enable'), b('FFXSR', 14, 'fast FXSAVE/FXRSTOR'), b('TCE', 15, 'translation cache extension'),
];

export const DR6_BITS: readonly BitField[] = [
  b('B0', 0, 'breakpoint 0 hit'), b('B1', 1, 'breakpoint 1 hit'), b('B2', 2, 'breakpoint 2 hit'), b('B3', 3, 'breakpoint 3 hit'),
  b('BD', 13, 'debug register access'), b('BS', 14, 'single step'), b('BT', 15, 'task switch'),
];

export const DR7_BITS: readonly BitField[] = [
  b('L0', 0, 'local enable 0'), b('G0', 1, 'global enable 0'), b('L1', 2, 'local enable 1'), b('G1', 3, 'global enable 1'),
  b('L2', 4, 'local enable 2'), b('G2', 5, 'global enable 2'), b('L3', 6, 'local enable 3'), b('G3', 7, 'global enable 3'),
  b('LE', 8, 'local exact'), b('GE', 9, 'global exact'), b('GD', 13, 'general detect'),
  b('RW0', 16, 'condition 0 (0 exec, 1 write, 2 I/O, 3 read/write)', 2), b('LEN0', 18, 'length 0 (0:1, 1:2, 3:4, 2:8 bytes)', 2),
  b('RW1', 20, 'condition 1', 2), b('LEN1', 22, 'length 1', 2), b('RW2', 24, 'condition 2', 2), b('LEN2', 26, 'length 2', 2),
  b('RW3', 28, 'condition 3', 2), b('LEN3', 30, 'length 3', 2),
];

export const SEGMENT_ATTRIBUTE_BITS: readonly BitField[] = [
  b('Type', 0, 'segment type', 4), b('S', 4, 'code/data (1) or system (0)'), b('DPL', 5, 'descriptor privilege level', 2),
  b('P', 7, 'present'), b('AVL', 12, 'available to software'), b('L', 13, '64-bit code segment'), b('DB', 14, 'default operand size / big'),
  b('G', 15, 'granularity (4 KiB)'),
];

export const MXCSR_BITS: readonly BitField[] = [
  b('IE', 0, 'invalid operation'), b('DE', 1, 'denormal'), b('ZE', 2, 'divide by zero'), b('OE', 3, 'overflow'), b('UE', 4, 'underflow'),
  b('PE', 5, 'precision'), b('DAZ', 6, 'denormals are zero'), b('IM', 7, 'invalid mask'), b('DM', 8, 'denormal mask'),
  b('ZM', 9, 'divide-by-zero mask'), b('OM', 10, 'overflow mask'), b('UM', 11, 'underflow mask'), b('PM', 12, 'precision mask'),
  b('RC', 13, 'rounding control', 2), b('FZ', 15, 'flush to zero'),
];

export const FCW_BITS: readonly BitField[] = [
  b('IM', 0, 'invalid mask'), b('DM', 1, 'denormal mask'), b('ZM', 2, 'zero-divide mask'), b('OM', 3, 'overflow mask'),
  b('UM', 4, 'underflow mask'), b('PM', 5, 'precision mask'), b('PC', 8, 'precision control', 2), b('RC', 10, 'rounding control', 2), b('X', 12, 'infinity control'),
];

export const FSW_BITS: readonly BitField[] = [
  b('IE', 0, 'invalid operation'), b('DE', 1, 'denormal'), b('ZE', 2, 'zero divide'), b('OE', 3, 'overflow'), b('UE', 4, 'underflow'),
  b('PE', 5, 'precision'), b('SF', 6, 'stack fault'), b('ES', 7, 'error summary'), b('C0', 8, 'condition 0'), b('C1', 9, 'condition 1'),
  b('C2', 10, 'condition 2'), b('TOP', 11, 'stack top', 3), b('C3', 14, 'condition 3'), b('B', 15, 'busy'),
];

export const APIC_BASE_BITS: readonly BitField[] = [
  b('BSP', 8, 'bootstrap processor'), b('EXTD', 10, 'x2APIC mode'), b('EN', 11, 'APIC global enable'),
];

export function getField(value: bigint, f: BitField): bigint {
  return (value >> BigInt(f.lsb)) & ((1n << BigInt(f.width)) - 1n);
}

export function setField(value: bigint, f: BitField, field: bigint): bigint {
  const mask = ((1n << BigInt(f.width)) - 1n) << BigInt(f.lsb);
  if (field < 0n || field >= (1n << BigInt(f.width))) throw new RangeError(`${f.name} is ${f.width} bit${f.width > 1 ? 's' : ''} wide; ${field} does not fit`);
  return (value & ~mask) | (field << BigInt(f.lsb));
}

/** Short summary like `[ZF IF]` / `[PE PG]`: the set one-bit flags and non-zero wider fields. */
export function summarizeBits(value: bigint, fields: readonly BitField[]): string {
  const parts: string[] = [];
  for (const f of fields) {
    const v = getField(value, f);
    if (v === 0n) continue;
    parts.push(f.width === 1 ? f.name : `${f.name}=${v}`);
  }
  return `[${parts.join(' ')}]`;
}
