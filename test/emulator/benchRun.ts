// Runs a multiboot bench kernel on the bare CPU and prints its serial output and MIPS.
// Not a test (timing only): `node scripts/build.mjs --tests && node out/test/emulator/benchRun.js [path]`.
import { multibootCpu, runGuest } from './multibootHarness';

const path = process.argv[2] ?? '/work/shared/bench/bench.elf';
const r = runGuest(multibootCpu(path));
process.stdout.write(r.serial);
console.log(`reason=${r.reason} exit=${r.exitCode} instructions=${r.instructions} seconds=${r.seconds.toFixed(3)} MIPS=${(r.instructions / r.seconds / 1e6).toFixed(1)}`);
if (r.cpu.exit.message) console.log(r.cpu.exit.message);
