// Installs what the end-to-end test needs, outside the repository (never in package.json):
// Debian's chromium (+ libkrb5-dev and ripgrep for code-server's native modules) and the npm
// package code-server 4.100.3 — the last release that runs on Node 20 — into $E2E_TOOLS
// (default /work/e2e-tools). Needs root and ~800 MB of downloads. The workarounds are the
// ones documented in /work/shared/e2e/README.md and test/e2e/README.md.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export const CODE_SERVER_VERSION = '4.100.3';
export const toolsDir = process.env.E2E_TOOLS ?? '/work/e2e-tools';
export const codeServerBin = join(toolsDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

function run(cmd, args, opts = {}) {
  console.log(`e2e-setup: ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { stdio: 'inherit', ...opts });
}

export function setup() {
  if (!existsSync('/usr/bin/chromium') || !existsSync('/usr/bin/rg') || !existsSync('/usr/include/gssapi.h')) {
    if (process.getuid?.() !== 0) throw new Error('e2e-setup: apt packages missing and not root: apt-get install chromium libkrb5-dev ripgrep');
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium', 'libkrb5-dev', 'ripgrep', 'build-essential', 'python3', 'pkg-config'],
      { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  if (existsSync(join(toolsDir, 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules'))) return;
  mkdirSync(toolsDir, { recursive: true });
  // @vscode/ripgrep's postinstall downloads from GitHub; it first looks for this cached
  // archive, so hand it Debian's rg.
  const tmp = mkdtempSync(join(tmpdir(), 'e2e-rg-'));
  const cache = join(tmp, 'vscode-ripgrep-cache-1.15.11');
  mkdirSync(cache, { recursive: true });
  mkdirSync(join(tmp, 'rg'), { recursive: true });
  run('cp', ['/usr/bin/rg', join(tmp, 'rg', 'rg')]);
  run('tar', ['-czf', join(cache, 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz'), '-C', join(tmp, 'rg'), 'rg']);
  if (!existsSync(join(toolsDir, 'package.json'))) run('npm', ['init', '-y'], { cwd: toolsDir, stdio: 'ignore' });
  run('npm', ['install', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`], {
    cwd: toolsDir,
    // npm 11 skips dependency install scripts unless allowed; code-server's postinstall runs
    // nested installs (node-pty, kerberos, argon2, @vscode/ripgrep) that all need theirs.
    env: { ...process.env, TMPDIR: tmp, npm_config_unsafe_perm: 'true', npm_config_yes: 'true', npm_config_dangerously_allow_all_scripts: 'true' },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) setup();
