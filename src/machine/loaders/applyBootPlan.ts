// Applies a boot plan to a partition: copies the segments into guest-physical memory and
// sets the boot processor's registers through SetVpRegisters, in an order the register
// checks accept (EFER and CR4 before CR0 turns paging on).
import type { Partition } from '../../partition/partition';
import { HvRegisterName as R, HvStatus } from '../../partition/hvdef';
import { segmentValue, tableValue, u64Value, type HvRegisterValue } from '../../partition/registerValue';
import type { BootPlan, GprName } from './bootPlan';
import { ImageError } from './imageError';

const GPR_CODES: Record<GprName, number> = { rax: R.Rax, rcx: R.Rcx, rdx: R.Rdx, rbx: R.Rbx, rsp: R.Rsp, rbp: R.Rbp, rsi: R.Rsi, rdi: R.Rdi };

export function applyBootPlan(partition: Partition, plan: BootPlan, vp = 0): void {
  const mem = partition.memory;
  for (const s of plan.segments) {
    if (s.data.length && !mem.write(s.gpa, s.data)) throw new ImageError(plan.file, `${s.what} at 0x${s.gpa.toString(16)} could not be written to guest memory`);
  }
  const st = plan.state;
  const names: number[] = [R.Efer, R.Cr4, R.Cr3, R.Cr0, R.Es, R.Cs, R.Ss, R.Ds, R.Fs, R.Gs, R.Gdtr, R.Idtr, R.Rip, R.Rflags];
  const values: HvRegisterValue[] = [u64Value(st.efer), u64Value(st.cr4), u64Value(st.cr3), u64Value(st.cr0),
    segmentValue(st.es), segmentValue(st.cs), segmentValue(st.ss), segmentValue(st.ds), segmentValue(st.fs), segmentValue(st.gs),
    tableValue(st.gdtr), tableValue(st.idtr), u64Value(st.rip), u64Value(st.rflags)];
  for (const [name, v] of Object.entries(st.gprs) as [GprName, bigint][]) { names.push(GPR_CODES[name]); values.push(u64Value(v)); }
  const r = partition.setVpRegisters(partition.id, vp, 0, names, values);
  if (r.status !== HvStatus.Success) {
    throw new Error(`SetVpRegisters refused the boot state's ${R[names[r.repsCompleted]] ?? names[r.repsCompleted]} (HV_STATUS 0x${r.status.toString(16)})`);
  }
}
