// How values are shown: hex by default (padded to the register's width), with the
// expression format suffixes `,x` `,d` `,b` `,o` `,c`.
import type { ValueFormat } from './expression/parser';

export function formatValue(value: bigint, format: ValueFormat | undefined, widthBytes?: number): string {
  switch (format) {
    case 'd': return value.toString(10);
    case 'b': return '0b' + (widthBytes ? value.toString(2).padStart(Math.min(widthBytes, 8) * 8, '0') : value.toString(2));
    case 'o': return '0o' + value.toString(8);
    case 'c': {
      const bytes: string[] = [];
      let v = value;
      do { bytes.push(charOf(Number(v & 0xffn))); v >>= 8n; } while (v > 0n && bytes.length < 16);
      return `'${bytes.join('')}'`;
    }
    default: return '0x' + (widthBytes ? value.toString(16).padStart(widthBytes * 2, '0') : value.toString(16));
  }
}

function charOf(b: number): string {
  if (b >= 0x20 && b < 0x7f) return String.fromCharCode(b);
  return '\\x' + b.toString(16).padStart(2, '0');
}

/** Address text used in memoryReference, instructionPointerReference and the disassembly. */
export function addressRef(address: bigint, physical = false): string {
  return (physical ? 'phys:' : '') + '0x' + address.toString(16);
}

/** Parses a memoryReference (`0x1000`, `phys:0x1000`, decimal) back; undefined if malformed. */
export function parseAddressRef(ref: unknown): { address: bigint; physical: boolean } | undefined {
  if (typeof ref !== 'string' || ref.length > 40) return undefined;
  const m = /^\s*(phys:)?\s*(0x[0-9a-f]+|[0-9]+)\s*$/i.exec(ref);
  if (!m) return undefined;
  const address = BigInt(m[2].toLowerCase());
  if (address >= 1n << 64n) return undefined;
  return { address, physical: m[1] !== undefined };
}
