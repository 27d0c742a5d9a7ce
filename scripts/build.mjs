// Builds the four product bundles into dist/ and, with --tests, transpiles src/ and test/
// file by file into out/ so `node --test` can run them (type checking is `tsc --noEmit`).
import * as esbuild from 'esbuild';
import { readdirSync, statSync, rmSync, cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const args = new Set(process.argv.slice(2));
const production = args.has('--production');

const bundles = {
  extension: 'src/extension/extension.ts',
  // Loaded by the extension only when an assembly document opens (keeps activation small).
  languageClient: 'src/extension/languageClient.ts',
  debugAdapter: 'src/debugAdapter/main.ts',
  languageServer: 'src/languageServer/main.ts',
  cli: 'src/cli/main.ts',
};

const bundleOptions = {
  entryPoints: bundles,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outdir: 'dist',
  sourcemap: true,
  minify: production,
  external: ['vscode'],
  logLevel: 'warning',
};

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) continue;
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

if (args.has('--watch')) {
  const ctx = await esbuild.context(bundleOptions);
  await ctx.watch();
  console.log('watching src/ ...');
} else {
  await esbuild.build(bundleOptions);
  // iced-x86 (bundled into the debug adapter) reads its wasm from beside the bundle.
  cpSync('node_modules/iced-x86/iced_x86_bg.wasm', 'dist/iced_x86_bg.wasm');
  if (args.has('--tests')) {
    rmSync('out', { recursive: true, force: true });
    await esbuild.build({
      entryPoints: [...walk('src'), ...walk('test')],
      outdir: 'out',
      outbase: '.',
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      sourcemap: 'inline',
      logLevel: 'warning',
    });
    // Test fixtures (guest images, expected outputs) live beside the tests.
    if (existsSync('test/fixtures')) cpSync('test/fixtures', 'out/test/fixtures', { recursive: true });
  }
}
