/**
 * Everything the wasm backend does differently in Node.js and in a browser, in one module: how
 * the kernel module is read and compiled, how many cores there are, how a worker thread is made
 * and receives its start data, whether this thread may block in Atomics.wait, and the GC nudge.
 * The job protocol (pool.ts) and the worker loop (worker.ts) are the same everywhere.
 *
 * Chosen at run time, without an import statement for any node:* module: Node is recognised by
 * `process.getBuiltinModule` (Node >= 20.16), which hands out node:fs, node:os,
 * node:worker_threads, node:v8 and node:vm synchronously. So the Node path stays synchronous
 * (`new WasmBackend()` works at once, as before), while bundlers never see a node:* import and
 * the plain tsc output runs unbundled in a browser (page or Web Worker) too.
 */

/** What a kernel worker needs to start: the module, the shared memory and its control slot (pool.ts). */
export interface WorkerStart {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctrl: number;
  slot: number;
}

export interface KernelWorker { terminate(): unknown }

export interface WasmPlatform {
  readonly name: 'node' | 'browser' | 'unsupported';
  /** Why this environment cannot run the wasm backend (beyond engine features), or null. */
  unavailableReason(): string | null;
  /** The kernel module's bytes, synchronously; null where loading is asynchronous only (browsers). */
  readonly readSync: ((url: URL) => Uint8Array<ArrayBuffer>) | null;
  /** Compile the kernel module at `url` without blocking this thread. */
  compile(url: URL): Promise<WebAssembly.Module>;
  /** The default thread count: logical cores. */
  cores(): number;
  /** A function that forces a garbage collection, or null where there is none (heap.ts). */
  gc(): (() => void) | null;
  /** Start a kernel worker (worker.js) and hand it `start`; `onError` gets its failure. */
  spawnWorker(start: WorkerStart, onError: (message: string) => void): KernelWorker;
  /** Inside a kernel worker: the start data its creator handed it. */
  workerStart(): Promise<WorkerStart>;
  /** Turn on the engine's relaxed-SIMD flag where there is one: the flag set, or null. */
  enableRelaxedSimd(): string | null;
}

type GetBuiltin = NodeJS.Process['getBuiltinModule'];

function nodePlatform(get: GetBuiltin): WasmPlatform {
  let forceGc: (() => void) | null | undefined;
  return {
    name: 'node',
    unavailableReason: () => null,
    readSync: (url) => new Uint8Array(get('node:fs').readFileSync(url)),
    compile: async (url) => WebAssembly.compile(new Uint8Array(await get('node:fs').promises.readFile(url))),
    cores: () => get('node:os').availableParallelism(),
    gc() {
      // V8's gc function, reached the way Node tools do it: --expose-gc set at run time, read from a fresh context.
      if (forceGc === undefined) {
        try {
          const g = (globalThis as { gc?: () => void }).gc;
          if (typeof g === 'function') forceGc = g;
          else {
            get('node:v8').setFlagsFromString('--expose-gc');
            const f = get('node:vm').runInNewContext('gc') as unknown;
            forceGc = typeof f === 'function' ? (f as () => void) : null;
          }
        } catch { forceGc = null; }
      }
      return forceGc;
    },
    spawnWorker(start, onError) {
      const { Worker } = get('node:worker_threads');
      const worker = new Worker(new URL('./worker.js', import.meta.url), {
        workerData: start,
        execArgv: [], // the parent's flags (--input-type, --test, ...) are not for a kernel worker
      });
      worker.unref(); // workers never keep a process alive
      worker.on('error', (e: Error) => onError(e.message));
      return worker;
    },
    workerStart: async () => get('node:worker_threads').workerData as WorkerStart,
    enableRelaxedSimd() {
      // Node 20's V8 has relaxed SIMD behind a flag (on by default from Node 22); flags set at run
      // time apply to modules compiled afterwards, in every thread of the process.
      const flag = '--experimental-wasm-relaxed-simd';
      try { get('node:v8').setFlagsFromString(flag); return flag; } catch { return null; }
    },
  };
}

function browserPlatform(): WasmPlatform {
  return {
    name: 'browser',
    unavailableReason() {
      if (!globalThis.crossOriginIsolated) {
        return 'this page is not cross-origin isolated, so it has no SharedArrayBuffer for the kernels\' shared memory ' +
          '(serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
      }
      if (typeof Worker !== 'function') return 'this context cannot start Web Workers';
      return null;
    },
    readSync: null, // Chrome forbids compiling a large module synchronously on the main thread
    async compile(url) {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
      // Streaming compilation needs the server to send application/wasm; otherwise compile the bytes.
      if (typeof WebAssembly.compileStreaming === 'function' && res.headers.get('content-type')?.split(';')[0].trim() === 'application/wasm') {
        return WebAssembly.compileStreaming(res);
      }
      return WebAssembly.compile(await res.arrayBuffer());
    },
    cores: () => Math.max(1, navigator.hardwareConcurrency || 1),
    gc: () => null, // browsers expose no GC (the finalizers still run when the event loop turns)
    spawnWorker(start, onError) {
      // Written as `new Worker(new URL(literal, import.meta.url))` so that bundlers emit worker.js as a chunk.
      const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: `carousel-wasm-${start.slot}` });
      worker.addEventListener('error', (e) => {
        e.preventDefault();
        onError(e instanceof ErrorEvent && e.message ? e.message : `cannot load ${new URL('./worker.js', import.meta.url).href}`);
      });
      worker.postMessage(start); // a WebAssembly.Module and a shared Memory are both cloneable
      return worker;
    },
    workerStart() {
      return new Promise((resolve) => {
        globalThis.addEventListener('message', (e) => resolve((e as MessageEvent<WorkerStart>).data), { once: true });
      });
    },
    enableRelaxedSimd: () => null, // a page cannot set engine flags (current Chromium has relaxed SIMD on)
  };
}

/** Node without process.getBuiltinModule: the wasm backend is unavailable, with the reason. */
function unsupportedPlatform(reason: string): WasmPlatform {
  const fail = (): never => { throw new Error(`backend wasm: ${reason}`); };
  return {
    name: 'unsupported', unavailableReason: () => reason, readSync: null, compile: async () => fail(),
    cores: () => 1, gc: () => null, spawnWorker: fail, workerStart: async () => fail(), enableRelaxedSimd: () => null,
  };
}

function detect(): WasmPlatform {
  const proc = (globalThis as { process?: Partial<NodeJS.Process> }).process;
  const node = proc?.versions?.node;
  if (typeof node !== 'string') return browserPlatform();
  if (typeof proc?.getBuiltinModule === 'function') return nodePlatform(proc.getBuiltinModule.bind(proc) as GetBuiltin);
  return unsupportedPlatform(`Node.js ${node} lacks process.getBuiltinModule (Node >= 20.16 or >= 22.3 has it)`);
}

export const platform: WasmPlatform = detect();

let blockable: boolean | undefined;
/**
 * Whether this thread may block in Atomics.wait: not a browser's main thread (where it throws).
 * Tested once, with a wait that cannot sleep (the value differs), so it costs nothing.
 */
export function threadCanBlock(): boolean {
  if (blockable === undefined) {
    try { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0); blockable = true; } catch { blockable = false; }
  }
  return blockable;
}
