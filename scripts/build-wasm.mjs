#!/usr/bin/env node
// Builds the wasm backend's kernels (src/backend/wasm/kernels/*.c) into
// dist/src/backend/wasm/kernels.wasm with clang + wasm-ld (Debian: apt-get install clang lld).
// The repository also holds the built module (src/backend/wasm/prebuilt/kernels.wasm), so that
// `npm install` works on a machine without a C compiler: without clang it is copied instead.
// With clang, the fresh build must equal the committed one (clang's output is deterministic):
// under CI a difference is an error, elsewhere a warning; `--update-prebuilt` refreshes it.
// Flags: SIMD128 kernels; atomics + bulk-memory because the module imports a *shared* memory,
// which worker threads instantiate the same module over. The kernels use no C stack and no
// data segments (checked below when llvm-objdump is present), so any number of instances can
// share one memory without per-thread stacks.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src/backend/wasm/kernels');
const outFile = join(root, 'dist/src/backend/wasm/kernels.wasm');
const prebuilt = join(root, 'src/backend/wasm/prebuilt/kernels.wasm');
const updatePrebuilt = process.argv.includes('--update-prebuilt');

function find(names) {
  for (const n of names) {
    try { execFileSync(n, ['--version'], { stdio: 'ignore' }); return n; } catch { /* next */ }
  }
  return null;
}
const versions = ['', '-19', '-18', '-17', '-16', '-15', '-14'];
const clang = find(versions.map((v) => `clang${v}`));
const wasmLd = find(versions.map((v) => `wasm-ld${v}`));
if (!clang || !wasmLd) {
  if (existsSync(prebuilt) && !updatePrebuilt) {
    mkdirSync(dirname(outFile), { recursive: true });
    copyFileSync(prebuilt, outFile);
    console.log('build-wasm: clang/wasm-ld not found, using the committed src/backend/wasm/prebuilt/kernels.wasm ' +
      '(to build the kernels from source: apt-get install -y clang lld)');
    process.exit(0);
  }
  console.error(`build-wasm: needs clang and wasm-ld (found clang: ${clang ?? 'none'}, wasm-ld: ${wasmLd ?? 'none'}); ` +
    'on Debian/Ubuntu: apt-get install -y clang lld');
  process.exit(1);
}

const cflags = ['--target=wasm32', '-O3', '-msimd128', '-matomics', '-mbulk-memory', '-nostdlib', '-ffreestanding',
  '-fno-builtin', '-Wall', '-Werror', '-Wno-unused-function'];
const tmp = mkdtempSync(join(tmpdir(), 'carousel-wasm-'));
try {
  const objs = [];
  for (const f of readdirSync(srcDir).filter((f) => f.endsWith('.c')).sort()) {
    const o = join(tmp, f.replace(/\.c$/, '.o'));
    execFileSync(clang, [...cflags, '-c', join(srcDir, f), '-o', o], { stdio: 'inherit' });
    objs.push(o);
  }
  mkdirSync(dirname(outFile), { recursive: true });
  execFileSync(wasmLd, ['--no-entry', '--import-memory', '--shared-memory', '--max-memory=4294967296',
    '-z', 'stack-size=65536', '--stack-first', '--export=__heap_base', ...objs, '-o', outFile], { stdio: 'inherit' });
  const objdump = find(['llvm-objdump', ...versions.slice(1).map((v) => `llvm-objdump${v}`)]);
  if (objdump) {
    const dis = execFileSync(objdump, ['-d', outFile], { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (/global\.(get|set)\s/.test(dis)) {
      console.error('build-wasm: a kernel uses the C stack (global.get/set of __stack_pointer); worker instances ' +
        'share one memory and have no stacks of their own: pass scratch memory in instead');
      process.exit(1);
    }
  }
  if (!existsSync(outFile)) throw new Error('build-wasm: no output');
  console.log(`build-wasm: ${outFile.slice(root.length + 1)} (${clang}, ${wasmLd})`);
  if (updatePrebuilt) {
    mkdirSync(dirname(prebuilt), { recursive: true });
    copyFileSync(outFile, prebuilt);
    console.log('build-wasm: updated src/backend/wasm/prebuilt/kernels.wasm');
  } else if (!existsSync(prebuilt) || !readFileSync(prebuilt).equals(readFileSync(outFile))) {
    const msg = 'build-wasm: src/backend/wasm/prebuilt/kernels.wasm is not what the kernel sources build to; ' +
      'run `node scripts/build-wasm.mjs --update-prebuilt` and commit it';
    if (process.env.CI) { console.error(msg); process.exit(1); }
    console.warn(`warning: ${msg}`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
