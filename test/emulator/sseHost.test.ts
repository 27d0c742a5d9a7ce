// Differential check of the SSE/SSE2 handlers against the host CPU: every instruction form below
// runs natively (a C helper compiled with `cc` at test time, inline asm between LDMXCSR and
// STMXCSR) and in the emulator on the same seeded inputs — special values (signed zeros,
// denormals, infinities, QNaN/SNaN), rounding-boundary values and random bits — under all
// four MXCSR rounding modes with DAZ/FTZ on and off, and with random exceptions unmasked
// (the host's SIGFPE handler reads XMM0 and MXCSR from the signal context; the emulator must
// take #XM with the same flags and XMM0 unchanged). XMM0, RAX, MXCSR (the sticky flags),
// #XM and, for (U)COMIS, the arithmetic flags must match bit for bit.
// Skipped with a message when there is no C compiler or the host is not x86-64.
// Machine code for the emulator was assembled with nasm from the same text.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir, arch } from 'node:os';
import { join } from 'node:path';
import { makeCpu, CODE, HANDLERS, STACK_TOP } from './cpuKit';
import { CpuExitReason } from '../../src/emulator/vcpu';

/** [input kind, instruction (GNU as Intel syntax; nasm's without "ptr"), machine code]. */
const OPS: [string, string, string][] = [
  ['f32', 'addps xmm0, xmm1', '0f58c1'],
  ['f32', 'addss xmm0, xmm1', 'f30f58c1'],
  ['f32', 'subps xmm0, xmm1', '0f5cc1'],
  ['f32', 'subss xmm0, xmm1', 'f30f5cc1'],
  ['f32', 'mulps xmm0, xmm1', '0f59c1'],
  ['f32', 'mulss xmm0, xmm1', 'f30f59c1'],
  ['f32', 'divps xmm0, xmm1', '0f5ec1'],
  ['f32', 'divss xmm0, xmm1', 'f30f5ec1'],
  ['f32', 'minps xmm0, xmm1', '0f5dc1'],
  ['f32', 'maxss xmm0, xmm1', 'f30f5fc1'],
  ['f32', 'sqrtps xmm0, xmm1', '0f51c1'],
  ['f32', 'sqrtss xmm0, xmm1', 'f30f51c1'],
  ['f64', 'addpd xmm0, xmm1', '660f58c1'],
  ['f64', 'addsd xmm0, xmm1', 'f20f58c1'],
  ['f64', 'subpd xmm0, xmm1', '660f5cc1'],
  ['f64', 'subsd xmm0, xmm1', 'f20f5cc1'],
  ['f64', 'mulpd xmm0, xmm1', '660f59c1'],
  ['f64', 'mulsd xmm0, xmm1', 'f20f59c1'],
  ['f64', 'divpd xmm0, xmm1', '660f5ec1'],
  ['f64', 'divsd xmm0, xmm1', 'f20f5ec1'],
  ['f64', 'minsd xmm0, xmm1', 'f20f5dc1'],
  ['f64', 'maxpd xmm0, xmm1', '660f5fc1'],
  ['f64', 'sqrtpd xmm0, xmm1', '660f51c1'],
  ['f64', 'sqrtsd xmm0, xmm1', 'f20f51c1'],
  ['f32', 'andps xmm0, xmm1', '0f54c1'],
  ['f32', 'andnps xmm0, xmm1', '0f55c1'],
  ['f64', 'orpd xmm0, xmm1', '660f56c1'],
  ['f64', 'xorpd xmm0, xmm1', '660f57c1'],
  ['f32', 'cmpps xmm0, xmm1, 0', '0fc2c100'],
  ['f32', 'cmpps xmm0, xmm1, 1', '0fc2c101'],
  ['f32', 'cmpps xmm0, xmm1, 2', '0fc2c102'],
  ['f32', 'cmpps xmm0, xmm1, 3', '0fc2c103'],
  ['f32', 'cmpss xmm0, xmm1, 4', 'f30fc2c104'],
  ['f32', 'cmpss xmm0, xmm1, 5', 'f30fc2c105'],
  ['f32', 'cmpss xmm0, xmm1, 6', 'f30fc2c106'],
  ['f32', 'cmpss xmm0, xmm1, 7', 'f30fc2c107'],
  ['f64', 'cmppd xmm0, xmm1, 1', '660fc2c101'],
  ['f64', 'cmppd xmm0, xmm1, 4', '660fc2c104'],
  ['f64', 'cmpsd xmm0, xmm1, 2', 'f20fc2c102'],
  ['f64', 'cmpsd xmm0, xmm1, 7', 'f20fc2c107'],
  ['f32', 'comiss xmm0, xmm1', '0f2fc1'],
  ['f32', 'ucomiss xmm0, xmm1', '0f2ec1'],
  ['f64', 'comisd xmm0, xmm1', '660f2fc1'],
  ['f64', 'ucomisd xmm0, xmm1', '660f2ec1'],
  ['i32', 'cvtsi2ss xmm0, eax', 'f30f2ac0'],
  ['i64', 'cvtsi2ss xmm0, rax', 'f3480f2ac0'],
  ['i32', 'cvtsi2sd xmm0, eax', 'f20f2ac0'],
  ['i64', 'cvtsi2sd xmm0, rax', 'f2480f2ac0'],
  ['f32', 'cvtss2si eax, xmm1', 'f30f2dc1'],
  ['f32', 'cvtss2si rax, xmm1', 'f3480f2dc1'],
  ['f32', 'cvttss2si eax, xmm1', 'f30f2cc1'],
  ['f32', 'cvttss2si rax, xmm1', 'f3480f2cc1'],
  ['f64', 'cvtsd2si eax, xmm1', 'f20f2dc1'],
  ['f64', 'cvtsd2si rax, xmm1', 'f2480f2dc1'],
  ['f64', 'cvttsd2si eax, xmm1', 'f20f2cc1'],
  ['f64', 'cvttsd2si rax, xmm1', 'f2480f2cc1'],
  ['f32', 'cvtss2sd xmm0, xmm1', 'f30f5ac1'],
  ['f64', 'cvtsd2ss xmm0, xmm1', 'f20f5ac1'],
  ['i32', 'cvtdq2ps xmm0, xmm1', '0f5bc1'],
  ['f32', 'cvtps2dq xmm0, xmm1', '660f5bc1'],
  ['f32', 'cvttps2dq xmm0, xmm1', 'f30f5bc1'],
  ['i32', 'cvtdq2pd xmm0, xmm1', 'f30fe6c1'],
  ['f64', 'cvtpd2dq xmm0, xmm1', 'f20fe6c1'],
  ['f64', 'cvttpd2dq xmm0, xmm1', '660fe6c1'],
  ['f32', 'cvtps2pd xmm0, xmm1', '0f5ac1'],
  ['f64', 'cvtpd2ps xmm0, xmm1', '660f5ac1'],
  ['f32', 'movss xmm0, xmm1', 'f30f10c1'],
  ['f64', 'movsd xmm0, xmm1', 'f20f10c1'],
  ['f64', 'movhlps xmm0, xmm1', '0f12c1'],
  ['f64', 'movlhps xmm0, xmm1', '0f16c1'],
  ['f32', 'unpcklps xmm0, xmm1', '0f14c1'],
  ['f32', 'unpckhps xmm0, xmm1', '0f15c1'],
  ['f64', 'unpcklpd xmm0, xmm1', '660f14c1'],
  ['f64', 'unpckhpd xmm0, xmm1', '660f15c1'],
  ['f32', 'shufps xmm0, xmm1, 0x1b', '0fc6c11b'],
  ['f32', 'shufps xmm0, xmm1, 0xc6', '0fc6c1c6'],
  ['f64', 'shufpd xmm0, xmm1, 1', '660fc6c101'],
  ['f64', 'shufpd xmm0, xmm1, 2', '660fc6c102'],
  ['f32', 'movmskps eax, xmm1', '0f50c1'],
  ['f64', 'movmskpd eax, xmm1', '660f50c1'],
  ['i8', 'pmovmskb eax, xmm1', '660fd7c1'],
  ['i32', 'movd xmm0, eax', '660f6ec0'],
  ['i64', 'movq xmm0, rax', '66480f6ec0'],
  ['i32', 'movd eax, xmm1', '660f7ec8'],
  ['i64', 'movq rax, xmm1', '66480f7ec8'],
  ['i64', 'movq xmm0, xmm1', 'f30f7ec1'],
  ['i8', 'paddb xmm0, xmm1', '660ffcc1'],
  ['i16', 'paddw xmm0, xmm1', '660ffdc1'],
  ['i32', 'paddd xmm0, xmm1', '660ffec1'],
  ['i64', 'paddq xmm0, xmm1', '660fd4c1'],
  ['i8', 'psubb xmm0, xmm1', '660ff8c1'],
  ['i16', 'psubw xmm0, xmm1', '660ff9c1'],
  ['i32', 'psubd xmm0, xmm1', '660ffac1'],
  ['i64', 'psubq xmm0, xmm1', '660ffbc1'],
  ['i8', 'paddsb xmm0, xmm1', '660fecc1'],
  ['i16', 'paddsw xmm0, xmm1', '660fedc1'],
  ['i8', 'paddusb xmm0, xmm1', '660fdcc1'],
  ['i16', 'paddusw xmm0, xmm1', '660fddc1'],
  ['i8', 'psubsb xmm0, xmm1', '660fe8c1'],
  ['i16', 'psubsw xmm0, xmm1', '660fe9c1'],
  ['i8', 'psubusb xmm0, xmm1', '660fd8c1'],
  ['i16', 'psubusw xmm0, xmm1', '660fd9c1'],
  ['i16', 'pmullw xmm0, xmm1', '660fd5c1'],
  ['i16', 'pmulhw xmm0, xmm1', '660fe5c1'],
  ['i16', 'pmulhuw xmm0, xmm1', '660fe4c1'],
  ['i32', 'pmuludq xmm0, xmm1', '660ff4c1'],
  ['i16', 'pmaddwd xmm0, xmm1', '660ff5c1'],
  ['i8', 'pcmpeqb xmm0, xmm1', '660f74c1'],
  ['i16', 'pcmpeqw xmm0, xmm1', '660f75c1'],
  ['i32', 'pcmpeqd xmm0, xmm1', '660f76c1'],
  ['i8', 'pcmpgtb xmm0, xmm1', '660f64c1'],
  ['i16', 'pcmpgtw xmm0, xmm1', '660f65c1'],
  ['i32', 'pcmpgtd xmm0, xmm1', '660f66c1'],
  ['i32', 'pand xmm0, xmm1', '660fdbc1'],
  ['i32', 'pandn xmm0, xmm1', '660fdfc1'],
  ['i32', 'por xmm0, xmm1', '660febc1'],
  ['i32', 'pxor xmm0, xmm1', '660fefc1'],
  ['i8', 'pminub xmm0, xmm1', '660fdac1'],
  ['i8', 'pmaxub xmm0, xmm1', '660fdec1'],
  ['i16', 'pminsw xmm0, xmm1', '660feac1'],
  ['i16', 'pmaxsw xmm0, xmm1', '660feec1'],
  ['i8', 'pavgb xmm0, xmm1', '660fe0c1'],
  ['i16', 'pavgw xmm0, xmm1', '660fe3c1'],
  ['i8', 'psadbw xmm0, xmm1', '660ff6c1'],
  ['sh', 'psllw xmm0, xmm1', '660ff1c1'],
  ['sh', 'pslld xmm0, xmm1', '660ff2c1'],
  ['sh', 'psllq xmm0, xmm1', '660ff3c1'],
  ['sh', 'psrlw xmm0, xmm1', '660fd1c1'],
  ['sh', 'psrld xmm0, xmm1', '660fd2c1'],
  ['sh', 'psrlq xmm0, xmm1', '660fd3c1'],
  ['sh', 'psraw xmm0, xmm1', '660fe1c1'],
  ['sh', 'psrad xmm0, xmm1', '660fe2c1'],
  ['i16', 'psllw xmm0, 3', '660f71f003'],
  ['i32', 'pslld xmm0, 31', '660f72f01f'],
  ['i64', 'psllq xmm0, 33', '660f73f021'],
  ['i16', 'psrlw xmm0, 16', '660f71d010'],
  ['i32', 'psrld xmm0, 7', '660f72d007'],
  ['i64', 'psrlq xmm0, 63', '660f73d03f'],
  ['i16', 'psraw xmm0, 200', '660f71e0c8'],
  ['i32', 'psrad xmm0, 9', '660f72e009'],
  ['i8', 'pslldq xmm0, 5', '660f73f805'],
  ['i8', 'psrldq xmm0, 11', '660f73d80b'],
  ['i8', 'pslldq xmm0, 16', '660f73f810'],
  ['i16', 'packsswb xmm0, xmm1', '660f63c1'],
  ['i16', 'packuswb xmm0, xmm1', '660f67c1'],
  ['i32', 'packssdw xmm0, xmm1', '660f6bc1'],
  ['i8', 'punpcklbw xmm0, xmm1', '660f60c1'],
  ['i16', 'punpcklwd xmm0, xmm1', '660f61c1'],
  ['i32', 'punpckldq xmm0, xmm1', '660f62c1'],
  ['i64', 'punpcklqdq xmm0, xmm1', '660f6cc1'],
  ['i8', 'punpckhbw xmm0, xmm1', '660f68c1'],
  ['i16', 'punpckhwd xmm0, xmm1', '660f69c1'],
  ['i32', 'punpckhdq xmm0, xmm1', '660f6ac1'],
  ['i64', 'punpckhqdq xmm0, xmm1', '660f6dc1'],
  ['i32', 'pshufd xmm0, xmm1, 0x1b', '660f70c11b'],
  ['i16', 'pshufhw xmm0, xmm1, 0x9c', 'f30f70c19c'],
  ['i16', 'pshuflw xmm0, xmm1, 0x72', 'f20f70c172'],
  ['i16', 'pinsrw xmm0, eax, 5', '660fc4c005'],
  ['i16', 'pextrw eax, xmm1, 6', '660fc5c106'],
  // Memory forms: [rsi] holds the second operand's 16 bytes (16-byte aligned on both sides).
  ['f32', 'addps xmm0, [rsi]', '0f5806'],
  ['f32', 'addss xmm0, dword ptr [rsi]', 'f30f5806'],
  ['f64', 'mulsd xmm0, qword ptr [rsi]', 'f20f5906'],
  ['f64', 'divpd xmm0, [rsi]', '660f5e06'],
  ['f32', 'sqrtss xmm0, dword ptr [rsi]', 'f30f5106'],
  ['f32', 'minps xmm0, [rsi]', '0f5d06'],
  ['f32', 'cmpps xmm0, [rsi], 2', '0fc20602'],
  ['f64', 'cmpnltsd xmm0, qword ptr [rsi]', 'f20fc20605'],
  ['f32', 'comiss xmm0, dword ptr [rsi]', '0f2f06'],
  ['f64', 'ucomisd xmm0, qword ptr [rsi]', '660f2e06'],
  ['i32', 'cvtsi2ss xmm0, dword ptr [rsi]', 'f30f2a06'],
  ['i64', 'cvtsi2sd xmm0, qword ptr [rsi]', 'f2480f2a06'],
  ['f32', 'cvtss2si eax, dword ptr [rsi]', 'f30f2d06'],
  ['f64', 'cvttsd2si rax, qword ptr [rsi]', 'f2480f2c06'],
  ['f32', 'cvtss2sd xmm0, dword ptr [rsi]', 'f30f5a06'],
  ['f64', 'cvtsd2ss xmm0, qword ptr [rsi]', 'f20f5a06'],
  ['f32', 'cvtps2pd xmm0, qword ptr [rsi]', '0f5a06'],
  ['i32', 'cvtdq2pd xmm0, qword ptr [rsi]', 'f30fe606'],
  ['f64', 'cvtpd2ps xmm0, [rsi]', '660f5a06'],
  ['f32', 'movss xmm0, dword ptr [rsi]', 'f30f1006'],
  ['f64', 'movsd xmm0, qword ptr [rsi]', 'f20f1006'],
  ['f64', 'movlps xmm0, qword ptr [rsi]', '0f1206'],
  ['f64', 'movhpd xmm0, qword ptr [rsi]', '660f1606'],
  ['i32', 'movd xmm0, dword ptr [rsi]', '660f6e06'],
  ['i64', 'movq xmm0, qword ptr [rsi]', 'f30f7e06'],
  ['i32', 'movdqa xmm0, [rsi]', '660f6f06'],
  ['i16', 'pinsrw xmm0, word ptr [rsi], 3', '660fc40603'],
  ['i32', 'pshufd xmm0, [rsi], 0x4e', '660f70064e'],
  ['i8', 'punpcklbw xmm0, [rsi]', '660f6006'],
  ['i16', 'pmaddwd xmm0, [rsi]', '660ff506'],
  ['sh', 'psrlq xmm0, [rsi]', '660fd306'],
  ['f32', 'shufps xmm0, [rsi], 0x93', '0fc60693'],
  ['f32', 'unpckhps xmm0, [rsi]', '0f1506'],
  ['f64', 'andnpd xmm0, [rsi]', '660f5506'],
];

