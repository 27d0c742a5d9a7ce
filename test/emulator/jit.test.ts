// Translated blocks (src/emulator/jit): they must be indistinguishable from the interpreter.
// Self-modifying code and code loaded over a translated page run the new bytes; run(N)
// retires exactly N instructions with translation on; breakpoints and watchpoints hit inside
// translated loops; faults in translated code leave the interpreter's precise state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, runToExit, CODE, SMALL_PAGES, PT, SEL, r64, w64 } from './cpuKit';
import { multibootCpu } from './multibootHarness';
import { CpuExitReason, Seg } from '../../src/emulator/vcpu';
import type { Cpu } from '../../src/emulator/cpu';
import type { Block } from '../../src/emulator/blockCache';
import { CPU_MEMBERS_USED, regionSource } from '../../src/emulator/jit/translator';

const BENCH_TINY = '/work/shared/bench/bench-tiny.elf';

/** Translated blocks cached in the page holding `gpa`. */
function translatedBlocks(c: Cpu, gpa: number): number {
  const blocks = c.mem.peekPage(Math.floor(gpa / 4096))?.blocks ?? [];
  return (blocks as (Block | undefined)[]).filter((b) => b?.jit).length;
}

/** Everything architectural a block can change. */
function state(c: Cpu): string {
  const gprs = Array.from({ length: 16 }, (_, i) => c.getGpr(i).toString(16));
  return JSON.stringify({ gprs, rip: c.getRip().toString(16), flags: c.getRflags().toString(16), n: c.instructionCount });
}

// mov ecx,10 / L: mov eax,1 / add ebx,eax / dec ecx / jnz L / hlt   (L = CODE+5, imm of mov eax at CODE+6)
const LOOP = [0xb9, 10, 0, 0, 0, 0xb8, 1, 0, 0, 0, 0x01, 0xc3, 0xff, 0xc9, 0x75, 0xf5, 0xf4];

function jitCpu(code: number[]): Cpu {
  const c = makeCpu('long64', code);
  c.jitThreshold = 0; // translate every 64-bit block on first use
  return c;
}

test('translated loop matches the interpreter, and the loop block is translated', () => {
  const a = jitCpu(LOOP), b = makeCpu('long64', LOOP);
  b.jitThreshold = -1;
  assert.equal(runToExit(a), CpuExitReason.Halt);
  assert.equal(runToExit(b), CpuExitReason.Halt);
  assert.equal(a.getGpr(3), 10n);
  assert.equal(state(a), state(b));
  assert.ok(translatedBlocks(a, CODE) > 0);
  assert.equal(translatedBlocks(b, CODE), 0);
});

test('self-modifying code: a translated block patching translated code runs the new bytes', () => {
  // At CODE+0x100: mov byte [rip+disp], 2 (patches the mov eax imm at CODE+6); mov ecx,10; jmp L.
  const patch = [0xc6, 0x05, 0, 0, 0, 0, 0x02, 0xb9, 10, 0, 0, 0, 0xe9, 0, 0, 0, 0];
  const at = 0x100;
  const disp = (CODE + 6) - (CODE + at + 7);
  patch.splice(2, 4, disp & 0xff, (disp >> 8) & 0xff, (disp >> 16) & 0xff, (disp >>> 24) & 0xff);
  const rel = (CODE + 5) - (CODE + at + 17);
  patch.splice(13, 4, rel & 0xff, (rel >> 8) & 0xff, (rel >> 16) & 0xff, (rel >>> 24) & 0xff);
  const code = [...LOOP, ...new Array(at - LOOP.length).fill(0x90), ...patch];
  const c = jitCpu(code);
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.equal(c.getGpr(3), 10n);
  assert.ok(translatedBlocks(c, CODE) > 0);
  c.setRip(BigInt(CODE + at));
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.equal(c.getGpr(3), 10n + 20n, 'the second loop adds the patched immediate');
  assert.equal(c.mem.peekPage(Math.floor(CODE / 4096))?.blocks?.[6], undefined);
});

test('self-modifying code inside one translated block runs the new bytes', () => {
  // mov byte [rip+3], 7 patches "mov al, 1" two instructions later in the same block.
  const c = jitCpu([0xc6, 0x05, 0x03, 0, 0, 0, 0x07, 0x90, 0x90, 0xb0, 0x01, 0xf4]);
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.equal(c.getGpr(0) & 0xffn, 7n);
});

