import type { Command } from '../command.js';

/**
 * Every `carousel` subcommand, in the order `carousel --help` lists them: its name and one-line
 * summary here, its module (flags, help, run, and everything they import) loaded only when it
 * runs, so starting the CLI does not load every application (it did: about 0.3 s of CPU a start).
 */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

export const commands: CommandEntry[] = [
  { name: 'conformance', summary: 'run reference fixtures (forward and gradients) and compare within their tolerance', load: async () => (await import('./conformance.js')).conformance },
  { name: 'demo', summary: 'train on real data: CO2 forecasting vs a seasonal baseline, and a character language model', load: async () => (await import('./demo.js')).demo },
  { name: 'data', summary: 'make a data set (rendered speech, handwriting, moving digits) for the applications', load: async () => (await import('./data.js')).data },
  { name: 'train', summary: 'train a forecaster, sequence classifier or character language model', load: async () => (await import('./train.js')).train },
  { name: 'predict', summary: 'run a trained model on new data (forecast, labels, next characters)', load: async () => (await import('./predict.js')).predict },
  { name: 'evaluate', summary: 'measure a trained model on labelled data (MAE, accuracy, bits per character)', load: async () => (await import('./evaluate.js')).evaluate },
  { name: 'transcribe', summary: 'turn recordings or pen strokes into text with a CTC model', load: async () => (await import('./transcribe.js')).transcribe },
  { name: 'translate', summary: 'run a sequence-to-sequence model on lines (beam search), e.g. words to phonemes', load: async () => (await import('./translate.js')).translate },
  { name: 'lm', summary: 'train a character n-gram language model for CTC beam search', load: async () => (await import('./lm.js')).lm },
  { name: 'generate', summary: 'sample text from a character language model', load: async () => (await import('./generate.js')).generate },
  { name: 'info', summary: 'describe a model directory or a safetensors file', load: async () => (await import('./info.js')).info },
  { name: 'quantize', summary: 'store a model\'s weights as int8, bf16 or f16 for inference', load: async () => (await import('./quantize.js')).quantize },
  { name: 'import', summary: 'turn an ONNX task model into a Carousel model directory', load: async () => (await import('./import.js')).importCommand },
  { name: 'export', summary: 'write a model directory as an ONNX file', load: async () => (await import('./export.js')).exportCommand },
  { name: 'reproduce', summary: "rerun the LSTM papers' experiments and compare with their published figures", load: async () => (await import('./reproduce.js')).reproduce },
  { name: 'evolve', summary: 'neuroevolution: CMA-ES over an LSTM controller (double pole without velocities) or Evolino', load: async () => (await import('./evolve.js')).evolve },
  { name: 'rl', summary: 'train a recurrent policy by policy gradients (T-maze, cart-pole, double pole)', load: async () => (await import('./rl.js')).rl },
  { name: 'play', summary: 'run a saved policy and show its episodes as text frames', load: async () => (await import('./play.js')).play },
];
