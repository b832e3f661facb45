import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ModuleOptions } from '../nn/module.js';
import { LIMITS } from '../io/limits.js';
import { readRegularFile } from '../io/regularFile.js';
import { tfjsLayersModel, type TfjsLayersModel, type TfjsModelJson } from './layersModel.js';

/** A TF.js Layers model from its directory (holding model.json) or its model.json path, with the weight shards next to it. */
export function loadTfjsLayersModel(path: string, opts: ModuleOptions = {}): TfjsLayersModel {
  let file = path;
  try { if (statSync(path).isDirectory()) file = join(path, 'model.json'); } catch { throw new Error(`${path}: no such file or directory`); }
  let json: TfjsModelJson;
  try { json = JSON.parse(readRegularFile(file, LIMITS.metaBytes, 'model.json').toString('utf8')) as TfjsModelJson; } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  const shards = (json.weightsManifest ?? []).flatMap((g) => g.paths).map((p) => readRegularFile(join(dirname(file), p), LIMITS.weightsBytes, 'weight shard'));
  const data = new Uint8Array(shards.reduce((s, b) => s + b.length, 0));
  let o = 0;
  for (const b of shards) { data.set(b, o); o += b.length; }
  try { return tfjsLayersModel(json, data, opts); } catch (e) { throw new Error(`${file}: ${(e as Error).message}`); }
}
