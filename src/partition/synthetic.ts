// The hypervisor's own surface as the guest sees it: the hypervisor CPUID leaves, the
// synthetic MSRs GUEST_OS_ID / HYPERCALL / VP_INDEX, and the hypercall page overlay.
import {
  HvCpuidLeaf, HvX64Msr, HvHypercallMsr, HvPartitionPrivilege, HV_PAGE_SIZE,
  HV_CPUID_VENDOR_EBX, HV_CPUID_VENDOR_ECX, HV_CPUID_VENDOR_EDX, HV_CPUID_INTERFACE_HV1, CPUID_1_ECX_HYPERVISOR_PRESENT,
} from './hvdef';
import type { GuestPhysicalMemory } from '../emulator/vcpu';

/** WHV_X64_CPUID_RESULT: the four registers a leaf returns (CpuidResultList overrides). */
export interface CpuidResult { Function: number; Eax: number; Ebx: number; Ecx: number; Edx: number }

export type CpuidRegisters = [eax: number, ebx: number, ecx: number, edx: number];

/**
 * The hypercall page as openvmm's hypervisor emulation lays it out (Intel VMCALL 0F 01 C1):
 * 0x00 VMCALL; RET — the normal entry; then the 32/64-bit VTL call and VTL return stubs
 * (call codes 0x11/0x12, which this partition answers with INVALID_HYPERCALL_CODE).
 */
export const HYPERCALL_PAGE_CODE = Uint8Array.from([
  0x0F, 0x01, 0xC1, 0xC3,
  0x89, 0xC1, 0xB8, 0x11, 0x00, 0x00, 0x00, 0x0F, 0x01, 0xC1, 0xC3,
  0x48, 0x89, 0xC8, 0xB9, 0x11, 0x00, 0x00, 0x00, 0x0F, 0x01, 0xC1, 0xC3,
  0x89, 0xC1, 0xB8, 0x12, 0x00, 0x00, 0x00, 0x0F, 0x01, 0xC1, 0xC3,
  0x48, 0x89, 0xC8, 0xB9, 0x12, 0x00, 0x00, 0x00, 0x0F, 0x01, 0xC1, 0xC3,
]);

/** CPUID 0x40000003 EDX bit 18: the hypercall MSR lock bit is available. */
const FEATURE_HYPERCALL_MSR_LOCK = 1 << 18;
/** Highest hypervisor leaf reported in 0x40000000 EAX (the TLFS asks for at least 0x40000005). */
const MAX_HYPERVISOR_LEAF = HvCpuidLeaf.HardwareFeatures;
/** Version leaf 0x40000002: EBX = major 10, minor 0 (a Windows 10-era hypervisor). */
const VERSION_EBX = 10 << 16;

/** Default privileges: the hypercall MSRs, the VP index MSR and AccessVpRegisters. */
export const DEFAULT_PRIVILEGES = (1n << BigInt(HvPartitionPrivilege.AccessHypercallMsrs))
  | (1n << BigInt(HvPartitionPrivilege.AccessVpIndex)) | (1n << BigInt(HvPartitionPrivilege.AccessVpRegisters));

export function hasPrivilege(mask: bigint, p: HvPartitionPrivilege): boolean { return ((mask >> BigInt(p)) & 1n) !== 0n; }

/** The hypervisor CPUID leaves (0x40000000-0x400000FF); leaves not listed read as zeros. */
const HYPERVISOR_LEAVES = new Map<number, (privileges: bigint, processors: number, addressWidth: number) => CpuidRegisters>([
  [HvCpuidLeaf.VendorAndMaxFunction, () => [MAX_HYPERVISOR_LEAF, HV_CPUID_VENDOR_EBX, HV_CPUID_VENDOR_ECX, HV_CPUID_VENDOR_EDX]],
  [HvCpuidLeaf.Interface, () => [HV_CPUID_INTERFACE_HV1, 0, 0, 0]],
  [HvCpuidLeaf.VersionAndFeatures, () => [0, VERSION_EBX, 0, 0]],
  // Privilege mask in EAX:EBX; no XMM hypercall input/output (EDX bits 4, 15), the MSR lock bit is available.
  [HvCpuidLeaf.Features, (p) => [Number(p & 0xFFFFFFFFn), Number((p >> 32n) & 0xFFFFFFFFn), 0, FEATURE_HYPERCALL_MSR_LOCK]],
  // No recommendations; never notify long spin waits; implemented physical address bits.
  [HvCpuidLeaf.EnlightenmentInformation, (_p, _n, width) => [0, 0xFFFFFFFF, width & 0x7F, 0]],
  [HvCpuidLeaf.ImplementationLimits, (_p, n) => [n, n, 0, 0]],
]);