/** Guest-physical (identity-mapped) address of the memory operand in the emulator. */
const MEM_OPERAND = 0x6000;
const CASES_PER_OP = Number(process.env.SSE_HOST_CASES ?? 240);
const SEED = 0x5eed;

function hasCc(): boolean {
  try { execFileSync('cc', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}

/** Host helper: reads 64-byte records (xmm0, xmm1, mxcsr, op index, rax) and writes 64-byte results (xmm0, mxcsr, rax, rflags). */
function helperSource(): string {
  const fns = OPS.map(([, asm], i) => `static void op${i}(unsigned char *in, unsigned char *o) { __asm__ volatile(
    "ldmxcsr dword ptr [%0+32]\\n movdqu xmm0, [%0]\\n movdqu xmm1, [%0+16]\\n mov rax, [%0+40]\\n lea rsi, [%0+16]\\n"
    "${asm}\\n"
    "pushfq\\n pop rcx\\n mov [%1+32], rcx\\n stmxcsr dword ptr [%1+16]\\n movdqu [%1], xmm0\\n mov [%1+24], rax\\n"
    "mov dword ptr [%1+20], 0x1f80\\n ldmxcsr dword ptr [%1+20]\\n"
    :: "r"(in), "r"(o) : "rax", "rcx", "rsi", "xmm0", "xmm1", "cc", "memory"); }`).join('\n');
  return `#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
${fns}
typedef void (*Op)(unsigned char *, unsigned char *);
static const Op ops[] = { ${OPS.map((_, i) => `op${i}`).join(', ')} };
static sigjmp_buf jb;
static unsigned char in[64], out[64];
/* #XM: record XMM0 and MXCSR as the fault left them, restore the default MXCSR, resume main. */
static void onFpe(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  (void)sig; (void)si;
  memcpy(out, &uc->uc_mcontext.fpregs->_xmm[0], 16);
  memcpy(out + 16, &uc->uc_mcontext.fpregs->mxcsr, 4);
  memcpy(out + 24, in + 40, 8);
  out[40] = 1;
  uc->uc_mcontext.fpregs->mxcsr = 0x1f80;
  siglongjmp(jb, 1);
}
int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = onFpe; sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigaction(SIGFPE, &sa, 0);
  while (fread(in, 64, 1, stdin) == 1) {
    unsigned idx; memcpy(&idx, in + 36, 4);
    memset(out, 0, 64);
    if (!sigsetjmp(jb, 1)) ops[idx](in, out);
    fwrite(out, 64, 1, stdout);
  }
  return 0;
}
`;
}

class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0 || 1; }
  u32(): number { let x = this.s; x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; this.s = x; return x; }
  int(n: number): number { return this.u32() % n; }
  pick<T>(a: readonly T[]): T { return a[this.int(a.length)]; }
}

