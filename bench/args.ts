/** Command-line options of `npm run bench`. */
import { GEMM_KERNELS } from '../src/backend/webgpu/core.js';
import { ALL_BENCHES, BENCHES, type BenchName } from './types.js';

export interface Options {
  json: string | null;
  quick: boolean;
  tiny: boolean;
  quiet: boolean;
  only: BenchName[];
  libs: string[] | null;
  /** Carousel backends to run; null: every backend the package registers. */
  backends: string[] | null;
  threads: number[];
  peerThreads: number[];
  budgetS: number;
  /** The webgpu backend's GEMM kernel (its gemmKernel: auto, blocked, subgroups, tiled); null: its default. */
  webgpuGemm: string | null;
  help: boolean;
}

export const ALL_LIBS = ['carousel', 'pytorch', 'onnxruntime', 'tfjs', 'neataptic', 'synaptic', 'brain.js'];

export const USAGE = `usage: npm run bench -- [--json FILE] [--quick] [--only ${BENCHES.join(',')}] [--libs ${ALL_LIBS.join(',')}]
       [--backends reference,wasm,webgpu (default: all registered but webgpu)] [--threads 1,2] [--peer-threads 1,2] [--budget SECONDS] [--tiny] [--quiet]
       [--webgpu-gemm ${GEMM_KERNELS.join('|')}]
  --only B2 selects B2-256 and B2-1024; 'memory' is B1-memory. B5-big and GEMM-4096 run on GPUs only
  (--backends webgpu: Carousel on WebGPU, beside PyTorch on CUDA and TF.js on WebGPU where they are).
  --threads: Carousel's wasm thread counts (e.g. 1,2,4,8,16), and the peers' too unless --peer-threads
  is given. --peer-threads: PyTorch (OPENBLAS_CORETYPE as set) and ONNX Runtime run at each; PyTorch with
  OPENBLAS_CORETYPE unset and tfjs-wasm run at the largest only. --webgpu-gemm: the GEMM kernel Carousel's
  webgpu backend uses for every product (default auto: by size), to compare them.`;

/** '--only' names: exact bench names, 'B2' for both B2 sizes, 'memory' for B1-memory. */
export function selectBenches(spec: string): BenchName[] {
  const names = spec.split(',').map((s) => s.trim()).filter(Boolean);
  const out = new Set<BenchName>();
  for (const n of names) {
    const hits = ALL_BENCHES.filter((b) => b.toLowerCase() === n.toLowerCase() || (n.toLowerCase() === 'memory' && b === 'B1-memory')
      || new RegExp(`^${n}-\\d+$`, 'i').test(b));
    if (!hits.length) throw new Error(`--only: unknown bench '${n}': expected some of ${ALL_BENCHES.join(', ')} (or B2, memory)`);
    hits.forEach((h) => out.add(h));
  }
  return ALL_BENCHES.filter((b) => out.has(b));
}

function ints(flag: string, v: string): number[] {
  const xs = v.split(',').map((s) => Number(s));
  if (!xs.length || xs.some((x) => !Number.isInteger(x) || x < 1)) throw new Error(`${flag}: expected positive integers separated by commas, got '${v}'`);
  return xs;
}

export function parseArgs(argv: readonly string[]): Options {
  const o: Options = { json: null, quick: false, tiny: false, quiet: false, only: [...ALL_BENCHES], libs: null,
    backends: null, threads: [1, 2], peerThreads: [1, 2], budgetS: NaN, webgpuGemm: null, help: false };
  let peerThreadsSet = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a}: expected a value after it, got ${v === undefined ? 'nothing' : v}`);
      return v;
    };
    switch (a) {
      case '--json': o.json = val(); break;
      case '--quick': o.quick = true; break;
      case '--tiny': o.tiny = true; break;
      case '--quiet': o.quiet = true; break;
      case '--only': o.only = selectBenches(val()); break;
      case '--libs': {
        const libs = val().split(',');
        for (const l of libs) if (!ALL_LIBS.includes(l)) throw new Error(`--libs: unknown library '${l}': expected some of ${ALL_LIBS.join(', ')}`);
        o.libs = libs; break;
      }
      case '--backends': o.backends = val().split(','); break;
      case '--threads': o.threads = ints(a, val()); break;
      case '--peer-threads': o.peerThreads = ints(a, val()); peerThreadsSet = true; break;
      case '--budget': {
        const v = Number(val());
        if (!(v > 0)) throw new Error(`--budget: expected a positive number of seconds, got '${argv[i]}'`);
        o.budgetS = v; break;
      }
      case '--webgpu-gemm': {
        const v = val();
        if (!(GEMM_KERNELS as readonly string[]).includes(v)) throw new Error(`--webgpu-gemm: expected ${GEMM_KERNELS.slice(0, -1).join(', ')} or ${GEMM_KERNELS[GEMM_KERNELS.length - 1]}, got '${v}'`);
        o.webgpuGemm = v; break;
      }
      case '--help': case '-h': o.help = true; break;
      default: throw new Error(`unknown option '${a}'\n${USAGE}`);
    }
  }
  if (Number.isNaN(o.budgetS)) o.budgetS = o.quick || o.tiny ? 180 : 480;
  if (!peerThreadsSet) o.peerThreads = [...o.threads]; // ratios match tN with tN
  return o;
}
