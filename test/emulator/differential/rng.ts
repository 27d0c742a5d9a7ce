// Seeded PRNG (sfc32) for the differential generator: the same seed gives the same cases
// on every machine, so a mismatch report can be replayed with `--seed S --count N`.

export class Rng {
  private a: number; private b: number; private c: number; private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9; this.b = 0x243f6a88; this.c = 0xb7e15162; this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Integer in [0, n). */
  int(n: number): number { return Math.floor((this.u32() / 0x100000000) * n); }
  chance(p: number): boolean { return this.u32() / 0x100000000 < p; }
  pick<T>(list: readonly T[]): T { return list[this.int(list.length)]; }
  u64(): bigint { return (BigInt(this.u32()) << 32n) | BigInt(this.u32()); }

  /** A 64-bit value biased towards the boundaries where flag logic goes wrong. */
  interesting64(): bigint {
    const r = this.int(10);
    if (r < 3) return this.u64();
    const edges = [0n, 1n, 2n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn, 0x7fffffffn, 0x80000000n,
      0xffffffffn, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn, 0xfffffffffffffffen];
    const high = this.u64() & 0xffffffff00000000n;
    if (r < 6) return this.pick(edges);
    if (r < 8) return (high | this.pick(edges)) & 0xffffffffffffffffn;
    return BigInt(this.int(64)) ^ (this.chance(0.5) ? 0xffffffffffffffffn : 0n);
  }
}
