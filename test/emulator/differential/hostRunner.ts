// Runs differential cases natively on the host CPU through a small C helper compiled with
// `cc` at test time. The helper maps an RWX code page and the memory window (data buffer and
// stack) at the same fixed addresses the emulator uses, loads all 16 GPRs (RSP points into
// the window), RFLAGS, MXCSR and XMM0-15 from the case, jumps to the sequence, and on return
// (or on a fault, from the signal context) prints them, the faulting RIP and the window.

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CODE_ADDRESS, SCRATCH_ADDRESS, SCRATCH_SIZE, type DiffCase, type HostFeatures } from './generator';

const C_SOURCE = String.raw`
#define _GNU_SOURCE
#include <cpuid.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#define CODE_ADDRESS ${CODE_ADDRESS}UL
#define SCRATCH_ADDRESS ${SCRATCH_ADDRESS}UL
#define SCRATCH_SIZE ${SCRATCH_SIZE}

typedef struct { uint64_t r[16]; uint64_t rflags; uint32_t mxcsr, pad; uint8_t xmm[16][16]; } State;
const uint32_t default_mxcsr = 0x1f80; /* reloaded after each case: C code expects the default */
State state;
uint64_t code_entry = CODE_ADDRESS;
extern void run_case(State *s);
extern char case_exit[];

/* The case runs on its own RSP (inside the compared memory window, same address as in the
   emulator); the host RSP and the State pointer live in globals. Flags are loaded on the host
   stack before the switch and read back after switching back, so no push touches the window. */
uint64_t host_rsp, case_rsp;
State *state_ptr;
__asm__(
  ".intel_syntax noprefix\n"
  ".globl run_case\n"
  "run_case:\n"
  "  push rbx\n  push rbp\n  push r12\n  push r13\n  push r14\n  push r15\n"
  "  mov [rip+state_ptr],rdi\n  mov [rip+host_rsp],rsp\n"
  "  mov ax,0x2b\n  mov ds,ax\n  mov es,ax\n"
  "  push qword ptr [rdi+128]\n  popfq\n  ldmxcsr [rdi+136]\n"
  "  movdqu xmm0,[rdi+144]\n  movdqu xmm1,[rdi+160]\n  movdqu xmm2,[rdi+176]\n  movdqu xmm3,[rdi+192]\n"
  "  movdqu xmm4,[rdi+208]\n  movdqu xmm5,[rdi+224]\n  movdqu xmm6,[rdi+240]\n  movdqu xmm7,[rdi+256]\n"
  "  movdqu xmm8,[rdi+272]\n  movdqu xmm9,[rdi+288]\n  movdqu xmm10,[rdi+304]\n  movdqu xmm11,[rdi+320]\n"
  "  movdqu xmm12,[rdi+336]\n  movdqu xmm13,[rdi+352]\n  movdqu xmm14,[rdi+368]\n  movdqu xmm15,[rdi+384]\n"
  "  mov rax,[rdi+0]\n  mov rcx,[rdi+8]\n  mov rdx,[rdi+16]\n  mov rbx,[rdi+24]\n  mov rsp,[rdi+32]\n"
  "  mov rbp,[rdi+40]\n  mov rsi,[rdi+48]\n  mov r8,[rdi+64]\n  mov r9,[rdi+72]\n"
  "  mov r10,[rdi+80]\n  mov r11,[rdi+88]\n  mov r12,[rdi+96]\n  mov r13,[rdi+104]\n"
  "  mov r14,[rdi+112]\n  mov r15,[rdi+120]\n  mov rdi,[rdi+56]\n"
  "  jmp qword ptr [rip+code_entry]\n"
  ".globl case_exit\n"
  "case_exit:\n"
  "  mov [rip+case_rsp],rsp\n  mov rsp,[rip+host_rsp]\n"
  "  pushfq\n  push rdi\n  mov rdi,[rip+state_ptr]\n"
  "  mov [rdi+0],rax\n  mov [rdi+8],rcx\n  mov [rdi+16],rdx\n  mov [rdi+24],rbx\n"
  "  mov [rdi+40],rbp\n  mov [rdi+48],rsi\n  mov [rdi+64],r8\n  mov [rdi+72],r9\n"
  "  mov [rdi+80],r10\n  mov [rdi+88],r11\n  mov [rdi+96],r12\n  mov [rdi+104],r13\n"
  "  mov [rdi+112],r14\n  mov [rdi+120],r15\n  mov rax,[rip+case_rsp]\n  mov [rdi+32],rax\n  stmxcsr [rdi+136]\n"
  "  movdqu [rdi+144],xmm0\n  movdqu [rdi+160],xmm1\n  movdqu [rdi+176],xmm2\n  movdqu [rdi+192],xmm3\n"
  "  movdqu [rdi+208],xmm4\n  movdqu [rdi+224],xmm5\n  movdqu [rdi+240],xmm6\n  movdqu [rdi+256],xmm7\n"
  "  movdqu [rdi+272],xmm8\n  movdqu [rdi+288],xmm9\n  movdqu [rdi+304],xmm10\n  movdqu [rdi+320],xmm11\n"
  "  movdqu [rdi+336],xmm12\n  movdqu [rdi+352],xmm13\n  movdqu [rdi+368],xmm14\n  movdqu [rdi+384],xmm15\n"
  "  ldmxcsr [rip+default_mxcsr]\n"
  "  pop qword ptr [rdi+56]\n  pop qword ptr [rdi+128]\n  cld\n"
  "  pop r15\n  pop r14\n  pop r13\n  pop r12\n  pop rbp\n  pop rbx\n  ret\n"
  ".att_syntax prefix\n");

static sigjmp_buf fault_jump;
static volatile int fault_signal;
static uint64_t fault_rip;

static void on_fault(int sig, siginfo_t *info, void *ctx) {
  (void)info;
  greg_t *g = ((ucontext_t *)ctx)->uc_mcontext.gregs;
  static const int order[16] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
    REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15 };
  for (int i = 0; i < 16; i++) state.r[i] = (uint64_t)g[order[i]];
  state.rflags = (uint64_t)g[REG_EFL];
  struct _libc_fpstate *fp = ((ucontext_t *)ctx)->uc_mcontext.fpregs;
  state.mxcsr = fp->mxcsr;
  memcpy(state.xmm, fp->_xmm, sizeof state.xmm);
  fault_rip = (uint64_t)g[REG_RIP];
  fault_signal = sig;
  siglongjmp(fault_jump, 1);
}

static int hexval(int c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }
static size_t unhex(const char *s, uint8_t *out, size_t max) {
  size_t n = 0;
  while (s[0] && s[1] && s[0] != ' ' && s[0] != '\n' && n < max) { out[n++] = (uint8_t)(hexval(s[0]) * 16 + hexval(s[1])); s += 2; }
  return n;
}

int main(int argc, char **argv) {
  unsigned a, b, c, d;
  if (argc > 1 && strcmp(argv[1], "features") == 0) {
    unsigned ecx1 = 0, ebx7 = 0, ecx81 = 0;
    if (__get_cpuid(1, &a, &b, &c, &d)) ecx1 = c;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) ebx7 = b;
    if (__get_cpuid(0x80000001, &a, &b, &c, &d)) ecx81 = c;
    printf("lzcnt=%d popcnt=%d bmi1=%d movbe=%d lahf64=%d\n", !!(ecx81 & 0x20), !!(ecx1 & (1u << 23)),
      !!(ebx7 & 8), !!(ecx1 & (1u << 22)), !!(ecx81 & 1));
    return 0;
  }
  uint8_t *code = mmap((void *)CODE_ADDRESS, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  uint8_t *scratch = mmap((void *)SCRATCH_ADDRESS, 4096, PROT_READ | PROT_WRITE,
    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (code != (void *)CODE_ADDRESS || scratch != (void *)SCRATCH_ADDRESS) { fprintf(stderr, "cannot map fixed pages\n"); return 2; }
  /* Signal frames go to an alternate stack: the case's RSP points into the compared window. */
  static char alt_stack[1 << 16];
  stack_t ss = { .ss_sp = alt_stack, .ss_size = sizeof alt_stack, .ss_flags = 0 };
  sigaltstack(&ss, 0);
  struct sigaction sa; memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault; sa.sa_flags = SA_SIGINFO | SA_ONSTACK; sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, 0); sigaction(SIGBUS, &sa, 0); sigaction(SIGFPE, &sa, 0);
  sigaction(SIGILL, &sa, 0); sigaction(SIGTRAP, &sa, 0);
  static char line[1 << 16];
  while (fgets(line, sizeof line, stdin)) {
    /* <bits> <code hex> <16 gprs hex> <rflags hex> <mxcsr hex> <xmm0..15 hex> <scratch hex> */
    char *p = line;
    int bits = (int)strtol(p, &p, 10);
    p++;
    size_t len = unhex(p, code, 3800);
    p = strchr(p, ' ') + 1;
    for (int i = 0; i < 18; i++) {
      uint64_t v = strtoull(p, &p, 16);
      if (i < 16) state.r[i] = v; else if (i == 16) state.rflags = v; else state.mxcsr = (uint32_t)v;
    }
    p++;
    unhex(p, &state.xmm[0][0], sizeof state.xmm);
    p = strchr(p, ' ') + 1;
    unhex(p, scratch, SCRATCH_SIZE);
    uint64_t exit_address = (uint64_t)case_exit;
    size_t end = len;
    if (bits == 32) {
      /* compatibility mode: enter through jmp far [rip+0] -> 0x23:CODE (USER32_CS) at 0xF00;
         leave through jmp far 0x33:stub (USER_CS), the stub being 64-bit code */
      static const uint8_t enter[] = { 0xff, 0x2d, 0, 0, 0, 0 };
      memcpy(code + 0xf00, enter, sizeof enter);
      uint32_t target = (uint32_t)CODE_ADDRESS; uint16_t cs32 = 0x23;
      memcpy(code + 0xf06, &target, 4); memcpy(code + 0xf0a, &cs32, 2);
      uint32_t stub = (uint32_t)(CODE_ADDRESS + len + 7);
      code[len] = 0xea; memcpy(code + len + 1, &stub, 4); code[len + 5] = 0x33; code[len + 6] = 0;
      end = len + 7;
      code_entry = CODE_ADDRESS + 0xf00;
    } else {
      code_entry = CODE_ADDRESS;
    }
    /* jmp qword [rip+0]; dq case_exit */
    code[end] = 0xff; code[end + 1] = 0x25; memset(code + end + 2, 0, 4);
    memcpy(code + end + 6, &exit_address, 8);
    __builtin___clear_cache((char *)code, (char *)code + 4096);
    fault_signal = 0;
    if (sigsetjmp(fault_jump, 1) == 0) run_case(&state);
    if (fault_signal) printf("fault %d %lx", fault_signal, (unsigned long)(fault_rip - CODE_ADDRESS));
    else printf("ok 0 0");
    for (int i = 0; i < 16; i++) printf(" %lx", (unsigned long)state.r[i]);
    printf(" %lx %x ", (unsigned long)state.rflags, state.mxcsr);
    for (int i = 0; i < 256; i++) printf("%02x", (&state.xmm[0][0])[i]);
    printf(" ");
    for (int i = 0; i < SCRATCH_SIZE; i++) printf("%02x", scratch[i]);
    printf("\n");
  }
  return 0;
}
`;