test('code loaded over a translated page (PhysicalMemory.write) runs the new bytes', () => {
  const c = jitCpu(LOOP);
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.ok(translatedBlocks(c, CODE) > 0);
  const fresh = LOOP.slice();
  fresh[6] = 3; // mov eax, 3
  c.mem.write(CODE, Uint8Array.from(fresh));
  assert.equal(translatedBlocks(c, CODE), 0, 'the load dropped the translations');
  c.setGpr(3, 0n);
  c.setRip(BigInt(CODE));
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.equal(c.getGpr(3), 30n);
});

test('run(N) retires exactly N instructions with translation on (bench-tiny, odd slices)', () => {
  const jit = multibootCpu(BENCH_TINY), ref = multibootCpu(BENCH_TINY);
  jit.jitThreshold = 0; ref.jitThreshold = -1;
  const slices = [1, 7, 13, 3, 1000, 29, 2, 511];
  let done = 0;
  for (let i = 0; done < 60000; i++) {
    const n = slices[i % slices.length];
    const before = jit.instructionCount;
    const r = jit.run(n);
    if (r === CpuExitReason.BudgetExhausted) assert.equal(jit.instructionCount - before, n);
    else if (r === CpuExitReason.IoPort) jit.completeIo(jit.exit.io.isWrite ? undefined : 0x60);
    else assert.fail(`unexpected exit ${r}`);
    done = jit.instructionCount;
  }
  // The interpreter stopped at the same count is in the same state.
  while (ref.instructionCount < done) {
    const r = ref.run(done - ref.instructionCount);
    if (r === CpuExitReason.IoPort) ref.completeIo(ref.exit.io.isWrite ? undefined : 0x60);
  }
  assert.equal(state(jit), state(ref));
  assert.ok(translatedBlocks(jit, Number(jit.getRip())) > 0);
});

test('bench-tiny: translated and interpreted runs print the same checksums and count the same instructions', () => {
  const out = (c: Cpu): string => {
    let s = '';
    for (;;) {
      const r = c.run(1e6);
      if (r === CpuExitReason.BudgetExhausted) continue;
      assert.equal(r, CpuExitReason.IoPort);
      const io = c.exit.io;
      if (io.isWrite && io.port === 0xf4) return `${s}|${c.instructionCount}|${state(c)}`;
      if (io.isWrite && io.port === 0x3f8) s += String.fromCharCode(io.value & 0xff);
      c.completeIo(io.isWrite ? undefined : 0x60);
    }
  };
  const a = multibootCpu(BENCH_TINY), b = multibootCpu(BENCH_TINY);
  a.jitThreshold = 0; b.jitThreshold = -1;
  const x = out(a);
  assert.equal(x, out(b));
  assert.match(x, /^c00ce196f47148b8\n00000000000000a8\n0000000000000037\n2b002b002c012602\n/);
});

test('an instruction breakpoint inside a translated loop hits every iteration at the exact count', () => {
  const c = jitCpu(LOOP);
  assert.equal(c.run(12), CpuExitReason.BudgetExhausted); // a few iterations run translated
  c.setInstructionBreakpoints([BigInt(CODE + 12)]); // dec ecx
  for (let i = 0; i < 3; i++) {
    assert.equal(runToExit(c), CpuExitReason.Breakpoint);
    assert.equal(c.getRip(), BigInt(CODE + 12));
    assert.equal((c.instructionCount - 1) % 4, 3 - 1, 'stopped before dec (mov ecx + k*4 + mov, add)');
  }
  c.setInstructionBreakpoints([]);
  assert.equal(runToExit(c), CpuExitReason.Halt);
  assert.equal(c.getGpr(3), 10n);
});

test('a watchpoint on a store inside a translated loop reports it after the instruction', () => {
  // mov ecx,100 / L: mov [rdi],ecx / add rdi,4 / dec ecx / jnz L / hlt   (rdi = 0x4000)
  const code = [0xb9, 100, 0, 0, 0, 0x89, 0x0f, 0x48, 0x83, 0xc7, 0x04, 0xff, 0xc9, 0x75, 0xf6, 0xf4];
  const c = jitCpu(code);
  c.setGpr(7, 0x4000n);
  assert.equal(c.run(40), CpuExitReason.BudgetExhausted);
  c.setWatchpoints([{ address: 0x4000n + 50n * 4n, size: 4, read: false, write: true, physical: false }]);
  assert.equal(runToExit(c), CpuExitReason.Watchpoint);
  assert.equal(c.getRip(), BigInt(CODE + 7), 'RIP is past the store');
  assert.equal(c.getGpr(7), 0x4000n + 50n * 4n, 'the add after the store has not run');
  assert.equal(c.exit.watch.address, 0x4000n + 200n);
  assert.equal(c.getGpr(1), 50n);
});

