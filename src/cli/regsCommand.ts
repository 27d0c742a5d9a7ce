// `vpdbg regs IMAGE [--after N | --at ADDR]`: every register of VP 0, read through
// GetVpRegisters, grouped as the debugger shows them.
import { Machine } from '../machine/machine';
import { REGISTER_TABLE, type RegisterGroup } from '../partition/registers';
import { WhvRunVpExitReason as X } from '../partition/hvdef';
import { valueU64, valueHigh64, valueSegment, valueTable, valueFpControlStatus, valueXmmControlStatus } from '../partition/registerValue';
import type { CommandSpec, ParsedArgs } from './args';
import { IMAGE_OPTIONS, machineOptions } from './options';
import { runToEnd } from './guestRun';
import { ExitStatus } from './exitStatus';

export const REGS_SPEC: CommandSpec = {
  name: 'regs',
  summary: 'Prints every register of VP 0, read through GetVpRegisters: at the entry point, after N\ninstructions, or when execution first reaches ADDR (guest-linear).',
  positionals: ['IMAGE'],
  options: [
    ...IMAGE_OPTIONS,
    { name: 'after', kind: 'integer', valueName: 'N', help: 'run N instructions first' },
    { name: 'at', kind: 'address', valueName: 'ADDR', help: 'run until RIP reaches ADDR' },
    { name: 'max-instructions', kind: 'integer', valueName: 'N', help: 'with --at: give up after N instructions (default 1e9)' },
  ],
  exclusive: [['after', 'at']],
};

const GROUPS: [string, RegisterGroup[]][] = [
  ['General purpose', ['general']],
  ['Segment', ['segment']],
  ['Control & debug', ['control', 'debug']],
  ['Descriptor tables', ['table']],
  ['MSRs', ['msr']],
  ['SSE', ['simd']],
  ['x87', ['fp']],
  ['Interrupt state', ['interrupt']],
  ['Hypervisor', ['synthetic']],
];

const h = (v: bigint | number, width = 16) => '0x' + v.toString(16).padStart(width, '0');

function formatValue(group: RegisterGroup, name: string, v: Uint8Array): string {
  if (group === 'segment' && name !== 'Tr' && name !== 'Ldtr' || name === 'Tr' || name === 'Ldtr') {
    const s = valueSegment(v);
    return `selector ${h(s.selector, 4)}  base ${h(s.base)}  limit ${h(s.limit, 8)}  attributes ${h(s.attributes, 4)}`;
  }
  if (group === 'table') { const t = valueTable(v); return `base ${h(t.base)}  limit ${h(t.limit, 4)}`; }
  if (name === 'FpControlStatus') {
    const f = valueFpControlStatus(v);
    return `fcw ${h(f.fcw, 4)}  fsw ${h(f.fsw, 4)}  ftw ${h(f.ftw, 2)}  fop ${h(f.fop, 3)}  fip ${h(f.fip)}`;
  }
  if (name === 'XmmControlStatus') {
    const x = valueXmmControlStatus(v);
    return `mxcsr ${h(x.mxcsr, 8)}  mxcsr_mask ${h(x.mxcsrMask, 8)}  fdp ${h(x.fdp)}`;
  }
  const hi = valueHigh64(v);
  if (group === 'simd' || group === 'fp' || hi !== 0n) return `${h(hi)}_${valueU64(v).toString(16).padStart(16, '0')}`;
  return h(valueU64(v));
}

export function formatRegisters(machine: Machine, vp: number): string {
  const p = machine.partition;
  const lines: string[] = [];
  for (const [title, groups] of GROUPS) {
    const rows = REGISTER_TABLE.filter((r) => groups.includes(r.group));
    const shown: [string, string][] = [];
    for (const row of rows) {
      // One GetVpRegisters per register: a register this VP lacks fails alone.
      const r = p.getVpRegisters(p.id, vp, 0, [row.code]);
      if (r.status !== 0) continue;
      const name = row.name.replace(/^HvX64Register|^HvRegister/, '');
      shown.push([name, formatValue(row.group, name, r.values[0])]);
    }
    if (!shown.length) continue;
    lines.push(`${title}:`);
    const width = Math.max(...shown.map(([n]) => n.length));
    for (const [n, v] of shown) lines.push(`  ${n.padEnd(width)}  ${v}`);
  }
  return lines.join('\n') + '\n';
}

export async function regsCommand(args: ParsedArgs): Promise<number> {
  const machine = new Machine({ ...machineOptions(args.positionals[0], args), serialOutput: (b) => process.stderr.write(Buffer.from([b])) });
  const after = args.options.get('after') as number | undefined;
  const at = args.options.get('at') as number | undefined;
  if (after !== undefined && after > 0) {
    const r = await runToEnd(machine, { maxInstructions: after });
    if (r.status !== ExitStatus.InstructionLimit) process.stderr.write(`vpdbg: the guest stopped after ${r.instructions} instructions: ${r.reason}\n`);
  } else if (at !== undefined) {
    machine.partition.setInstructionBreakpoints(0, [BigInt(at)]);
    const max = (args.options.get('max-instructions') as number | undefined) ?? 1e9;
    let reached = false;
    while (!reached && machine.instructionsRetired() < max) {
      const exit = machine.runVp(0, Math.min(2_000_000, max - machine.instructionsRetired()));
      if (exit.ExitReason === X.VpdbgBreakpoint) reached = true;
      else if (exit.ExitReason !== X.None && !machine.completeExit(0, exit)) break;
      if (machine.guestEnd || (exit.ExitReason === X.None && machine.vpState(0) !== 'running')) break;
    }
    if (!reached) {
      process.stderr.write(`vpdbg: execution did not reach 0x${at.toString(16)} (${machine.instructionsRetired()} instructions ran)\n`);
      return ExitStatus.InstructionLimit;
    }
  }
  process.stdout.write(`VP 0 after ${machine.instructionsRetired()} instructions (GetVpRegisters):\n`);
  process.stdout.write(formatRegisters(machine, 0));
  return 0;
}
