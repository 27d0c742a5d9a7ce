// `vpdbg bench --memory-probe`: host memory of a large sparse partition. Creates a partition
// with the given RAM (default 64 GiB), loads a small long-mode guest with the loader's
// identity paging over all of it, and reads the process's RSS right after that launch; the
// guest then writes one qword into each of N pages from 4 GiB up (spread evenly to the top
// of RAM, or a given stride apart) and halts, and RSS is read again. Growth per touched
// page shows that host memory follows the pages the guest touches, not the configured size.
import { Partition } from '../partition/partition';
import { WhvRunVpExitReason as X } from '../partition/hvdef';
import { loadImageBytes } from '../machine/loaders/loadImage';
import { applyBootPlan } from '../machine/loaders/applyBootPlan';

export interface MemoryProbeResult {
  memoryBytes: number;
  touchedPages: number;
  strideBytes: number;
  /** Process RSS before the partition exists (the Node.js runtime and the bundle). */
  rssBaseBytes: number;
  rssLaunchBytes: number;
  rssTouchedBytes: number;
  growthPerPageBytes: number;
  /** The partition's own count of resident guest pages after the run. */
  residentGuestBytes: number;
  end: string;
}

const LOAD = 0x100000;
const FIRST = 2 ** 32;
const PAGE = 4096;

/** mov rax, FIRST; mov rcx, n; mov rdx, stride; 1: mov [rax], rcx; add rax, rdx; dec rcx; jnz 1b; hlt */
function toucherCode(n: number, stride: number): Uint8Array {
  const b: number[] = [];
  const imm = (v: number, bytes: number) => { for (let i = 0; i < bytes; i++) b.push(Math.floor(v / 2 ** (8 * i)) & 0xff); };
  b.push(0x48, 0xb8); imm(FIRST, 8);
  b.push(0x48, 0xc7, 0xc1); imm(n, 4);
  b.push(0x48, 0xba); imm(stride, 8);
  b.push(0x48, 0x89, 0x08, 0x48, 0x01, 0xd0, 0x48, 0xff, 0xc9, 0x75, 0xf5, 0xf4);
  return Uint8Array.from(b);
}

/** RSS after a full collection when Node runs with --expose-gc (garbage is not the partition's). */
function rss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage.rss();
}

/** `stride`: bytes between touched pages (a page multiple); default: spread evenly over RAM above 4 GiB. */
export function memoryProbe(memoryBytes: number, touchPages: number, stride?: number): MemoryProbeResult {
  if (memoryBytes <= FIRST + PAGE) throw new RangeError(`the memory probe needs more than 4 GiB of RAM (got ${memoryBytes} bytes)`);
  if (stride !== undefined && (stride < PAGE || stride % PAGE)) throw new RangeError(`the touch stride must be a multiple of 4096 (got ${stride})`);
  const n = Math.max(1, Math.min(touchPages, 0x7fffffff, Math.floor((memoryBytes - FIRST) / (stride ?? PAGE))));
  const step = stride ?? Math.floor((memoryBytes - FIRST) / n / PAGE) * PAGE;
  const rssBaseBytes = rss();
  const partition = new Partition({ processorCount: 1, memoryBytes });
  const plan = loadImageBytes(toucherCode(n, step), 'memory-probe', { format: 'flat', mode: 'long', load: LOAD, memoryBytes });
  applyBootPlan(partition, plan);
  const rssLaunchBytes = rss();
  let end = 'instruction limit';
  for (let i = 0; i < 1000; i++) {
    const exit = partition.runVirtualProcessor(0, { instructionBudget: 10_000_000 });
    if (exit.ExitReason === X.None) continue;
    end = exit.ExitReason === X.X64Halt ? 'halted' : `exit ${X[exit.ExitReason] ?? exit.ExitReason}`;
    break;
  }
  const rssTouchedBytes = rss();
  return {
    memoryBytes, touchedPages: n, strideBytes: step, rssBaseBytes, rssLaunchBytes, rssTouchedBytes,
    growthPerPageBytes: (rssTouchedBytes - rssLaunchBytes) / n,
    residentGuestBytes: partition.memory.residentBytes(), end,
  };
}