test('a #PF in a translated block leaves the precise RIP, count, registers and flags', () => {
  // cmp eax,eax (ZF=1) ... mov ecx,[rbx] faults: handler state must show the pre-fault flags.
  // mov ebx, SMALL_PAGES+0x3000 / xor eax,eax / add eax,5 / inc edx / mov ecx,[rbx] / hlt
  const addr = SMALL_PAGES + 0x3000;
  const code = [0xbb, addr & 0xff, (addr >> 8) & 0xff, (addr >> 16) & 0xff, 0, 0x31, 0xc0, 0x83, 0xc0, 0x05, 0xff, 0xc2, 0x8b, 0x0b, 0xf4];
  const mk = (jit: boolean): Cpu => {
    const c = makeCpu('long64', code);
    c.jitThreshold = jit ? 0 : -1;
    w64(c.mem, PT + 3 * 8, 0n);
    c.setExceptionExitBitmap(1 << 14);
    return c;
  };
  const a = mk(true), b = mk(false);
  assert.equal(runToExit(a), CpuExitReason.Exception);
  assert.equal(runToExit(b), CpuExitReason.Exception);
  assert.equal(a.getRip(), BigInt(CODE + 12));
  assert.equal(a.instructionCount, 4);
  assert.equal(state(a), state(b));
  assert.deepEqual(a.exit.instructionBytes, Uint8Array.of(0x8b, 0x0b));
});

// mov edi,15 / call fib / hlt / fib: cmp rdi,2 / jb base / push rdi / dec rdi / call fib / pop rdi /
// push rax / sub rdi,2 / call fib / pop rdx / add rax,rdx / ret / base: mov rax,rdi / ret
const FIB = [
  0xbf, 15, 0, 0, 0, 0xe8, 1, 0, 0, 0, 0xf4,
  0x48, 0x83, 0xff, 0x02, 0x72, 0x19, 0x57, 0x48, 0xff, 0xcf, 0xe8, 0xf1, 0xff, 0xff, 0xff,
  0x5f, 0x50, 0x48, 0x83, 0xef, 0x02, 0xe8, 0xe6, 0xff, 0xff, 0xff, 0x5a, 0x48, 0x01, 0xd0, 0xc3,
  0x48, 0x89, 0xf8, 0xc3,
];

test('blocks that call and return to each other chain inside one region, exactly like the interpreter', () => {
  const ref = makeCpu('long64', FIB);
  ref.jitThreshold = -1;
  assert.equal(runToExit(ref), CpuExitReason.Halt);
  assert.equal(ref.getGpr(0), 610n);
  for (const slice of [1e6, 7, 64]) {
    const c = jitCpu(FIB);
    let r: CpuExitReason;
    do r = c.run(slice); while (r === CpuExitReason.BudgetExhausted);
    assert.equal(r, CpuExitReason.Halt);
    assert.equal(state(c), state(ref), `slice ${slice}`);
    // The fib blocks share one compiled region (jumps, calls and returns between them chain).
    const blocks = ((c.mem.peekPage(Math.floor(CODE / 4096))?.blocks ?? []) as (Block | undefined)[]).filter((b) => b?.inRegion);
    assert.ok(blocks.length >= 4, `slice ${slice}: ${blocks.length} blocks in regions`);
    assert.ok(blocks.some((b) => blocks.some((o) => o !== b && o!.jit === b!.jit)), 'blocks share a region');
  }
});

