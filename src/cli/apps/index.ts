import type { App, SubCommand } from './registry.js';
import { ctcApp } from '../../asr/app.js';
import { handwritingDemo, speechDemo } from '../../asr/demo.js';
import { dataHandwriting } from './data-handwriting.js';
import { dataSpeech } from './data-speech.js';
import { nowcastApp } from '../../nowcast/app.js';
import { nowcastDemo } from '../../nowcast/demo.js';
import { movingDigitsData } from '../../nowcast/dataCommand.js';
import { seq2seqApp } from '../../seq2seq/app.js';
import { g2pDemo } from '../../seq2seq/demo.js';

/** `carousel train --task NAME` / `evaluate` of each application's models. */
export const apps: App[] = [
  ctcApp,
  seq2seqApp,
  nowcastApp,
];

/** `carousel demo NAME`: the applications' demos (plain `carousel demo` is the CO2 + sonnets one). */
export const demos: SubCommand[] = [
  speechDemo,
  handwritingDemo,
  g2pDemo,
  nowcastDemo,
];

/** `carousel data NAME`: the data sets Carousel renders or downloads-free builds. */
export const dataKinds: SubCommand[] = [
  dataSpeech,
  dataHandwriting,
  movingDigitsData,
];
