// The Registers scope against a recording target: one GetVpRegisters call per stop for the
// visible groups, one per lazy group when expanded, and writes as read-modify-write of one
// HV_REGISTER_VALUE through SetVpRegisters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HvRegisterName } from '../../src/partition/hvdef';
import { RegisterCache } from '../../src/debugAdapter/guestAccessor';
import { VariableStore } from '../../src/debugAdapter/variables';
import { findRegister } from '../../src/debugAdapter/registers';
import type { VpTarget } from '../../src/debugAdapter/target';

function recordingTarget() {
  const gets: number[][] = [];
  const sets: { names: number[]; values: Uint8Array[] }[] = [];
  const regs = new Map<number, Uint8Array>();
  const value = (code: number): Uint8Array => {
    let v = regs.get(code);
    if (!v) {
      v = new Uint8Array(16);
      new DataView(v.buffer).setUint32(0, code, true); // each register reads as its own code
      regs.set(code, v);
    }
    return v;
  };
  const target = {
    getRegisters: (_vp: number, names: readonly number[]) => { gets.push([...names]); return names.map((n) => value(n).slice()); },
    setRegisters: (_vp: number, names: readonly number[], values: readonly Uint8Array[]) => {
      sets.push({ names: [...names], values: values.map((v) => v.slice()) });
      names.forEach((n, i) => regs.set(n, values[i].slice()));
    },
  } as unknown as VpTarget;
  return { target, gets, sets };
}

test('one GetVpRegisters call fetches every visible register; lazy groups cost one call each', () => {
  const { target, gets } = recordingTarget();
  const cache = new RegisterCache(target, 0);
  const store = new VariableStore();
  cache.prefetch(VariableStore.visibleCodes());
  assert.equal(gets.length, 1);
  const groups = store.children(store.get(store.ref({ kind: 'registers', vp: 0 }))!, () => cache);
  assert.deepEqual(groups.map((g) => g.name), ['General purpose', 'Segment', 'Control & debug', 'Descriptor tables', 'MSRs', 'SSE', 'x87']);
  for (const g of groups.slice(0, 4)) {
    const vars = store.children(store.get(g.variablesReference)!, () => cache);
    for (const v of vars) if (v.variablesReference) store.children(store.get(v.variablesReference)!, () => cache);
  }
  assert.equal(gets.length, 1, 'expanding the visible groups and their fields needs no more calls');
  store.children(store.get(groups[4].variablesReference)!, () => cache);
  assert.equal(gets.length, 2);
  store.children(store.get(groups[5].variablesReference)!, () => cache);
  assert.equal(gets.length, 3);
});

test('values, bits, evaluateName and memoryReference of register variables', () => {
  const { target } = recordingTarget();
  const cache = new RegisterCache(target, 0);
  const store = new VariableStore();
  const gp = store.children({ kind: 'group', vp: 0, group: { name: 'x', lazy: false, registers: [findRegister('rsp')!, findRegister('rflags')!, findRegister('cr3')!] } }, () => cache);
  assert.equal(gp[0].value, `0x${HvRegisterName.Rsp.toString(16).padStart(16, '0')}`);
  assert.equal(gp[0].memoryReference, `0x${HvRegisterName.Rsp.toString(16)}`);
  assert.equal(gp[2].memoryReference, `phys:0x${(HvRegisterName.Cr3 & ~0xfff).toString(16)}`, 'CR3 points at physical memory');
  const bits = store.children(store.get(gp[1].variablesReference)!, () => cache);
  assert.ok(bits.every((b) => b.evaluateName!.startsWith('rflags.')));
});

test('a bit field write is a read-modify-write of one register value', () => {
  const { target, sets } = recordingTarget();
  const cache = new RegisterCache(target, 0);
  const rflags = findRegister('rflags')!;
  const zf = rflags.bits!.find((b) => b.name === 'ZF')!;
  const before = cache.read(rflags);
  cache.write(rflags, 1n, zf);
  assert.equal(sets.length, 1);
  assert.deepEqual(sets[0].names, [HvRegisterName.Rflags]);
  assert.equal(cache.read(rflags), before | 0x40n);
  assert.throws(() => cache.write(rflags, 2n, zf), /1 bit wide/);
  const ah = findRegister('ah')!;
  cache.write(ah, 0xabn);
  assert.equal(cache.read(findRegister('rax')!), BigInt(HvRegisterName.Rax) | 0xab00n);
  assert.throws(() => cache.write(findRegister('mxcsr_mask')!, 1n), /read-only/);
});
