// Register descriptions for hover and completion (Intel SDM vol. 1 ch. 3, vol. 3 ch. 2).

const gprRoles: Record<string, string> = {
  a: 'accumulator; implicit in MUL/DIV, IN/OUT, CPUID (leaf), RDMSR/WRMSR (low half), string scans',
  b: 'base; CPUID output',
  c: 'counter; LOOP, REP, shifts by CL, CPUID subleaf, RDMSR/WRMSR MSR index',
  d: 'data; MUL/DIV high half, IN/OUT port (DX), RDMSR/WRMSR high half',
  si: 'source index; string instructions read from [RSI]',
  di: 'destination index; string instructions write to [RDI]',
  bp: 'base pointer; stack-frame base, default segment SS',
  sp: 'stack pointer; PUSH/POP/CALL/RET, default segment SS',
};

const special: Record<string, string> = {
  rip: 'instruction pointer (64-bit); `[rel label]` addresses are RIP-relative',
  eip: 'instruction pointer (32-bit)', ip: 'instruction pointer (16-bit)',
  cs: 'code segment; CS.L/CS.D select 64/32/16-bit code, CPL is CS.RPL', ds: 'data segment (default for most memory operands)',
  es: 'extra segment (destination of string instructions)', ss: 'stack segment', fs: 'FS segment; base often a thread/CPU block (IA32_FS_BASE)', gs: 'GS segment; base from IA32_GS_BASE, SWAPGS exchanges with IA32_KERNEL_GS_BASE',
  cr0: 'control register 0: PE(0) protected mode, MP(1), EM(2), TS(3), ET(4), NE(5), WP(16), AM(18), NW(29), CD(30), PG(31) paging',
  cr2: 'control register 2: the linear address of the last page fault',
  cr3: 'control register 3: page-table root (PML4/PML5 or PDPT physical address), PCID in bits 0-11 when CR4.PCIDE',
  cr4: 'control register 4: VME(0), PVI(1), TSD(2), DE(3), PSE(4), PAE(5), MCE(6), PGE(7), PCE(8), OSFXSR(9), OSXMMEXCPT(10), UMIP(11), LA57(12), VMXE(13), FSGSBASE(16), PCIDE(17), OSXSAVE(18), SMEP(20), SMAP(21), PKE(22), CET(23)',
  cr8: 'control register 8: task-priority register (TPR bits 7:4 of the local APIC)',
  dr6: 'debug status: B0-B3 hit, BD, BS single step, BT task switch', dr7: 'debug control: L0-L3/G0-G3 enables, R/W and LEN per breakpoint',
};

export function describeRegister(name: string): string | undefined {
  const r = name.toLowerCase();
  if (special[r]) return `**${r}** — ${special[r]}`;
  let m: RegExpExecArray | null;
  if ((m = /^([re]?)([abcd])x$/.exec(r))) return `**${r}** — ${m[1] === 'r' ? '64' : m[1] === 'e' ? '32' : '16'}-bit ${gprRoles[m[2]]}${m[1] === 'e' ? '. Writing it zeroes bits 63:32 of r' + m[2] + 'x' : ''}`;
  if ((m = /^([abcd])([lh])$/.exec(r))) return `**${r}** — bits ${m[2] === 'l' ? '7:0' : '15:8'} of r${m[1]}x; ${gprRoles[m[1]]}`;
  if ((m = /^([re]?)(si|di|bp|sp)$/.exec(r))) return `**${r}** — ${m[1] === 'r' ? '64' : m[1] === 'e' ? '32' : '16'}-bit ${gprRoles[m[2]]}`;
  if ((m = /^(si|di|bp|sp)l$/.exec(r))) return `**${r}** — bits 7:0 of r${m[1]} (needs a REX prefix); ${gprRoles[m[1]]}`;
  if ((m = /^r(8|9|1[0-5])([dwb]?)$/.exec(r))) return `**${r}** — ${({ '': '64-bit', d: 'low 32 bits of', w: 'low 16 bits of', b: 'low 8 bits of' } as Record<string, string>)[m[2]]} general-purpose register r${m[1]} (64-bit mode only)${m[2] === 'd' ? '; writing it zeroes bits 63:32' : ''}`;
  if ((m = /^cr(\d+)$/.exec(r))) return `**${r}** — control register ${m[1]} (reserved)`;
  if ((m = /^dr([0-3])$/.exec(r))) return `**${r}** — debug address register: linear address of hardware breakpoint ${m[1]} (enabled in DR7)`;
  if ((m = /^dr(\d+)$/.exec(r))) return `**${r}** — debug register ${m[1]}`;
  if ((m = /^([xyz])mm(\d+)$/.exec(r))) return `**${r}** — ${({ x: '128', y: '256', z: '512' } as Record<string, string>)[m[1]]}-bit vector register ${m[2]}${m[1] !== 'x' ? ` (low 128 bits are xmm${m[2]})` : ''}`;
  if ((m = /^mm([0-7])$/.exec(r))) return `**${r}** — 64-bit MMX register (aliases the mantissa of st${m[1]})`;
  if ((m = /^st([0-7])?$/.exec(r))) return `**${r}** — x87 FPU stack register ${m[1] ?? '0'} (80-bit extended precision)`;
  if ((m = /^k([0-7])$/.exec(r))) return `**${r}** — AVX-512 opmask register ${m[1]}`;
  if ((m = /^bnd([0-3])$/.exec(r))) return `**${r}** — MPX bounds register ${m[1]}`;
  if ((m = /^tmm([0-7])$/.exec(r))) return `**${r}** — AMX tile register ${m[1]}`;
  if ((m = /^tr([0-7])$/.exec(r))) return `**${r}** — test register ${m[1]} (386/486 only)`;
  return undefined;
}

export const registerNames: string[] = (() => {
  const out = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp', 'ax', 'bx', 'cx', 'dx', 'si', 'di', 'bp', 'sp',
    'al', 'bl', 'cl', 'dl', 'ah', 'bh', 'ch', 'dh', 'sil', 'dil', 'bpl', 'spl', 'cs', 'ds', 'es', 'fs', 'gs', 'ss', 'rip',
    'cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'dr0', 'dr1', 'dr2', 'dr3', 'dr6', 'dr7'];
  for (let i = 8; i < 16; i++) out.push(`r${i}`, `r${i}d`, `r${i}w`, `r${i}b`);
  for (let i = 0; i < 16; i++) out.push(`xmm${i}`, `ymm${i}`);
  for (let i = 0; i < 8; i++) out.push(`mm${i}`, `st${i}`, `k${i}`);
  return out;
})();
