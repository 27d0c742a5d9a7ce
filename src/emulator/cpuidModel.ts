// The CPU model CPUID reports by default: a GenuineIntel family 6 model 15 (Core 2 class)
// part with exactly the features this emulator implements: no AVX, no XSAVE state beyond
// what FXSAVE covers, no VMX. The VMM sees these as the Cpuid exit's default values and
// may override them.

import type { Cpu } from './cpu';
import { MAXPHYADDR } from './paging';

/** Family 6, model 0x0F, stepping 11: EAX of leaf 1 and EDX at reset. */
export const RESET_SIGNATURE = 0x000006fb;

const VENDOR = [0x756e6547, 0x6c65746e, 0x49656e69]; // "Genu" (EBX) "ntel" (ECX) "ineI" (EDX)

// Leaf 1 EDX: FPU VME? no; DE PSE TSC MSR PAE MCE? no; CX8 APIC SEP MTRR PGE CMOV PAT PSE36 CLFSH FXSR SSE SSE2.
const L1_EDX = (1 << 0) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 8) | (1 << 9) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 15) | (1 << 16) | (1 << 17) | (1 << 19) | (1 << 24) | (1 << 25) | (1 << 26);
// Leaf 1 ECX: CX16 (13), MOVBE (22), POPCNT (23), hypervisor (31).
const L1_ECX = (1 << 13) | (1 << 22) | (1 << 23) | (1 << 31);
// 0x80000001 EDX: SYSCALL (11), NX (20), 1 GiB pages (26), RDTSCP (27), LM (29). ECX: LAHF/SAHF (0), ABM/LZCNT (5).
const X1_EDX = (1 << 11) | (1 << 20) | (1 << 26) | (1 << 27) | (1 << 29);
const X1_ECX = (1 << 0) | (1 << 5);
// Leaf 7 EBX: BMI1 (3, for TZCNT), SMEP (7), SMAP (20).
const L7_EBX = (1 << 3) | (1 << 7) | (1 << 20);

const BRAND = 'vpdbg x64 virtual processor';

function brandDwords(part: number): [number, number, number, number] {
  const s = BRAND.padEnd(48, '\0');
  const out: number[] = [];
  for (let k = 0; k < 4; k++) {
    let v = 0;
    for (let b = 0; b < 4; b++) v |= s.charCodeAt(part * 16 + k * 4 + b) << (8 * b);
    out.push(v | 0);
  }
  return out as [number, number, number, number];
}

/** Default CPUID result [eax, ebx, ecx, edx]. */
export function cpuidDefault(c: Cpu, leaf: number, subleaf: number): [number, number, number, number] {
  switch (leaf >>> 0) {
    case 0: return [7, VENDOR[0], VENDOR[1], VENDOR[2]];
    case 1: {
      const osxsave = 0; // XSAVE is not advertised
      return [RESET_SIGNATURE, ((c.vpIndex & 0xff) << 24) | (1 << 16) | (8 << 8), L1_ECX | osxsave, L1_EDX];
    }
    case 7: return subleaf === 0 ? [0, L7_EBX, 0, 0] : [0, 0, 0, 0];
    case 0x80000000: return [0x80000008 | 0, 0, 0, 0];
    case 0x80000001: return [0, 0, X1_ECX, X1_EDX];
    case 0x80000002: return brandDwords(0);
    case 0x80000003: return brandDwords(1);
    case 0x80000004: return brandDwords(2);
    case 0x80000008: return [MAXPHYADDR | (48 << 8), 0, 0, 0];
    default: return [0, 0, 0, 0];
  }
}
