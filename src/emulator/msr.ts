// The MSRs the CPU implements itself. Everything else (and anything in the MSR-exit set)
// becomes an MsrAccess exit for the VMM to decide.

import type { Cpu } from './cpu';

export const MSR = {
  TSC: 0x10, APIC_BASE: 0x1b, MTRRCAP: 0xfe, SYSENTER_CS: 0x174, SYSENTER_ESP: 0x175, SYSENTER_EIP: 0x176,
  PAT: 0x277, MTRR_DEF_TYPE: 0x2ff, MISC_ENABLE: 0x1a0,
  EFER: 0xc0000080, STAR: 0xc0000081, LSTAR: 0xc0000082, CSTAR: 0xc0000083, SFMASK: 0xc0000084,
  FS_BASE: 0xc0000100, GS_BASE: 0xc0000101, KERNEL_GS_BASE: 0xc0000102, TSC_AUX: 0xc0000103,
} as const;

const M64 = (1n << 64n) - 1n;

function canonical(v: bigint): boolean {
  const top = v >> 47n;
  return top === 0n || top === (1n << 17n) - 1n;
}

/** MSR storage. Values the hot path needs (SYSCALL targets, segment bases) live in the CPU. */
export class MsrFile {
  star = 0n; lstar = 0n; cstar = 0n; sfmask = 0n; kernelGsBase = 0n;
  sysenterCs = 0; sysenterEsp = 0n; sysenterEip = 0n;
  tscAux = 0n; pat = 0x0007040600070406n; apicBase = 0n; mtrrDefType = 0n; miscEnable = 1n;
  /** Variable and fixed MTRRs (0x200-0x26F): stored, not interpreted (all memory is write-back). */
  private readonly mtrrs = new Map<number, bigint>();

  constructor(private readonly c: Cpu) {}

  reset(): void {
    this.star = this.lstar = this.cstar = this.sfmask = this.kernelGsBase = 0n;
    this.sysenterCs = 0; this.sysenterEsp = this.sysenterEip = 0n;
    this.tscAux = 0n; this.pat = 0x0007040600070406n; this.mtrrDefType = 0n; this.miscEnable = 1n;
    this.apicBase = 0xfee00000n | 0x800n | (this.c.vpIndex === 0 ? 0x100n : 0n);
    this.mtrrs.clear();
  }

  /** Value of an implemented MSR, or undefined. */
  get(i: number): bigint | undefined {
    const c = this.c;
    switch (i) {
      case MSR.TSC: return BigInt.asUintN(64, BigInt(c.tsc()));
      case MSR.APIC_BASE: return this.apicBase;
      case MSR.MTRRCAP: return 0x508n; // 8 variable ranges, fixed ranges, WC
      case MSR.SYSENTER_CS: return BigInt(this.sysenterCs);
      case MSR.SYSENTER_ESP: return this.sysenterEsp;
      case MSR.SYSENTER_EIP: return this.sysenterEip;
      case MSR.PAT: return this.pat;
      case MSR.MTRR_DEF_TYPE: return this.mtrrDefType;
      case MSR.MISC_ENABLE: return this.miscEnable;
      case MSR.EFER: return BigInt(c.efer >>> 0);
      case MSR.STAR: return this.star;
      case MSR.LSTAR: return this.lstar;
      case MSR.CSTAR: return this.cstar;
      case MSR.SFMASK: return this.sfmask;
      case MSR.FS_BASE: return BigInt(c.segBaseHi[4] >>> 0) << 32n | BigInt(c.segBaseLo[4] >>> 0);
      case MSR.GS_BASE: return BigInt(c.segBaseHi[5] >>> 0) << 32n | BigInt(c.segBaseLo[5] >>> 0);
      case MSR.KERNEL_GS_BASE: return this.kernelGsBase;
      case MSR.TSC_AUX: return this.tscAux;
    }
    if ((i >= 0x200 && i <= 0x20f) || i === 0x250 || i === 0x258 || i === 0x259 || (i >= 0x268 && i <= 0x26f)) return this.mtrrs.get(i) ?? 0n;
    return undefined;
  }

  /** Writes an implemented MSR; false if not implemented or the value is illegal (#GP). */
  set(i: number, v: bigint): boolean {
    const c = this.c;
    v &= M64;
    switch (i) {
      case MSR.TSC: c.tscOffset = Number(BigInt.asIntN(64, v)) - c.icount; return true;
      case MSR.APIC_BASE: if (v & ~0xffffffffd00n & M64 & ~0xfffff000n) return false; this.apicBase = v; return true;
      case MSR.SYSENTER_CS: this.sysenterCs = Number(v & 0xffffn); return true;
      case MSR.SYSENTER_ESP: if (!canonical(v)) return false; this.sysenterEsp = v; return true;
      case MSR.SYSENTER_EIP: if (!canonical(v)) return false; this.sysenterEip = v; return true;
      case MSR.PAT: {
        for (let b = 0n; b < 64n; b += 8n) { const t = (v >> b) & 0xffn; if (t === 2n || t === 3n || t > 7n) return false; }
        this.pat = v; return true;
      }
      case MSR.MTRR_DEF_TYPE: if (v & ~0xcffn) return false; this.mtrrDefType = v; return true;
      case MSR.MISC_ENABLE: this.miscEnable = v; return true;
      case MSR.EFER: return v >> 32n === 0n && c.writeEfer(Number(v));
      case MSR.STAR: this.star = v; return true;
      case MSR.LSTAR: if (!canonical(v)) return false; this.lstar = v; return true;
      case MSR.CSTAR: if (!canonical(v)) return false; this.cstar = v; return true;
      case MSR.SFMASK: this.sfmask = v & 0xffffffffn; return true;
      case MSR.FS_BASE: case MSR.GS_BASE: {
        if (!canonical(v)) return false;
        const s = i === MSR.FS_BASE ? 4 : 5;
        c.setSegRaw(s, c.segSel[s], Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0, c.segLimit[s], c.segAttr[s]);
        return true;
      }
      case MSR.KERNEL_GS_BASE: if (!canonical(v)) return false; this.kernelGsBase = v; return true;
      case MSR.TSC_AUX: if (v >> 32n) return false; this.tscAux = v; return true;
    }
    if ((i >= 0x200 && i <= 0x20f) || i === 0x250 || i === 0x258 || i === 0x259 || (i >= 0x268 && i <= 0x26f)) { this.mtrrs.set(i, v); return true; }
    return false;
  }
}
