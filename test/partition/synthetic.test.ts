// The hypervisor surface the guest sees (CPUID leaves, GUEST_OS_ID/HYPERCALL/VP_INDEX MSRs, the
// hypercall page overlay) and the WHP-style partition properties.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Partition } from '../../src/partition/partition';
import { HvRegisterName as R, HvStatus, WhvPartitionPropertyCode as P, HvPartitionPrivilege } from '../../src/partition/hvdef';
import { u64Value } from '../../src/partition/registerValue';
import { HYPERCALL_PAGE_CODE } from '../../src/partition/synthetic';
import { getReg } from './harness';

const set = (p: Partition, name: number, v: bigint) => p.setVpRegisters(p.id, 0, 0, [name], [u64Value(v)]).status;

test('CPUID hypervisor leaves: vendor, interface, privileges (AccessVpRegisters), limits; leaf 1 ECX bit 31', () => {
  const p = new Partition({ processorCount: 3, physicalAddressWidth: 40 });
  assert.deepEqual(p.cpuidResult(0x40000000, [0, 0, 0, 0]), [0x40000006, 0x7263694D, 0x666F736F, 0x76482074]);
  assert.deepEqual(p.cpuidResult(0x40000001, [0, 0, 0, 0]), [0x31237648, 0, 0, 0]);
  const [eax, ebx, , edx] = p.cpuidResult(0x40000003, [0, 0, 0, 0]);
  assert.equal(eax, (1 << 5) | (1 << 6), 'AccessHypercallMsrs, AccessVpIndex');
  assert.equal(ebx, 1 << 17, 'AccessVpRegisters is mask bit 49 = EBX bit 17');
  assert.equal(edx, 1 << 18, 'hypercall MSR lock available; no XMM hypercall input/output');
  assert.deepEqual(p.cpuidResult(0x40000004, [0, 0, 0, 0]), [0, 0xFFFFFFFF, 40, 0]);
  assert.deepEqual(p.cpuidResult(0x40000005, [0, 0, 0, 0]), [3, 3, 0, 0]);
  assert.deepEqual(p.cpuidResult(0x40000080, [1, 2, 3, 4]), [0, 0, 0, 0], 'unused hypervisor leaves read zero');
  assert.deepEqual(p.cpuidResult(1, [0x806C1, 0, 0x1, 0]), [0x806C1, 0, 0x80000001, 0]);
  assert.deepEqual(p.cpuidResult(7, [1, 2, 3, 4]), [1, 2, 3, 4], 'other leaves are the CPU default');
});

test('HYPERCALL MSR: enable needs a guest OS ID; the overlay holds VMCALL;RET and is read/execute; RAM comes back when it goes', () => {
  const p = new Partition({ processorCount: 1, memoryBytes: 1 << 20 });
  p.memory.write(0x5000, Uint8Array.from([1, 2, 3, 4]));
  assert.equal(set(p, R.Hypercall, 0x5001n), HvStatus.Success);
  assert.equal(getReg(p, R.Hypercall), 0x5000n, 'enable ignored while GUEST_OS_ID is 0');
  assert.equal(set(p, R.GuestOsId, 0x8100_0000_0000_0001n), HvStatus.Success);
  assert.equal(set(p, R.Hypercall, 0x5001n | 0xFFCn), HvStatus.Success);
  assert.equal(getReg(p, R.Hypercall), 0x5001n, 'RsvdP bits 11:2 keep their value (0)');
  const page = new Uint8Array(HYPERCALL_PAGE_CODE.length);
  p.memory.read(0x5000, page);
  assert.deepEqual(page, HYPERCALL_PAGE_CODE);
  assert.deepEqual([...page.subarray(0, 4)], [0x0F, 0x01, 0xC1, 0xC3]);
  assert.deepEqual(p.memory.lookup(0x5000)?.permissions, { read: true, write: false, execute: true });
  // Clearing the guest OS ID turns the page off and the RAM under it returns.
  assert.equal(set(p, R.GuestOsId, 0n), HvStatus.Success);
  assert.equal(getReg(p, R.Hypercall), 0x5000n);
  const back = new Uint8Array(4);
  p.memory.read(0x5000, back);
  assert.deepEqual([...back], [1, 2, 3, 4]);
  assert.deepEqual(p.memory.lookup(0x5000)?.permissions, { read: true, write: true, execute: true });
});