const F32_SPECIAL = [0, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fa00001, 0xff811111,
  0x00000001, 0x807fffff, 0x00400000, 0x00800000, 0x80800000, 0x7f7fffff, 0xff7fffff, 0x3f800001, 0x4b000000, 0x4f000000,
  0xcf000000, 0x4effffff, 0x5f000000, 0xdf000000, 0x3f000000, 0x3fc00000, 0x40200000, 0xc0200000, 0x33800000, 0x0c000000];
const F64_SPECIAL_HI = [0, 0x80000000, 0x3ff00000, 0xbff00000, 0x7ff00000, 0xfff00000, 0x7ff80000, 0xfff80000, 0x7ff40000, 0x00000000,
  0x000fffff, 0x00100000, 0x80100000, 0x7fefffff, 0x41e00000, 0xc1e00000, 0x43e00000, 0xc3e00000, 0x3fe00000, 0x36a00000, 0x47f00000, 0x38100000];

function f32lane(r: Rng, near: number): number {
  const k = r.int(10);
  if (k < 3) return r.pick(F32_SPECIAL);
  if (k < 6) return (near + r.int(64) - 32 + (r.int(4) === 0 ? 0x01000000 * (r.int(4) - 2) : 0)) >>> 0 ^ (r.int(2) << 31);
  if (k < 8) return (r.u32() & 0x807fffff) | ((0x3f0 + r.int(32)) << 20);
  return r.u32();
}

