/**
 * Any Carousel module's parameters as one flat genome: the parameters in namedParameters() order
 * (PyTorch's: `lstm.weight_ih_l0`, `lstm.weight_hh_l0`, ...), each row-major, concatenated. The
 * layout names every slice, so code that evaluates a genome without the module (the Float64 LSTM
 * of lstmNet.ts) finds its weights by name, not by position.
 */
import type { Module, TensorData } from '../nn/module.js';

export interface GenomeSlice { name: string; shape: number[]; offset: number; size: number }

export interface GenomeLayout { slices: GenomeSlice[]; size: number }

export function genomeLayout(module: Module): GenomeLayout {
  const slices: GenomeSlice[] = [];
  let offset = 0;
  for (const [name, p] of module.namedParameters()) {
    slices.push({ name, shape: [...p.shape], offset, size: p.size });
    offset += p.size;
  }
  return { slices, size: offset };
}

/** The slice of `name`, or an error naming the parameters there are. */
export function sliceOf(layout: GenomeLayout, name: string): GenomeSlice {
  const s = layout.slices.find((x) => x.name === name);
  if (!s) throw new Error(`genome: no parameter '${name}': the module has ${layout.slices.map((x) => x.name).join(', ')}`);
  return s;
}

/** The module's current parameters as a genome (any backend). */
export async function readGenome(module: Module): Promise<Float64Array> {
  const layout = genomeLayout(module), out = new Float64Array(layout.size);
  const dict = await module.readStateDict();
  for (const s of layout.slices) out.set(dict.get(s.name)!.data, s.offset);
  return out;
}

/** Write a genome into the module's parameters (checked: length, finite values; nothing changes on error). */
export function writeGenome(module: Module, genome: ArrayLike<number>): void {
  const layout = genomeLayout(module);
  if (genome.length !== layout.size) throw new Error(`genome: expected ${layout.size} values for this module, got ${genome.length}`);
  const g = Float64Array.from(genome), dict = new Map<string, TensorData>();
  for (const s of layout.slices) dict.set(s.name, { shape: s.shape, data: g.subarray(s.offset, s.offset + s.size) });
  module.loadStateDict(dict, true);
}