/** Partition-wide synthetic state. */
export class HypervisorState {
  guestOsId = 0n;
  hypercallMsr = 0n;
  /** Where the hypercall page overlay sits and what RAM it covers (restored when it goes). */
  private overlay: { gpa: number; saved?: Uint8Array; permissions?: { read: boolean; write: boolean; execute: boolean } } | undefined;

  constructor(
    private readonly memory: GuestPhysicalMemory,
    /** GPAs at or above this are outside the GPA space. */
    private readonly gpaLimit: number,
    readonly privileges: () => bigint,
    private readonly processorCount: number,
    private readonly physicalAddressWidth: number,
  ) {}

  /** The value a synthetic MSR reads as, or undefined if this partition does not implement it (then RDMSR raises #GP). */
  readMsr(msr: number, vpIndex: number): bigint | undefined {
    const p = this.privileges();
    if (msr === HvX64Msr.GuestOsId && hasPrivilege(p, HvPartitionPrivilege.AccessHypercallMsrs)) return this.guestOsId;
    if (msr === HvX64Msr.Hypercall && hasPrivilege(p, HvPartitionPrivilege.AccessHypercallMsrs)) return this.hypercallMsr;
    if (msr === HvX64Msr.VpIndex && hasPrivilege(p, HvPartitionPrivilege.AccessVpIndex)) return BigInt(vpIndex);
    return undefined;
  }

  /** Applies WRMSR to a synthetic MSR; false means #GP (unknown, read-only or an illegal value). */
  writeMsr(msr: number, value: bigint): boolean {
    const p = this.privileges();
    if (!hasPrivilege(p, HvPartitionPrivilege.AccessHypercallMsrs)) return false;
    if (msr === HvX64Msr.GuestOsId) {
      this.guestOsId = value;
      // Clearing the guest OS ID turns the hypercall page off (TLFS).
      if (value === 0n && (this.hypercallMsr & HvHypercallMsr.Enable)) this.setHypercallMsr(this.hypercallMsr & ~HvHypercallMsr.Enable);
      return true;
    }
    if (msr === HvX64Msr.Hypercall) {
      if (this.hypercallMsr & HvHypercallMsr.Locked) return true; // locked until reset: writes are ignored
      if (Number(value >> HvHypercallMsr.GpfnShift) * HV_PAGE_SIZE >= this.gpaLimit) return false;
      // Bits 11:2 are RsvdP (keep what reads back, which is 0); enable needs a non-zero guest OS ID.
      let v = value & ~HvHypercallMsr.ReservedMask;
      if (this.guestOsId === 0n) v &= ~HvHypercallMsr.Enable;
      this.setHypercallMsr(v);
      return true;
    }
    return false;
  }

  /** Physical address of the enabled hypercall page, or undefined. */
  hypercallPageGpa(): number | undefined { return this.overlay?.gpa; }

  private setHypercallMsr(v: bigint): void {
    this.hypercallMsr = v;
    const want = (v & HvHypercallMsr.Enable) ? Number(v >> HvHypercallMsr.GpfnShift) * HV_PAGE_SIZE : undefined;
    if (want === this.overlay?.gpa) return;
    this.removeOverlay();
    if (want !== undefined) this.installOverlay(want);
  }

  private installOverlay(gpa: number): void {
    const under = this.memory.lookup(gpa);
    let saved: Uint8Array | undefined;
    if (under) {
      saved = new Uint8Array(HV_PAGE_SIZE);
      this.memory.read(gpa, saved);
      this.memory.unmap(gpa, HV_PAGE_SIZE);
    }
    const page = new Uint8Array(HV_PAGE_SIZE);
    page.set(HYPERCALL_PAGE_CODE);
    // The page is an overlay the guest may read and execute but not write.
    this.memory.mapRom(gpa, page, { read: true, write: false, execute: true });
    this.overlay = { gpa, saved, permissions: under?.permissions };
  }

  private removeOverlay(): void {
    const o = this.overlay;
    if (!o) return;
    this.memory.unmap(o.gpa, HV_PAGE_SIZE);
    if (o.saved && o.permissions) {
      this.memory.mapRam(o.gpa, HV_PAGE_SIZE, o.permissions);
      this.memory.write(o.gpa, o.saved);
    }
    this.overlay = undefined;
  }

  /** What CPUID returns before CpuidResultList overrides: the CPU's defaults plus the hypervisor leaves. */
  cpuid(leaf: number, defaults: CpuidRegisters): CpuidRegisters {
    if (leaf === 1) return [defaults[0], defaults[1], (defaults[2] | CPUID_1_ECX_HYPERVISOR_PRESENT) >>> 0, defaults[3]];
    if (leaf < HvCpuidLeaf.VendorAndMaxFunction || leaf > 0x400000FF) return defaults;
    return HYPERVISOR_LEAVES.get(leaf)?.(this.privileges(), this.processorCount, this.physicalAddressWidth) ?? [0, 0, 0, 0];
  }
}