function f64lane(r: Rng, nearHi: number): [number, number] {
  const k = r.int(10);
  if (k < 3) { const hi = r.pick(F64_SPECIAL_HI); return [hi === 0x7ff40000 || hi === 0x000fffff ? r.u32() | 1 : r.int(3) === 0 ? 0 : r.u32() & 1, hi]; }
  if (k < 6) return [r.u32(), ((nearHi + r.int(8) - 4) ^ (r.int(2) << 31)) >>> 0];
  if (k < 8) return [r.u32(), ((r.u32() & 0x800fffff) | ((0x3f0 + r.int(32)) << 20)) >>> 0];
  return [r.u32(), r.u32()];
}

function intLane(r: Rng, kind: string): number {
  const edge = [0, 0xffffffff, 0x80000000, 0x7fffffff, 0x80808080, 0x7f7f7f7f, 0x80008000, 0x7fff7fff, 0xff00ff00, 0x00010001];
  return r.int(3) === 0 ? r.pick(edge) : kind === 'i8' || kind === 'i16' ? r.u32() : r.int(2) ? r.u32() : r.u32() >>> r.int(32);
}

function makeInput(r: Rng, kind: string, rec: DataView, idx: number): void {
  const w = (o: number, v: number): void => rec.setUint32(o, v >>> 0, true);
  if (kind === 'f32') {
    const near = r.pick(F32_SPECIAL.slice(2, 10).concat([r.u32() & 0x7fffffff]));
    for (let k = 0; k < 8; k++) w(4 * k, f32lane(r, near));
  } else if (kind === 'f64') {
    const nearHi = r.pick([0x3ff00000, 0x00100000, 0x7fe00000, 0x43300000, 0x41e00000, r.u32() & 0x7fffffff]);
    for (let k = 0; k < 4; k++) { const [lo, hi] = f64lane(r, nearHi); w(8 * k, lo); w(8 * k + 4, hi); }
  } else if (kind === 'sh') {
    for (let k = 0; k < 4; k++) w(4 * k, r.u32());
    const big = r.int(8) === 0;
    w(16, big ? r.u32() : r.int(70)); w(20, big ? r.u32() : 0); w(24, r.u32()); w(28, r.u32());
  } else for (let k = 0; k < 8; k++) w(4 * k, intLane(r, kind));
  const rc = r.int(4) << 13, daz = r.int(2) ? 0x40 : 0, ftz = r.int(2) ? 0x8000 : 0;
  const unmask = r.int(4) === 0 ? (r.u32() & 0x3f) << 7 : 0;
  w(32, (0x1f80 & ~unmask) | rc | daz | ftz | (r.int(6) === 0 ? 0x3f : 0));
  w(36, idx);
  w(40, intLane(r, 'i32')); w(44, kind === 'i64' || r.int(2) ? intLane(r, 'i32') : 0);
}