export interface HostResult {
  /** 0 when the sequence completed; else the host signal number (SIGFPE=8, SIGILL=4, SIGSEGV=11, SIGBUS=7, SIGTRAP=5). */
  signal: number;
  /** Offset of the faulting instruction in the sequence (signal cases). */
  faultOffset: number;
  gprs: bigint[];
  rflags: bigint;
  mxcsr: number;
  /** XMM0-15, 16 bytes each, little-endian. */
  xmm: Uint8Array;
  memory: Uint8Array;
}

export class HostRunner {
  private constructor(private readonly binary: string) {}

  /** Compiles the helper (cached by source hash); undefined with a reason when this host cannot. */
  static create(): HostRunner | string {
    if (process.arch !== 'x64' || process.platform !== 'linux') return `differential test needs an x86-64 Linux host (this is ${process.platform}/${process.arch})`;
    const cc = process.env.CC ?? 'cc';
    const hash = createHash('sha256').update(C_SOURCE).digest('hex').slice(0, 16);
    const dir = join(tmpdir(), `vpdbg-difftest-${process.getuid?.() ?? 0}`);
    const binary = join(dir, `host-${hash}`);
    if (!existsSync(binary)) {
      mkdirSync(dir, { recursive: true });
      // Per-process names: concurrent test runs may compile at the same time; the rename is atomic.
      const source = join(dir, `host-${hash}.${process.pid}.c`);
      writeFileSync(source, C_SOURCE);
      try {
        execFileSync(cc, ['-O1', '-o', `${binary}.${process.pid}.tmp`, source], { stdio: 'pipe' });
        renameSync(`${binary}.${process.pid}.tmp`, binary);
      } catch (e: any) {
        if (e.code === 'ENOENT') return `no C compiler (${cc}) on this host; differential test skipped`;
        return `C helper failed to compile: ${String(e.stderr ?? e.message)}`;
      } finally {
        rmSync(source, { force: true });
      }
    }
    return new HostRunner(binary);
  }

