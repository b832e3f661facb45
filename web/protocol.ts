/**
 * Messages between the playground page (main.ts) and its training worker (worker.ts). The page
 * only draws; everything with tensors happens in the worker, so the page stays responsive.
 */
export interface TrainRequest {
  type: 'train';
  task: 'charlm' | 'forecast';
  /** charlm: the text; forecast: CSV (header row, one row per step). */
  data: string;
  /** forecast: the column to forecast (default: the first numeric one). */
  column?: string;
  window: number;
  horizon: number;
  cell: string;
  hidden: number;
  layers: number;
  backend: string;
  /** Training stops after this many seconds (or at Stop). */
  seconds: number;
  lr: number;
  seed: number;
}

export type ToWorker =
  | TrainRequest
  | { type: 'stop' }
  | { type: 'generate'; seed: string; length: number; temperature: number }
  | { type: 'download' }
  | { type: 'load'; files: { name: string; bytes: Uint8Array }[]; data: string; column?: string; window: number };

export type FromWorker =
  | { type: 'ready'; backends: { name: string; available: boolean; why?: string }[]; isolated: boolean; cells: string[] }
  | { type: 'started'; backend: string; parameters: number; summary: string }
  | { type: 'progress'; step: number; seconds: number; loss: number; itemsPerSecond: number; unit: string }
  | { type: 'stopped'; steps: number; seconds: number; firstLoss: number; lastLoss: number; validation: string }
  | { type: 'sample'; text: string }
  | { type: 'forecast'; svg: string; summary: string }
  | { type: 'files'; files: { name: string; bytes: Uint8Array }[] }
  | { type: 'loaded'; summary: string }
  | { type: 'error'; message: string };