// 32-bit: mov edi,15 / call fib / hlt / fib: cmp edi,2 / jb base / push edi / dec edi / call fib /
// pop edi / push eax / sub edi,2 / call fib / pop edx / add eax,edx / ret / base: mov eax,edi / ret
const FIB32 = [
  0xbf, 15, 0, 0, 0, 0xe8, 1, 0, 0, 0, 0xf4,
  0x83, 0xff, 0x02, 0x72, 0x15, 0x57, 0x4f, 0xe8, 0xf4, 0xff, 0xff, 0xff,
  0x5f, 0x50, 0x83, 0xef, 0x02, 0xe8, 0xea, 0xff, 0xff, 0xff, 0x5a, 0x01, 0xd0, 0xc3,
  0x89, 0xf8, 0xc3,
];
// mov ebx,0x5000 / mov ecx,100 / L: mov [ebx+ecx*4],ecx / add eax,[ebx+ecx*4] / dec ecx / jnz L / hlt
const SUM32 = [0xbb, 0x00, 0x50, 0, 0, 0xb9, 100, 0, 0, 0, 0x89, 0x0c, 0x8b, 0x03, 0x04, 0x8b, 0x49, 0x75, 0xf7, 0xf4];

function run32(code: number[], jit: boolean, slice: number, setup?: (c: Cpu) => void): Cpu {
  const c = makeCpu('prot32', code);
  setup?.(c);
  c.jitThreshold = jit ? 0 : -1;
  let r: CpuExitReason;
  do r = c.run(slice); while (r === CpuExitReason.BudgetExhausted);
  assert.equal(r, CpuExitReason.Halt, c.exit.message);
  return c;
}

test('flat 32-bit code is translated and chained, exactly like the interpreter', () => {
  for (const [code, rax] of [[FIB32, 610n], [SUM32, 5050n]] as const) {
    const ref = run32([...code], false, 1e6);
    assert.equal(ref.getGpr(0), rax);
    for (const slice of [1e6, 5, 33]) {
      const c = run32([...code], true, slice);
      assert.equal(state(c), state(ref), `slice ${slice}`);
      assert.ok(translatedBlocks(c, CODE) > 0, 'translated');
    }
  }
  const mem = (c: Cpu): string => Buffer.from(c.mem.peekPage(5)!.bytes).toString('hex');
  assert.equal(mem(run32([...SUM32], true, 7)), mem(run32([...SUM32], false, 7)));
});

test('32-bit code with a based data segment runs interpreted, with the segment base applied', () => {
  const based = (c: Cpu): void => c.setSegment(Seg.DS, { base: 0x100n, limit: 0xffffffff, selector: SEL.data, attributes: 0xc093 });
  const c = run32([...SUM32], true, 1e6, based), ref = run32([...SUM32], false, 1e6, based);
  assert.equal(state(c), state(ref));
  assert.equal(translatedBlocks(c, CODE), 0, 'not flat: no translation');
  assert.equal(c.mem.peekPage(5)!.bytes[0x100 + 4 * 100], 100, 'the store went through DS.base');
});

test('a #PF on the write of ADD [m] (a write-protected page) shows the flags from before the ADD, translated or not', () => {
  // xor eax,eax / mov ebx,0x800000 / L: add qword [rbx],1 / jmp L   — PT entry 0 is read-only, CR0.WP is set.
  const code = [0x31, 0xc0, 0xbb, 0x00, 0x00, 0x80, 0x00, 0x48, 0x83, 0x03, 0x01, 0xeb, 0xfa];
  for (const jit of [false, true]) {
    const c = makeCpu('long64', code);
    c.jitThreshold = jit ? 0 : -1;
    w64(c.mem, PT, BigInt(SMALL_PAGES + 5)); // present, user, read-only
    assert.equal(runToExit(c), CpuExitReason.Halt, c.exit.message);
    const rsp = Number(c.getGpr(4));
    const frame = (i: number): bigint => r64(c.mem, rsp + 8 * i);
    assert.equal(frame(1), BigInt(CODE + 7), 'the #PF is at the ADD');
    assert.equal(frame(3) & 0x8d5n, 0x44n, `${jit ? 'translated' : 'interpreted'}: ZF|PF of the XOR, not the ADD's`);
  }
});

test('stores beside the code in its page (a stack there) keep the page\'s decoded and translated code', () => {
  // mov ecx,100 / L: push rax / pop rax / dec ecx / jnz L / hlt   — RSP in the code's own page
  const code = [0xb9, 100, 0, 0, 0, 0x50, 0x58, 0xff, 0xc9, 0x75, 0xfa, 0xf4];
  for (const jit of [false, true]) {
    const c = makeCpu('long64', code);
    c.jitThreshold = jit ? 0 : -1;
    c.setGpr(4, BigInt(CODE + 0xf00));
    const page = c.mem.peekPage(CODE / 4096)!;
    assert.equal(runToExit(c), CpuExitReason.Halt);
    assert.equal(c.instructionCount, 1 + 4 * 100 + 1);
    assert.equal(page.codeGen, 0, 'no store invalidated the code');
    if (jit) assert.ok(translatedBlocks(c, CODE) > 0);
  }
  // A store into the code's bytes still drops it (the self-modifying tests above run the new bytes).
  const c = makeCpu('long64', code);
  const page = c.mem.peekPage(CODE / 4096)!;
  runToExit(c);
  c.mem.write(CODE + 1, Uint8Array.of(5));
  assert.equal(page.codeGen, 1);
});