  features(): HostFeatures {
    const out = execFileSync(this.binary, ['features'], { encoding: 'utf8' });
    const get = (name: string): boolean => new RegExp(`${name}=1`).test(out);
    return { lzcnt: get('lzcnt'), popcnt: get('popcnt'), bmi1: get('bmi1'), movbe: get('movbe'), lahf64: get('lahf64') };
  }

  run(cases: readonly DiffCase[]): HostResult[] {
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
    const input = cases.map((c) => `${c.bits} ${hex(c.code)} ${c.gprs.map((g) => g.toString(16)).join(' ')} ${c.rflags.toString(16)} ${c.mxcsr.toString(16)} ${hex(c.xmm)} ${hex(c.memory)}\n`).join('');
    const r = spawnSync(this.binary, [], { input, encoding: 'utf8', maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`host helper exited ${r.status} ${r.signal ?? ''}: ${r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    if (lines.length !== cases.length) throw new Error(`host helper returned ${lines.length} results for ${cases.length} cases`);
    return lines.map((line) => {
      const f = line.split(' ');
      return {
        signal: f[0] === 'ok' ? 0 : Number(f[1]),
        faultOffset: parseInt(f[2], 16),
        gprs: f.slice(3, 19).map((x) => BigInt(`0x${x}`)),
        rflags: BigInt(`0x${f[19]}`),
        mxcsr: parseInt(f[20], 16),
        xmm: Uint8Array.from(Buffer.from(f[21], 'hex')),
        memory: Uint8Array.from(Buffer.from(f[22], 'hex')),
      };
    });
  }
}
