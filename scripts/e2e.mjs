// End-to-end test in a real VS Code: code-server 4.100.3 (VS Code 1.100.3, the last on
// Node 20) served on 127.0.0.1, driven by Debian's chromium through playwright-core.
// Packs vpdbg.vsix, installs it, opens examples/demo.asm, presses F5, finds registers in the
// Variables pane, sets an exit breakpoint with "Break on Exit Reason…", continues to it, finds
// the exit in the VP Exits view, and saves screenshots to media/ for the README.
// Not part of `npm test`: it needs root for apt, ~800 MB of downloads and a minute or two.
// Usage: node scripts/e2e.mjs [--keep]   (see test/e2e/README.md)
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setup, codeServerBin } from './e2e-setup.mjs';

const repo = resolve(import.meta.dirname, '..');
const work = join(repo, 'test', 'e2e', '.work');
const port = Number(process.env.E2E_PORT ?? 18417);
const keep = process.argv.includes('--keep');
const t0 = Date.now();
const log = (msg) => console.log(`e2e [${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

function fail(msg) {
  console.error(`e2e: FAILED: ${msg}`);
  process.exitCode = 1;
}

async function waitFor(what, fn, timeoutMs = 60_000, everyMs = 250) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Chooses a context-menu item; VS Code's menus ignore a click that comes too soon after opening. */
async function menuItem(page, name) {
  const item = page.getByRole('menuitem', { name });
  await item.hover({ timeout: 10_000 });
  await page.waitForTimeout(400);
  await page.mouse.down();
  await page.waitForTimeout(50);
  await page.mouse.up();
}

/**
 * F5 pressed before the extension host has registered debugger types only opens the Run
 * view, so press again — but only while no session is starting (a second F5 during a slow
 * start asks "already running?"), and stop once the debug toolbar is up.
 */
async function pressF5UntilSession(page, what) {
  await waitFor(what, async () => {
    if (await page.locator('.debug-toolbar').isVisible()) return true;
    const dialog = page.getByRole('button', { name: 'Cancel' });
    if (await page.locator('.dialog-box').isVisible()) await dialog.click();
    await page.keyboard.press('F5');
    // A session may take several seconds to start (nasm, ld, adapter, loader) on a busy machine.
    return waitFor('the toolbar', () => page.locator('.debug-toolbar').isVisible(), 8000).catch(() => false);
  }, 90_000, 0);
}

setup();
// playwright-core is a devDependency of vpdbg; no browser download, Debian's chromium is used.
const { chromium } = await import('playwright-core');

rmSync(work, { recursive: true, force: true });
const dirs = Object.fromEntries(['home', 'data', 'extensions', 'workspace'].map((d) => [d, join(work, d)]));
for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });

log('building and packaging vpdbg.vsix');
execFileSync('node', ['scripts/build.mjs', '--production'], { cwd: repo, stdio: 'inherit' });
const vsix = join(work, 'vpdbg.vsix');
execFileSync(join(repo, 'node_modules', '.bin', 'vsce'), ['package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '-o', vsix], { cwd: repo, stdio: 'pipe' });

for (const f of ['demo.asm', 'demo.elf']) cpSync(join(repo, 'examples', f), join(dirs.workspace, f));
mkdirSync(join(dirs.data, 'User'), { recursive: true });
writeFileSync(join(dirs.data, 'User', 'settings.json'), JSON.stringify({
  'workbench.startupEditor': 'none', 'workbench.tips.enabled': false, 'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off', 'extensions.autoUpdate': false, 'extensions.autoCheckUpdates': false,
  'workbench.colorTheme': 'Default Dark Modern', 'git.enabled': false, 'git.openRepositoryInParentFolders': 'never', 'window.commandCenter': false, 'debug.toolBarLocation': 'floating',
}, null, 2));

const env = { ...process.env, HOME: dirs.home, XDG_CONFIG_HOME: join(dirs.home, '.config'), XDG_DATA_HOME: join(dirs.home, '.local', 'share'), XDG_CACHE_HOME: join(dirs.home, '.cache') };
const common = ['--user-data-dir', dirs.data, '--extensions-dir', dirs.extensions];
log('installing the .vsix into code-server');
execFileSync(process.execPath, [codeServerBin, ...common, '--install-extension', vsix], { env, stdio: 'pipe' });

log(`starting code-server on 127.0.0.1:${port}`);
const server = spawn(process.execPath, [codeServerBin, ...common, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry',
  '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', dirs.workspace], { env, stdio: ['ignore', 'pipe', 'pipe'] });
let serverLog = '';
server.stdout.on('data', (d) => { serverLog += d; });
server.stderr.on('data', (d) => { serverLog += d; });

let browser;
const shot = (page, name) => page.screenshot({ path: join(repo, 'media', name) });
try {
  await waitFor('code-server /healthz', async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 30_000);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(dirs.workspace)}`);
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  await page.waitForFunction(() => performance.getEntriesByName('code/didLoadExtensions').length > 0, null, { timeout: 90_000 });
  log('workbench up, extensions loaded');

  // Open the example source from the Explorer.
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'demo.asm' }).first().dblclick({ timeout: 30_000 });
  await page.waitForSelector('.monaco-editor .view-lines', { timeout: 30_000 });
  await waitFor('x64asm highlighting', () => page.locator('.monaco-editor .view-lines').innerText().then((t) => t.includes('_start')), 20_000);
  log('demo.asm open');

  // The language server (iced-x86's wasm in the production bundle): hover on a mnemonic.
  // The server may still be starting: move away and hover again until the answer shows.
  const cpuid = page.locator('.view-lines span', { hasText: /^cpuid$/ }).first();
  const hover = await waitFor('a hover on cpuid', async () => {
    await page.mouse.move(5, 5);
    await cpuid.hover();
    return waitFor('hover text', () => page.locator('.monaco-hover').allInnerTexts().then((ts) => ts.find((t) => /0F A2/.test(t))), 3000).catch(() => undefined);
  }, 60_000, 0);
  log(`hover: ${hover.split('\n').filter(Boolean).slice(0, 2).join(' | ')}`);
  await page.waitForTimeout(800); // let the hover finish fading in
  await shot(page, 'e2e-hover.png');
  await page.keyboard.press('Escape');

  // F5 until the debug toolbar appears (early F5s only open the Run view); then stop pressing.
  await page.click('.monaco-editor .view-lines');
  await pressF5UntilSession(page, 'the debug toolbar');
  log('session started');

  // Stopped on entry: the Registers scope in Variables, with its groups; open the first one.
  const variables = page.locator('.debug-variables');
  await waitFor('the Registers scope', () => variables.innerText().then((t) => /Registers/.test(t)), 30_000);
  const group = variables.locator('.monaco-list-row').nth(1);
  if ((await group.getAttribute('aria-expanded')) === 'false') await group.click();
  const regs = await waitFor('rax in Variables', () => variables.innerText().then((t) => (/\brax\b/.test(t) && /\brsp\b/.test(t) && /0x[0-9a-f]{16}/.test(t) ? t : undefined)), 20_000);
  log(`Variables: ${regs.split('\n').slice(0, 8).join(' | ')}`);
  await shot(page, 'e2e-registers.png');

  // Hex/decimal toggle from the Variables context menu: rsp's value turns decimal.
  const rspRow = variables.locator('.monaco-list-row', { hasText: /\brsp\b/ }).first();
  const hexValue = (await rspRow.innerText()).match(/0x[0-9a-f]+/i)?.[0];
  await rspRow.click({ button: 'right' });
  await menuItem(page, 'Show Values in Decimal');
  const decimal = BigInt(hexValue).toString(10);
  await waitFor(`rsp = ${decimal}`, () => rspRow.innerText().then((t) => t.includes(decimal) && !t.includes('0x')), 10_000);
  await rspRow.click({ button: 'right' });
  await menuItem(page, 'Show Values in Hex');
  await waitFor('rsp back in hex', () => rspRow.innerText().then((t) => t.includes(hexValue)), 10_000);
  log(`hex/decimal toggle: rsp ${hexValue} <-> ${decimal}`);

  // Break on CPUID through the picker (command palette → quick pick → condition prompt).
  await page.keyboard.press('Control+Shift+P');
  await page.keyboard.type('vpdbg: Break on Exit Reason');
  await page.waitForTimeout(600);
  await page.keyboard.press('Enter');
  const cpuidItem = page.locator('.quick-input-widget .monaco-list-row', { hasText: 'CPUID' }).first();
  await cpuidItem.waitFor({ timeout: 15_000 });
  await cpuidItem.locator('.monaco-checkbox, input[type=checkbox]').first().click();
  await page.keyboard.press('Enter'); // accept the picks
  await page.locator('.quick-input-widget input').first().waitFor({ timeout: 10_000 });
  await page.keyboard.type('Rax == 0x40000000');
  await page.keyboard.press('Enter'); // the condition
  await page.waitForTimeout(500);
  log('exit breakpoint on CPUID set');

  // Continue: the guest runs to its CPUID, which stops with the decoded exit.
  await page.click('.monaco-editor .view-lines');
  await page.keyboard.press('F5');
  const exitsView = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'VP Exits' }) });
  await waitFor('the VP Exits view', () => exitsView.count().then((n) => n > 0), 20_000);
  const header = exitsView.locator('.pane-header');
  if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
  const exitsText = await waitFor('a CPUID exit in VP Exits', () => exitsView.innerText().then((t) => (/CPUID/.test(t) && /#\d+/.test(t) ? t : undefined)), 45_000);
  log(`VP Exits: ${exitsText.split('\n').slice(0, 6).join(' | ')}`);
  // Reveal the exit: its decoded context opens as a document.
  await exitsView.locator('.monaco-list-row', { hasText: /#\d+/ }).first().click();
  await waitFor('the exit document', () => page.locator('.monaco-editor .view-lines').allInnerTexts().then((ts) => ts.some((t) => /exit.context:/.test(t))), 15_000);
  await page.waitForTimeout(500);
  await shot(page, 'e2e-exits.png');

  // F5 on the binary image: stop this session, open demo.elf (VS Code shows its binary
  // placeholder, not a text editor), press F5: it stops on entry, at _start in demo.asm.
  await page.keyboard.press('Shift+F5');
  await waitFor('the session to end', () => page.locator('.debug-toolbar').isVisible().then((v) => !v), 20_000);
  await page.locator('.activitybar .action-label[aria-label^="Explorer"]').first().click();
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'demo.elf' }).first().dblclick({ timeout: 15_000 });
  await waitFor('demo.elf active', () => page.title().then((t) => t.startsWith('demo.elf')), 15_000);
  await pressF5UntilSession(page, 'a session on demo.elf');
  // Stopped on entry: VS Code shows the top frame's line in demo.asm (found through DWARF).
  await waitFor('stopped at _start in demo.asm', async () => (await page.title()).startsWith('demo.asm')
    && (await page.locator('.monaco-editor .debug-top-stack-frame-line').count()) > 0, 20_000);
  log('F5 on demo.elf stopped at _start');

  // The picked exit breakpoint was saved: this new session gets it too (merged with the
  // BREAKPOINTS view's filters after VS Code's setExceptionBreakpoints). Continue to it.
  await page.keyboard.press('Control+Shift+D');
  const callStack = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /call stack/i }) });
  await waitFor('the second session stopped on entry', () => callStack.innerText().then((t) => /on entry/i.test(t)), 15_000);
  await page.click('.monaco-editor .view-lines');
  await page.keyboard.press('F5');
  const again = await waitFor('the CPUID stop in the second session', () => callStack.innerText().then((t) => (/X64Cpuid/.test(t) ? t : undefined)), 30_000);
  log(`second session, saved exit breakpoint hit: ${again.split('\n').filter(Boolean).slice(0, 2).join(' | ')}`);
  log(`PASSED in ${((Date.now() - t0) / 1000).toFixed(1)} s; screenshots: media/e2e-hover.png, media/e2e-registers.png, media/e2e-exits.png`);
} catch (e) {
  fail(e.message);
  const page = browser?.contexts()[0]?.pages()[0];
  if (page) await page.screenshot({ path: join(work, 'failure.png') }).catch(() => {});
  console.error(`screenshot of the failure: ${join(work, 'failure.png')}\ncode-server log (tail):\n${serverLog.split('\n').slice(-30).join('\n')}`);
} finally {
  await browser?.close().catch(() => {});
  server.kill();
  if (!keep && !process.exitCode) rmSync(work, { recursive: true, force: true });
}
if (existsSync(join(work, 'failure.png'))) console.error('e2e: see test/e2e/.work/ for logs');