// A switch through a jump table, an indirect CALL, RET imm16 and LOOP: blocks that end in the
// interpreter's handler and chain to where it went. nasm, org 0x1000:
//   mov ecx,300 / L: mov eax,ecx / and eax,3 / lea rdx,[rel table] / jmp [rdx+rax*8]
//   case0: add ebx,1 / jmp next     case1: add ebx,2 / lea rsi,[rel fn] / call rsi / jmp next
//   case2: add ebx,3 / loop next2 / next2: inc ecx / jmp next     case3: add ebx,4
//   next: dec ecx / jnz L / hlt     fn: add ebx,100 / ret 0     align 8 / table: dq case0..case3
const SWITCH = [
  0xb9, 0x2c, 0x01, 0x00, 0x00, 0x89, 0xc8, 0x83, 0xe0, 0x03, 0x48, 0x8d, 0x15, 0x2f, 0x00, 0x00, 0x00, 0xff, 0x24, 0xc2,
  0x83, 0xc3, 0x01, 0xeb, 0x1a, 0x83, 0xc3, 0x02, 0x48, 0x8d, 0x35, 0x15, 0x00, 0x00, 0x00, 0xff, 0xd6, 0xeb, 0x0c,
  0x83, 0xc3, 0x03, 0xe2, 0x00, 0xff, 0xc1, 0xeb, 0x03, 0x83, 0xc3, 0x04, 0xff, 0xc9, 0x75, 0xce, 0xf4,
  0x83, 0xc3, 0x64, 0xc2, 0x00, 0x00, 0x90, 0x90,
  0x14, 0x10, 0, 0, 0, 0, 0, 0, 0x19, 0x10, 0, 0, 0, 0, 0, 0, 0x27, 0x10, 0, 0, 0, 0, 0, 0, 0x30, 0x10, 0, 0, 0, 0, 0, 0,
];

test('indirect jumps and calls, RET imm16 and LOOP chain inside a region exactly like the interpreter', () => {
  const ref = makeCpu('long64', SWITCH);
  ref.jitThreshold = -1;
  assert.equal(runToExit(ref), CpuExitReason.Halt);
  assert.equal(ref.getGpr(3), BigInt(75 * (1 + 102 + 3 + 4))); // 75 passes through each case
  for (const slice of [1e6, 13]) {
    const c = jitCpu(SWITCH);
    let r: CpuExitReason;
    do r = c.run(slice); while (r === CpuExitReason.BudgetExhausted);
    assert.equal(r, CpuExitReason.Halt);
    assert.equal(state(c), state(ref), `slice ${slice}`);
  }
});

test('translated source names only the Cpu members the translator lists (CPU_MEMBERS_USED, checked against Cpu by tsc)', () => {
  const named = new Set<string>();
  // mov rax,fs:[rbx] / add gs:[rbx],rax / jmp [rbx] covers segment bases and the generic path too.
  const FSGS = [0x64, 0x48, 0x8b, 0x03, 0x65, 0x48, 0x01, 0x03, 0xff, 0x23];
  for (const [mode, code] of [['long64', FIB], ['long64', SWITCH], ['long64', LOOP], ['long64', FSGS], ['prot32', FIB32], ['prot32', SUM32]] as const) {
    const c = makeCpu(mode, [...code]);
    c.jitThreshold = 0;
    c.run(5000);
    const blocks = (c.mem.peekPage(CODE / 4096)?.blocks ?? []) as (Block | undefined)[];
    for (const b of blocks) if (b?.jit) for (const m of regionSource([b]).matchAll(/\bc\.([A-Za-z]\w*)/g)) named.add(m[1]);
  }
  assert.ok(named.size > 20, `${named.size} members named`);
  assert.deepEqual([...named].filter((n) => !(CPU_MEMBERS_USED as readonly string[]).includes(n)), []);
});