test('HYPERCALL MSR: a GPFN beyond the GPA space is refused; Locked freezes the MSR until reset', () => {
  const p = new Partition({ processorCount: 1, memoryBytes: 1 << 20, physicalAddressWidth: 36 });
  set(p, R.GuestOsId, 1n);
  assert.equal(set(p, R.Hypercall, (1n << 36n) | 1n), HvStatus.InvalidParameter);
  assert.equal(set(p, R.Hypercall, 0x6000n | 3n), HvStatus.Success);
  assert.equal(set(p, R.Hypercall, 0x7001n), HvStatus.Success, 'a write to a locked MSR is ignored');
  assert.equal(getReg(p, R.Hypercall), 0x6003n);
});

test('synthetic MSRs follow the privilege mask; VP_INDEX is read-only', () => {
  const p = new Partition({ processorCount: 2, privileges: 0n });
  assert.equal(p.setVpRegisters(p.id, 0, 0, [R.GuestOsId], [u64Value(1)]).status, HvStatus.InvalidParameter, 'no AccessHypercallMsrs: no such MSR');
  assert.deepEqual(p.cpuidResult(0x40000003, [0, 0, 0, 0]).slice(0, 2), [0, 0]);
  assert.equal(getReg(p, R.VpIndex, 1), 1n, 'the VP index register does not depend on the MSR privilege');
  assert.equal(p.setVpRegisters(p.id, 1, 0, [R.VpIndex], [u64Value(0)]).status, HvStatus.InvalidParameter);
  p.setPrivileges(1n << BigInt(HvPartitionPrivilege.AccessHypercallMsrs));
  assert.equal(p.setVpRegisters(p.id, 0, 0, [R.GuestOsId], [u64Value(1)]).status, HvStatus.Success);
});

test('partition properties: typed setters and WHvSetPartitionProperty codes agree', () => {
  const p = new Partition({ processorCount: 2, extendedVmExits: { cpuid: true, rdtsc: true } });
  assert.equal(p.getPartitionProperty(P.ExtendedVmExits), 0b1001n);
  p.setPartitionProperty(P.ExtendedVmExits, 0b100110n);
  assert.deepEqual(p.extendedVmExits, { cpuid: false, msr: true, exception: true, rdtsc: false, hypercall: true, apicEoi: false });
  p.setPartitionProperty(P.ExceptionExitBitmap, (1n << 14n) | (1n << 3n));
  assert.equal(p.exceptionExitBitmap, 0x4008);
  p.setPartitionProperty(P.CpuidExitList, [0x40000000, 1]);
  assert.deepEqual(p.getPartitionProperty(P.CpuidExitList), [0x40000000, 1]);
  p.setPartitionProperty(P.CpuidResultList, [{ Function: 0x40000000, Eax: 1, Ebx: 2, Ecx: 3, Edx: 4 }]);
  assert.deepEqual(p.cpuidResult(0x40000000, [0, 0, 0, 0]), [1, 2, 3, 4]);
  assert.equal(p.getPartitionProperty(P.ProcessorCount), 2);
  assert.equal(p.getPartitionProperty(P.PhysicalAddressWidth), 48);
  assert.throws(() => p.setPartitionProperty(P.NestedVirtualization, 1n), /WHV_E_UNKNOWN_PROPERTY/);
  p.setMsrExits([0xC0000080, 0x10]);
  assert.deepEqual(p.msrExits, [0xC0000080, 0x10]);
  p.setCpuidExitLeaves('all');
  assert.equal(p.cpuidExitLeaves, 'all');
});

test('completion calls check that the matching exit is pending', () => {
  const p = new Partition({ processorCount: 1, memoryBytes: 1 << 20 });
  assert.throws(() => p.completeIoPortAccess(0, 1), /no pending IoPort exit/);
  assert.throws(() => p.completeCpuid(0), /no pending Cpuid exit/);
  assert.throws(() => p.runVirtualProcessor(1), RangeError);
  assert.throws(() => p.injectException(0, 32), RangeError);
});
