// Instruction forms and encodings for hover and completion, from iced-x86's op-code tables
// (CodeExt.opCode(code) -> OpCodeInfo: "ADD r/m64, r64" / "o64 01 /r"). iced is Rust compiled
// to WebAssembly; its JS glue reads iced_x86_bg.wasm from beside the bundle (dist/), and is
// loaded on the first hover or completion, not when the server starts.
import type * as Iced from 'iced-x86';

export interface InstructionForm {
  instruction: string;
  opcode: string;
  modes: string;
}

let iced: typeof Iced | undefined;
let table: Map<string, InstructionForm[]> | undefined;

function load(): typeof Iced {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (iced ??= require('iced-x86') as typeof Iced);
}

/** NASM spellings iced names differently (jz = je, ...). */
const conditionAliases: Record<string, string> = { z: 'e', nz: 'ne', c: 'b', nc: 'ae', nae: 'b', nb: 'ae', na: 'be', nbe: 'a', pe: 'p', po: 'np', nge: 'l', nl: 'ge', ng: 'le', nle: 'g' };

export function canonicalMnemonic(m: string): string {
  const lower = m.toLowerCase();
  const cc = /^(j|set|cmov)(.+)$/.exec(lower);
  if (cc && conditionAliases[cc[2]]) return cc[1] + conditionAliases[cc[2]];
  return ({ retn: 'ret', retq: 'ret', icebp: 'int1', sal: 'shl' } as Record<string, string>)[lower] ?? lower;
}

function buildTable(): Map<string, InstructionForm[]> {
  const { Code, CodeExt, Mnemonic } = load();
  const codes = Code as unknown as Record<string, number | string>;
  const mnemonics = Mnemonic as unknown as Record<number, string>;
  const map = new Map<string, InstructionForm[]>();
  for (const key of Object.keys(codes)) {
    const code = codes[key];
    if (typeof code !== 'number') continue;
    const info = CodeExt.opCode(code as Iced.Code);
    try {
      if (!info.isInstruction) continue;
      const name = (mnemonics[info.mnemonic] ?? '').toLowerCase();
      const modes = [info.mode64 && '64', info.mode32 && '32', info.mode16 && '16'].filter(Boolean).join('/');
      const list = map.get(name) ?? [];
      list.push({ instruction: info.instructionString, opcode: info.opCodeString, modes });
      map.set(name, list);
    } finally {
      info.free();
    }
  }
  return map;
}

export function instructionForms(mnemonic: string): InstructionForm[] {
  table ??= buildTable();
  return table.get(canonicalMnemonic(mnemonic)) ?? [];
}

export function allMnemonics(): string[] {
  table ??= buildTable();
  const names = [...table.keys()];
  for (const alias of Object.keys(conditionAliases)) for (const p of ['j', 'set', 'cmov']) names.push(p + alias);
  return names.concat(['lock', 'rep', 'repe', 'repz', 'repne', 'repnz']).sort();
}

export function isMnemonic(word: string): boolean {
  return instructionForms(word).length > 0 || /^(lock|rep|repe|repz|repne|repnz)$/i.test(word);
}

/** What running this instruction does in vpdbg: which exit it can cause (the VM-exit view of it). */
const exitNotes: Record<string, string> = {
  in: 'I/O port read → `X64IoPortAccess` exit unless a device claims the port.',
  out: 'I/O port write → `X64IoPortAccess` exit unless a device claims the port (COM1 0x3F8, debug-exit 0xF4 …).',
  ins: 'String I/O read → `X64IoPortAccess` exit (StringOp, RepPrefix in the context).',
  outs: 'String I/O write → `X64IoPortAccess` exit (StringOp, RepPrefix in the context).',
  insb: 'String I/O → `X64IoPortAccess` exit.', insw: 'String I/O → `X64IoPortAccess` exit.', insd: 'String I/O → `X64IoPortAccess` exit.',
  outsb: 'String I/O → `X64IoPortAccess` exit.', outsw: 'String I/O → `X64IoPortAccess` exit.', outsd: 'String I/O → `X64IoPortAccess` exit.',
  rdmsr: 'MSR read → `X64MsrAccess` exit for MSRs in `msrExits` (or not implemented).',
  wrmsr: 'MSR write → `X64MsrAccess` exit for MSRs in `msrExits` (or not implemented).',
  cpuid: 'CPUID → `X64Cpuid` exit when the leaf is intercepted; `cpuid` overrides in launch.json change the result.',
  hlt: 'HLT → `X64Halt` exit when no interrupt is deliverable.',
  vmcall: 'VMCALL → `Hypercall` exit (from CPL 0).',
  vmmcall: 'VMMCALL → `Hypercall` exit (from CPL 0).',
  rdtsc: 'RDTSC → `X64Rdtsc` exit when rdtsc exiting is on.',
  rdtscp: 'RDTSCP → `X64Rdtsc` exit when rdtsc exiting is on.',
  int3: '#BP → `Exception` exit when vector 3 is in `exceptionExits`.',
  ud2: '#UD → `Exception` exit when vector 6 is in `exceptionExits`.',
};

export function exitNote(mnemonic: string): string | undefined {
  return exitNotes[canonicalMnemonic(mnemonic)];
}
