// Reference engines for `npm run bench`, measured in the same run as vpdbg:
// - QEMU TCG: guest time of bench.elf = whole `qemu-system-x86_64 -kernel` run minus the
//   bench-tiny.elf run (same code, tiny iteration counts: startup and teardown cancel out);
//   best of `runs` for each. Wall time, and CPU time of the qemu process (bash `times`).
// - unicorn (Python): a harness written to a temp dir loads the ELF's PT_LOAD segments,
//   starts in UC_MODE_64 at the 64-bit entry (`long_entry`, with the guest's GDT; unicorn
//   runs 64-bit code without the guest's page tables) and times emu_start() to the
//   isa-debug-exit OUT; OUT to COM1 is the only hook. Best of `runs`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const has = (cmd, args) => { const r = spawnSync(cmd, args, { encoding: 'utf8' }); return r.status === 0 ? r.stdout : undefined; };

function qemuOnce(qemu, image) {
  // `times` prints the shell's then its children's user and system time.
  const cmd = `"${qemu}" -kernel "${image}" -display none -serial stdio -device isa-debug-exit,iobase=0xf4 -accel tcg -m 128 -no-reboot; s=$?; times >&2; exit $s`;
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8', timeout: 120_000 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const times = [...(r.stderr ?? '').matchAll(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/g)].at(-1);
  const cpu = times ? Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4]) : NaN;
  return { status: r.status, wall, cpu, lines: (r.stdout ?? '').split(/\r?\n/).filter((l) => /^(?:[0-9a-f]{8}){1,2}$/.test(l)) };
}

export function measureQemu({ image, tiny, runs }) {
  const qemu = 'qemu-system-x86_64';
  const version = has(qemu, ['--version']);
  if (!version) return { skipped: 'qemu-system-x86_64 is not installed (Debian: qemu-system-x86)' };
  const best = (img) => {
    let b;
    for (let i = 0; i < runs; i++) {
      const r = qemuOnce(qemu, img);
      if (r.status !== 33 || r.lines.length !== 4) return { error: `qemu on ${img} exited with ${r.status} after ${r.lines.length} lines` };
      b = b ? { wall: Math.min(b.wall, r.wall), cpu: Math.min(b.cpu, r.cpu) } : r;
    }
    return b;
  };
  const full = best(image);
  if (full.error) return { skipped: full.error };
  const small = best(tiny);
  if (small.error) return { skipped: small.error };
  return { version: version.split('\n')[0], wall: full.wall - small.wall, cpu: full.cpu - small.cpu };
}

const UNICORN_HARNESS = String.raw`
import json, struct, sys, time
from unicorn import Uc, UC_ARCH_X86, UC_MODE_64, UC_HOOK_INSN, __version__
from unicorn.x86_const import *

image, runs = sys.argv[1], int(sys.argv[2])
data = open(image, 'rb').read()
phoff, = struct.unpack_from('<I', data, 28)
phentsize, phnum = struct.unpack_from('<HH', data, 42)
segs = []
for i in range(phnum):
    p_type, off, vaddr, paddr, filesz, memsz = struct.unpack_from('<6I', data, phoff + i * phentsize)
    if p_type == 1:
        segs.append((paddr, data[off:off + filesz], memsz))
# Symbols: the 64-bit entry and the GDT the guest loads.
shoff, = struct.unpack_from('<I', data, 32)
shentsize, shnum = struct.unpack_from('<HH', data, 46)
secs = [struct.unpack_from('<10I', data, shoff + i * shentsize) for i in range(shnum)]
syms = {}
for s in secs:
    if s[1] == 2:
        strtab = secs[s[6]]
        for j in range(s[5] // 16):
            name, value = struct.unpack_from('<II', data, s[4] + j * 16)
            n = data[strtab[4] + name:data.index(b'\0', strtab[4] + name)].decode()
            syms[n] = value

best = None
for r in range(runs):
    uc = Uc(UC_ARCH_X86, UC_MODE_64)
    uc.mem_map(0, 4 << 20)
    for paddr, content, memsz in segs:
        uc.mem_write(paddr, content + b'\0' * (memsz - len(content)))
    uc.reg_write(UC_X86_REG_GDTR, (0, syms['gdt'], 23, 0))
    out = bytearray()
    lines = []
    t0 = [0.0]
    def on_out(uc, port, size, value, user):
        if port == 0x3F8:
            if value & 0xFF == 10:
                lines.append((bytes(out).decode(), time.perf_counter() - t0[0])); out.clear()
            else:
                out.append(value & 0xFF)
        elif port == 0xF4:
            uc.emu_stop()
    uc.hook_add(UC_HOOK_INSN, on_out, None, 1, 0, UC_X86_INS_OUT)
    t0[0] = time.perf_counter()
    c0 = time.process_time()
    uc.emu_start(syms['long_entry'], 0xFFFFFFFF)
    wall, cpu = time.perf_counter() - t0[0], time.process_time() - c0
    if best is None or cpu < best['cpu']:
        best = {'wall': wall, 'cpu': cpu, 'lines': [l for l, _ in lines]}
best['version'] = __version__
print(json.dumps(best))
`;

export function measureUnicorn({ image, runs }) {
  const python = ['python3', '/usr/bin/python3'].find((p) => has(p, ['-c', 'import unicorn']) !== undefined);
  if (!python) return { skipped: 'no python3 with the unicorn module (Debian: python3-unicorn)' };
  const dir = mkdtempSync(join(tmpdir(), 'vpdbg-unicorn-'));
  try {
    const script = join(dir, 'unicorn_bench.py');
    writeFileSync(script, UNICORN_HARNESS);
    const r = spawnSync(python, [script, image, String(runs)], { encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) return { skipped: `unicorn harness failed: ${(r.stderr || '').trim().split('\n').at(-1)}` };
    const res = JSON.parse(r.stdout);
    if (res.lines.length !== 4) return { skipped: `unicorn printed ${res.lines.length} lines instead of 4` };
    return { version: `unicorn ${res.version} (${python})`, wall: res.wall, cpu: res.cpu, lines: res.lines };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
