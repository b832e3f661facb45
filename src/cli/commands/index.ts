import type { Command } from '../command.js';
import { conformance } from './conformance.js';

/** Every `carousel` subcommand, in the order `carousel --help` lists them. */
export const commands: Command[] = [conformance];
