import type { Command } from '../command.js';
import { conformance } from './conformance.js';
import { data } from './data.js';
import { demo } from './demo.js';
import { evaluate } from './evaluate.js';
import { evolve } from './evolve.js';
import { exportCommand } from './export.js';
import { generate } from './generate.js';
import { importCommand } from './import.js';
import { info } from './info.js';
import { predict } from './predict.js';
import { quantize } from './quantize.js';
import { reproduce } from './reproduce.js';
import { rl } from './rl.js';
import { play } from './play.js';
import { train } from './train.js';
import { transcribe } from './transcribe.js';
import { lm } from './lm.js';
import { translate } from './translate.js';

/** Every `carousel` subcommand, in the order `carousel --help` lists them. */
export const commands: Command[] = [conformance, demo, data, train, predict, evaluate, transcribe, translate, lm, generate, info, quantize, importCommand, exportCommand, reproduce, evolve, rl, play];
