#!/usr/bin/env node
// Builds the wasm backend's kernels (src/backend/wasm/kernels/*.c) twice, with clang + wasm-ld
// >= 19 (Debian: apt-get install clang-19 lld-19; clang 14 emits an obsolete relaxed-SIMD encoding):
//   simd128 -> dist/src/backend/wasm/kernels.wasm          (SIMD128: every engine with wasm SIMD)
//   relaxed -> dist/src/backend/wasm/kernels-relaxed.wasm  (relaxed SIMD: MADD is f32x4.relaxed_madd, an FMA)
// module.ts picks one at start-up. The repository also holds both built modules
// (src/backend/wasm/prebuilt/), so that `npm install` works on a machine without a C compiler:
// without clang >= 19 they are copied instead. With it, each fresh build must equal its committed
// one (clang's output is deterministic): under CI a difference is an error, elsewhere a warning.
//   --check            build and fail unless each committed module is what its sources build to
//                      (also fails without clang/wasm-ld >= 19)
//   --update-prebuilt  build and refresh the committed modules
// Flags: atomics + bulk-memory because the module imports a *shared* memory, which worker threads
// instantiate the same module over. The kernels use no C stack and no data segments (checked below
// when llvm-objdump is present), so any number of instances can share one memory without per-thread stacks.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUILDS = [
  { name: 'simd128', file: 'kernels.wasm', flags: ['-msimd128'] },
  { name: 'relaxed', file: 'kernels-relaxed.wasm', flags: ['-msimd128', '-mrelaxed-simd', '-DCAROUSEL_RELAXED=1'] },
];
const MIN_LLVM = 19;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src/backend/wasm/kernels');
const outDir = join(root, 'dist/src/backend/wasm');
const prebuiltDir = join(root, 'src/backend/wasm/prebuilt');
const known = ['--check', '--update-prebuilt'];
const bad = process.argv.slice(2).filter((a) => !known.includes(a));
if (bad.length) {
  console.error(`build-wasm: expected no option or one of ${known.join(', ')}, got ${bad.join(' ')}`);
  process.exit(2);
}
const check = process.argv.includes('--check');
const updatePrebuilt = process.argv.includes('--update-prebuilt');

/** Write by a rename from a sibling file, so a half-written module never replaces a good one. */
function install(from, to) {
  mkdirSync(dirname(to), { recursive: true });
  const part = `${to}.part`;
  copyFileSync(from, part);
  renameSync(part, to);
}

/** The first tool of `names` whose major LLVM version is at least MIN_LLVM, with that version. */
function find(names) {
  for (const n of names) {
    let out;
    try { out = execFileSync(n, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }); } catch { continue; }
    const major = Number(/(\d+)\.\d+\.\d+/.exec(out)?.[1]); // "clang version 19.1.7", "LLD 19.1.7"
    if (major >= MIN_LLVM) return n;
  }
  return null;
}
const suffixes = ['-22', '-21', '-20', '-19', ''];
const clang = find(suffixes.map((v) => `clang${v}`));
const wasmLd = find(suffixes.map((v) => `wasm-ld${v}`));
if (!clang || !wasmLd) {
  const missing = `needs clang and wasm-ld ${MIN_LLVM} or later (found clang: ${clang ?? 'none'}, wasm-ld: ${wasmLd ?? 'none'}); ` +
    `on Debian/Ubuntu: apt-get install -y clang-${MIN_LLVM} lld-${MIN_LLVM}`;
  if (!check && !updatePrebuilt && BUILDS.every((b) => existsSync(join(prebuiltDir, b.file)))) {
    for (const b of BUILDS) install(join(prebuiltDir, b.file), join(outDir, b.file));
    console.log(`build-wasm: using the committed modules in src/backend/wasm/prebuilt/ (to build the kernels from source: ${missing})`);
    process.exit(0);
  }
  console.error(`build-wasm: ${missing}`);
  process.exit(1);
}

const common = ['--target=wasm32', '-O3', '-matomics', '-mbulk-memory', '-nostdlib', '-ffreestanding',
  '-fno-builtin', '-Wall', '-Werror', '-Wno-unused-function'];
const sources = readdirSync(srcDir).filter((f) => f.endsWith('.c')).sort();
const objdump = find(suffixes.map((v) => `llvm-objdump${v}`));
const tmp = mkdtempSync(join(tmpdir(), 'carousel-wasm-'));
const stale = [];
try {
  for (const b of BUILDS) {
    const objs = [];
    for (const f of sources) {
      const o = join(tmp, `${b.name}-${f.replace(/\.c$/, '.o')}`);
      execFileSync(clang, [...common, ...b.flags, '-c', join(srcDir, f), '-o', o], { stdio: 'inherit' });
      objs.push(o);
    }
    const built = join(tmp, b.file);
    execFileSync(wasmLd, ['--no-entry', '--import-memory', '--shared-memory', '--max-memory=4294967296',
      '-z', 'stack-size=65536', '--stack-first', '--export=__heap_base', ...objs, '-o', built], { stdio: 'inherit' });
    if (objdump) {
      const dis = execFileSync(objdump, ['-d', built], { encoding: 'utf8', maxBuffer: 1 << 28 });
      if (/global\.(get|set)\s/.test(dis)) {
        console.error(`build-wasm: a kernel of the ${b.name} build uses the C stack (global.get/set of __stack_pointer); ` +
          'worker instances share one memory and have no stacks of their own: pass scratch memory in instead');
        process.exit(1);
      }
    }
    const prebuilt = join(prebuiltDir, b.file);
    if (updatePrebuilt) {
      install(built, prebuilt);
      console.log(`build-wasm: updated src/backend/wasm/prebuilt/${b.file}`);
    } else if (!existsSync(prebuilt) || !readFileSync(prebuilt).equals(readFileSync(built))) {
      stale.push(b.file);
    }
    install(built, join(outDir, b.file));
    console.log(`build-wasm: ${b.name} -> dist/src/backend/wasm/${b.file} (${clang}, ${wasmLd})`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (stale.length) {
  const msg = `build-wasm: ${stale.map((f) => `src/backend/wasm/prebuilt/${f}`).join(' and ')} ` +
    `${stale.length > 1 ? 'are' : 'is'} not what the kernel sources build to; ` +
    'run `node scripts/build-wasm.mjs --update-prebuilt` and commit the result';
  if (check || process.env.CI) { console.error(msg); process.exit(1); }
  console.warn(`warning: ${msg}`);
} else if (check) {
  console.log(`build-wasm: each committed module (${BUILDS.map((b) => b.file).join(', ')}) is what its sources build to`);
}
