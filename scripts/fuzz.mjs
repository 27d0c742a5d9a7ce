// Long fuzz campaigns (`npm run fuzz -- --seconds 60 --seed 7 --only cpu,loaders`): each
// in-process fuzzer of test/reliability/fuzzers.ts runs for --seconds in a worker thread with
// a hang watchdog (a case that makes no progress for --hang seconds is a finding, reported with
// its seed), then the DAP fuzz of test/debugAdapter/dapFuzz.test.ts runs with VPDBG_FUZZ_CASES.
// Prints per fuzzer the cases run and the findings (seeds to replay); exits 1 on any finding.
import { Worker } from 'node:worker_threads';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const seconds = Number(opt('seconds', 20));
const seed = Number(opt('seed', Date.now() % 2 ** 31));
const hang = Number(opt('hang', 30));
const only = opt('only', '')?.split(',').filter(Boolean);
if (!(seconds > 0) || !Number.isFinite(seed)) { console.error('usage: fuzz.mjs [--seconds N] [--seed N] [--hang N] [--only cpu,loaders,hypercalls,expressions,jit,dap]'); process.exit(2); }

const FUZZERS_JS = resolve('out/test/reliability/fuzzers.js');
const WORKER = `
  const { parentPort, workerData } = require('node:worker_threads');
  const { FUZZERS } = require(workerData.file);
  const r = FUZZERS[workerData.name]({ seed: workerData.seed, seconds: workerData.seconds, onCase: (s) => parentPort.postMessage({ case: s }) });
  parentPort.postMessage({ report: r });
`;

function runFuzzer(name) {
  return new Promise((res) => {
    const w = new Worker(WORKER, { eval: true, workerData: { file: FUZZERS_JS, name, seed, seconds } });
    let last, lastAt = Date.now(), cases = 0, done = false;
    const timer = setInterval(() => {
      if (Date.now() - lastAt > hang * 1000) {
        done = true; clearInterval(timer); void w.terminate();
        res({ name, cases, findings: [{ seed: last, what: `no progress for ${hang} s (hang)` }], notes: {} });
      }
    }, 1000);
    w.on('message', (m) => {
      if (m.case !== undefined) { last = m.case; lastAt = Date.now(); cases++; }
      if (m.report) { done = true; clearInterval(timer); void w.terminate(); res(m.report); }
    });
    w.on('error', (e) => { if (!done) { done = true; clearInterval(timer); res({ name, cases, findings: [{ seed: last, what: `worker died: ${e.stack ?? e}` }], notes: {} }); } });
  });
}

const reports = [];
const names = ['cpu', 'loaders', 'hypercalls', 'expressions', 'jit'].filter((n) => !only?.length || only.includes(n));
for (const name of names) {
  process.stdout.write(`fuzz ${name}: ${seconds} s, seed ${seed} ... `);
  const r = await runFuzzer(name);
  reports.push(r);
  console.log(`${r.cases} cases, ${r.findings.length} findings`);
}
if (!only?.length || only.includes('dap')) {
  // The DAP fuzz sends about 50 requests a second to a real adapter process.
  const cases = Math.max(100, Math.round(seconds * 50));
  process.stdout.write(`fuzz dap: ${cases} requests ... `);
  const p = spawnSync(process.execPath, ['--test', '--test-reporter=dot', 'out/test/debugAdapter/dapFuzz.test.js'], { env: { ...process.env, VPDBG_FUZZ_CASES: String(cases) }, encoding: 'utf8' });
  const ok = p.status === 0;
  const summary = /dap fuzz: .*/.exec(p.stdout + p.stderr)?.[0];
  reports.push({ name: 'dap', cases, findings: ok ? [] : [{ seed: 0x5eed, what: (p.stdout + p.stderr).split('\n').filter((l) => /not ok|Error|assert/i.test(l)).slice(0, 8).join(' | ') }], notes: {} });
  console.log(ok ? `${cases} cases, 0 findings (${summary ?? 'adapter alive'})` : 'FAILED');
}

console.log('\nfuzzer       cases  findings');
for (const r of reports) console.log(`${r.name.padEnd(12)} ${String(r.cases).padStart(6)}  ${r.findings.length}${r.notes && Object.keys(r.notes).length ? `   outcomes ${JSON.stringify(r.notes)}` : ''}`);
const findings = reports.flatMap((r) => r.findings.map((f) => ({ fuzzer: r.name, ...f })));
for (const f of findings) console.log(`FINDING ${f.fuzzer} seed ${f.seed}: ${f.what}`);
if (findings.length === 0) console.log(`no findings (seed ${seed})`);
process.exit(findings.length ? 1 : 0);
