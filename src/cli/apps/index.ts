import type { App, SubCommand } from './registry.js';
import { ctcApp } from '../../asr/app.js';
import { handwritingDemo, speechDemo } from '../../asr/demo.js';
import { dataHandwriting } from './data-handwriting.js';
import { dataSpeech } from './data-speech.js';

/** `carousel train --task NAME` / `evaluate` of each application's models. */
export const apps: App[] = [ctcApp];

/** `carousel demo NAME`: the applications' demos (plain `carousel demo` is the CO2 + sonnets one). */
export const demos: SubCommand[] = [speechDemo, handwritingDemo];

/** `carousel data NAME`: the data sets Carousel renders or downloads-free builds. */
export const dataKinds: SubCommand[] = [
  dataSpeech,
  dataHandwriting,
];
