import type { App, SubCommand } from './registry.js';
import { seq2seqApp } from '../../seq2seq/app.js';
import { g2pDemo } from '../../seq2seq/demo.js';

/** `carousel train --task NAME` / `evaluate` of each application's models. */
export const apps: App[] = [
  seq2seqApp,
];

/** `carousel demo NAME`: the applications' demos (plain `carousel demo` is the CO2 + sonnets one). */
export const demos: SubCommand[] = [
  g2pDemo,
];

/** `carousel data NAME`: the data sets Carousel renders or downloads-free builds. */
export const dataKinds: SubCommand[] = [];
