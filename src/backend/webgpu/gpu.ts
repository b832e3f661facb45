/**
 * The slice of the WebGPU API this backend uses, typed here so that the package builds without
 * @webgpu/types (the `webgpu` package is an optional dependency, and browsers bring their own).
 */
export interface GpuBuffer {
  readonly size: number;
  mapAsync(mode: number, offset?: number, size?: number): Promise<void>;
  getMappedRange(offset?: number, size?: number): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}
export interface GpuBindGroupLayout { readonly label?: string }
export interface GpuComputePipeline { getBindGroupLayout(i: number): GpuBindGroupLayout }
export interface GpuBindGroup { readonly label?: string }
export interface GpuPipelineLayout { readonly label?: string }
export interface GpuComputePass {
  setPipeline(p: GpuComputePipeline): void;
  setBindGroup(i: number, g: GpuBindGroup, dynamicOffsets?: Uint32Array, start?: number, length?: number): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}
export interface GpuCommandBuffer { readonly label?: string }
export interface GpuCommandEncoder {
  beginComputePass(): GpuComputePass;
  copyBufferToBuffer(src: GpuBuffer, srcOff: number, dst: GpuBuffer, dstOff: number, size: number): void;
  finish(): GpuCommandBuffer;
}
export interface GpuQueue {
  submit(buffers: GpuCommandBuffer[]): void;
  writeBuffer(b: GpuBuffer, off: number, data: ArrayBufferView | ArrayBuffer, dataOff?: number, size?: number): void;
  onSubmittedWorkDone(): Promise<void>;
}
export interface GpuShaderModule {
  getCompilationInfo?(): Promise<{ messages: readonly { type: string; message: string; lineNum: number }[] }>;
}
export type GpuLimits = Record<string, number>;
export interface GpuDevice {
  readonly queue: GpuQueue;
  readonly limits: GpuLimits;
  readonly features: ReadonlySet<string>;
  readonly lost: Promise<{ reason: string; message: string }>;
  onuncapturederror: ((e: { error: { message: string } }) => void) | null;
  createBuffer(d: { size: number; usage: number; mappedAtCreation?: boolean }): GpuBuffer;
  createShaderModule(d: { code: string; label?: string }): GpuShaderModule;
  createBindGroupLayout(d: { entries: { binding: number; visibility: number; buffer: { type: 'uniform' | 'storage'; hasDynamicOffset?: boolean; minBindingSize?: number } }[] }): GpuBindGroupLayout;
  createPipelineLayout(d: { bindGroupLayouts: GpuBindGroupLayout[] }): GpuPipelineLayout;
  createComputePipeline(d: { layout: 'auto' | GpuPipelineLayout; compute: { module: GpuShaderModule; entryPoint: string }; label?: string }): GpuComputePipeline;
  createBindGroup(d: { layout: GpuBindGroupLayout; entries: { binding: number; resource: { buffer: GpuBuffer; offset?: number; size?: number } }[] }): GpuBindGroup;
  createCommandEncoder(): GpuCommandEncoder;
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<{ message: string } | null>;
  destroy(): void;
}
export interface GpuAdapterInfo { vendor: string; architecture: string; device: string; description: string }
export interface GpuAdapter {
  readonly features: ReadonlySet<string>;
  readonly limits: GpuLimits;
  readonly info?: GpuAdapterInfo;
  requestDevice(d?: { requiredLimits?: Record<string, number>; requiredFeatures?: string[] }): Promise<GpuDevice>;
}
export interface Gpu { requestAdapter(o?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<GpuAdapter | null> }

/** GPUBufferUsage and GPUMapMode flags (numeric: the globals exist only where WebGPU does). */
export const BufferUsage = { MAP_READ: 0x1, MAP_WRITE: 0x2, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
export const MapMode = { READ: 0x1, WRITE: 0x2 } as const;
/** GPUShaderStage.COMPUTE. */
export const COMPUTE_STAGE = 0x4;
