// Disassembly for the DAP disassemble request and for stepping over CALL/REP/INT, through
// iced-x86 (Rust compiled to WebAssembly). The wasm is loaded on first use, not at start-up,
// so sessions that never disassemble do not pay for it.
import type * as Iced from 'iced-x86';

export type Bitness = 16 | 32 | 64;
export type FlowKind = 'next' | 'branch' | 'call' | 'return' | 'interrupt' | 'other';

export interface DecodedInstruction {
  address: bigint;
  length: number;
  bytes: Uint8Array;
  /** Intel syntax; branch targets replaced by `symbol+off` when a resolver knows them. */
  text: string;
  flow: FlowKind;
  /** CALL, INT n/INT3/INTO, or a REP-prefixed string instruction: `next` steps over these. */
  stepOver: boolean;
  invalid: boolean;
}

let iced: typeof Iced | undefined;
function lib(): typeof Iced {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  iced ??= require('iced-x86') as typeof Iced;
  return iced;
}

let formatter: Iced.Formatter | undefined;
function getFormatter(): Iced.Formatter {
  if (!formatter) {
    const { Formatter, FormatterSyntax } = lib();
    formatter = new Formatter(FormatterSyntax.Intel);
    formatter.hexPrefix = '0x';
    formatter.hexSuffix = '';
    formatter.uppercaseHex = false;
    formatter.spaceAfterOperandSeparator = true;
    formatter.branchLeadingZeros = false;
    formatter.leadingZeros = false;
  }
  return formatter;
}

function flowKind(fc: number): FlowKind {
  const { FlowControl } = lib();
  switch (fc) {
    case FlowControl.Next: return 'next';
    case FlowControl.UnconditionalBranch: case FlowControl.IndirectBranch: case FlowControl.ConditionalBranch: return 'branch';
    case FlowControl.Call: case FlowControl.IndirectCall: return 'call';
    case FlowControl.Return: return 'return';
    case FlowControl.Interrupt: return 'interrupt';
    default: return 'other';
  }
}

/**
 * Decodes up to `count` instructions from `bytes` (which start at `address`). Decoding stops
 * early when the bytes run out mid-instruction; the caller marks the rest unreadable.
 */
export function decodeInstructions(bytes: Uint8Array, address: bigint, bitness: Bitness, count: number,
  symbolize?: (target: bigint) => string | undefined): DecodedInstruction[] {
  const { Decoder, DecoderOptions } = lib();
  const decoder = new Decoder(bitness, bytes, DecoderOptions.None);
  const out: DecodedInstruction[] = [];
  try {
    decoder.ip = address;
    const fmt = getFormatter();
    while (out.length < count && decoder.canDecode) {
      const start = decoder.position;
      const instr = decoder.decode();
      try {
        const invalid = instr.isInvalid;
        // An instruction cut off by the end of the buffer decodes as invalid: leave it to the caller.
        if (invalid && start + 15 > bytes.length) break;
        const length = instr.length;
        const flow = invalid ? 'other' : flowKind(instr.flowControl);
        let text = invalid ? '(bad)' : fmt.format(instr);
        if (symbolize && (flow === 'branch' || flow === 'call') && instr.nearBranchTarget !== 0n) {
          const target = instr.nearBranchTarget;
          const name = symbolize(target);
          if (name) text = text.replace(`0x${target.toString(16)}`, `${name} (0x${target.toString(16)})`);
        }
        const stepOver = !invalid && (flow === 'call' || flow === 'interrupt'
          || (instr.isStringInstruction && (instr.hasRepPrefix || instr.hasRepePrefix || instr.hasRepnePrefix)));
        out.push({ address: instr.ip, length, bytes: bytes.slice(start, start + length), text, flow, stepOver, invalid });
      } finally {
        instr.free();
      }
    }
  } finally {
    decoder.free();
  }
  return out;
}