const hex = (v: bigint): string => '0x' + v.toString(16);

test('SSE/SSE2 instructions match the host CPU bit for bit (results, MXCSR flags, RAX, COMIS flags)', (t) => {
  if (arch() !== 'x64') { t.skip('host is not x86-64'); return; }
  if (!hasCc()) { t.skip('no C compiler (cc) found: SSE host differential skipped'); return; }
  const dir = mkdtempSync(join(tmpdir(), 'vpdbg-sse-'));
  try {
    writeFileSync(join(dir, 'h.c'), helperSource());
    execFileSync('cc', ['-O1', '-masm=intel', '-o', join(dir, 'h'), join(dir, 'h.c')], { stdio: 'pipe' });
    const r = new Rng(SEED);
    const n = OPS.length * CASES_PER_OP;
    const input = new Uint8Array(n * 64);
    for (let i = 0; i < n; i++) makeInput(r, OPS[Math.floor(i / CASES_PER_OP)][0], new DataView(input.buffer, i * 64, 64), Math.floor(i / CASES_PER_OP));
    const host = spawnSync(join(dir, 'h'), [], { input, maxBuffer: n * 64 + 1024 });
    assert.equal(host.status, 0, `host helper failed: ${host.stderr?.toString()}`);
    const out = new Uint8Array(host.stdout);
    assert.equal(out.length, n * 64);

    const cpu = makeCpu('long64', []);
    cpu.setCr(4, 0x620n);
    OPS.forEach(([, , code], i) => cpu.mem.write(CODE + 32 * i, Uint8Array.from([...Buffer.from(code, 'hex'), 0xf4])));
    const failures: string[] = [];
    const perOp = new Map<string, number>();
    for (let c = 0; c < n; c++) {
      const op = OPS[Math.floor(c / CASES_PER_OP)];
      const iv = new DataView(input.buffer, c * 64, 64), ov = new DataView(out.buffer, c * 64, 64);
      const q = (v: DataView, o: number): bigint => v.getBigUint64(o, true);
      cpu.setXmm(0, q(iv, 0), q(iv, 8)); cpu.setXmm(1, q(iv, 16), q(iv, 24));
      cpu.mem.write(MEM_OPERAND, input.subarray(c * 64 + 16, c * 64 + 32));
      cpu.setGpr(6, BigInt(MEM_OPERAND));
      cpu.setMxcsr(iv.getUint32(32, true));
      cpu.setGpr(0, q(iv, 40));
      cpu.setRflags(2n);
      cpu.setGpr(4, BigInt(STACK_TOP)); // each #XM delivery pushes a frame
      cpu.setRip(BigInt(CODE + 32 * Math.floor(c / CASES_PER_OP)));
      const why = cpu.run(8);
      const [x0, x1] = cpu.getXmm(0);
      const xm = why === CpuExitReason.Halt && cpu.getRip() === BigInt(HANDLERS + 19 * 16 + 1);
      const got = { xmm: [x0, x1], mxcsr: cpu.getMxcsr(), rax: cpu.getGpr(0), flags: cpu.getRflags() & 0x8d5n, xm };
      const want = { xmm: [q(ov, 0), q(ov, 8)], mxcsr: ov.getUint32(16, true), rax: q(ov, 24), flags: q(ov, 32) & 0x8d5n, xm: ov.getUint8(40) === 1 };
      const flagsMatter = op[1].includes('comis') && !want.xm;
      if (why !== CpuExitReason.Halt || got.xm !== want.xm || got.xmm[0] !== want.xmm[0] || got.xmm[1] !== want.xmm[1] || got.mxcsr !== want.mxcsr || got.rax !== want.rax || (flagsMatter && got.flags !== want.flags)) {
        perOp.set(op[1], (perOp.get(op[1]) ?? 0) + 1);
        if (failures.length < 25) {
          failures.push(`${op[1]}: in xmm0=${hex(q(iv, 8))}:${hex(q(iv, 0))} xmm1=${hex(q(iv, 24))}:${hex(q(iv, 16))} mxcsr=${hex(BigInt(iv.getUint32(32, true)))} rax=${hex(q(iv, 40))}\n` +
            `   host xmm0=${hex(want.xmm[1])}:${hex(want.xmm[0])} mxcsr=${hex(BigInt(want.mxcsr))} rax=${hex(want.rax)} flags=${hex(want.flags)} #XM=${want.xm}\n` +
            `   emu  xmm0=${hex(got.xmm[1])}:${hex(got.xmm[0])} mxcsr=${hex(BigInt(got.mxcsr))} rax=${hex(got.rax)} flags=${hex(got.flags)} #XM=${got.xm} exit=${why}`);
        }
      }
    }
    assert.equal(failures.length, 0, `${[...perOp].map(([k, v]) => `${k}: ${v}`).join(', ')}\n${failures.join('\n')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
