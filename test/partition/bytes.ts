// Test helper: a byte vector written by hand as (offset, "hex bytes") pieces over zeros.
export function vec(size: number, parts: [number, string][]): Uint8Array {
  const b = new Uint8Array(size);
  for (const [off, hex] of parts) {
    const bytes = hex.trim().split(/\s+/).map((h) => parseInt(h, 16));
    b.set(bytes, off);
  }
  return b;
}
