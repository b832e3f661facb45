import type { Gpu, GpuAdapter, GpuAdapterInfo, GpuDevice } from './gpu.js';

/** What `carousel info --backends` shows of the adapter the backend runs on. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  features: string[];
  /** The limits this backend asked for (the adapter's), by name. */
  limits: Record<string, number>;
}

export interface GpuContext { gpu: Gpu; adapter: GpuAdapter; device: GpuDevice; summary: AdapterSummary }

/** The limits the kernels depend on: taken at the adapter's maximum. */
const LIMITS = ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupsPerDimension',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupStorageSize', 'maxStorageBuffersPerShaderStage'] as const;

/** The browser's navigator.gpu, if this is a page or worker that has one. */
function navigatorGpu(): Gpu | null {
  const nav = (globalThis as { navigator?: { gpu?: Gpu } }).navigator;
  return nav?.gpu ?? null;
}

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/**
 * Why WebGPU cannot run here as far as can be told without starting it (null: it may, and
 * create() says for sure): no navigator.gpu in a browser; in Node, no `webgpu` package.
 */
export function webgpuUnavailableReason(): string | null {
  if (navigatorGpu()) return null;
  if (!isNode) return 'no WebGPU adapter: this browser has no navigator.gpu';
  try {
    import.meta.resolve('webgpu');
    return null;
  } catch {
    return "no WebGPU adapter: the optional package 'webgpu' (Dawn for Node) is not installed";
  }
}

/** The WebGPU entry point: navigator.gpu, else the `webgpu` package's create() in Node. */
async function loadGpu(): Promise<Gpu> {
  const nav = navigatorGpu();
  if (nav) return nav;
  const why = webgpuUnavailableReason();
  if (why) throw new Error(why);
  const spec = 'webgpu'; // a variable: bundlers and tsc leave the optional package alone
  let mod: { create(options: string[]): Gpu };
  try {
    mod = await import(spec) as typeof mod;
  } catch (e) {
    throw new Error(`no WebGPU adapter: the 'webgpu' package failed to load (${(e as Error).message.split('\n')[0]})`);
  }
  return mod.create([]);
}

/**
 * An adapter and a device with the adapter's largest limits, or an Error whose message starts
 * "no WebGPU adapter:" and says why.
 */
export async function openDevice(): Promise<GpuContext> {
  const gpu = await loadGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    const hint = isNode ? ' (Dawn found no Vulkan, Metal or D3D12 driver; on a machine without a GPU, '
      + 'SwiftShader from Debian\'s chromium serves: set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json '
      + 'and LD_LIBRARY_PATH=/usr/lib/chromium)' : '';
    throw new Error(`no WebGPU adapter: requestAdapter() returned none${hint}`);
  }
  const requiredLimits: Record<string, number> = {};
  for (const k of LIMITS) if (typeof adapter.limits[k] === 'number') requiredLimits[k] = adapter.limits[k];
  let device: GpuDevice;
  try {
    // Subgroups where the adapter has them: the GEMM uses them (wgsl-gemm-subgroups.ts).
    const requiredFeatures = adapter.features.has('subgroups') ? ['subgroups'] : [];
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  } catch (e) {
    throw new Error(`no WebGPU adapter: requestDevice() failed (${(e as Error).message})`);
  }
  const info: Partial<GpuAdapterInfo> = adapter.info ?? {};
  const summary: AdapterSummary = {
    vendor: info.vendor || '?', architecture: info.architecture || '?', device: info.device || '', description: info.description || '',
    features: [...adapter.features].sort(),
    limits: Object.fromEntries(LIMITS.map((k) => [k, device.limits[k]])),
  };
  return { gpu, adapter, device, summary };
}
