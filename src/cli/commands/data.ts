import type { Command } from '../command.js';
import { printable } from '../../data/printable.js';
import { UserError } from '../errors.js';
import { dataKinds } from '../apps/index.js';

const HELP = () => `Usage: carousel data NAME [options]   (carousel data NAME --help for its options)

Makes a data set on this machine, deterministic by seed, in the formats the training commands read:
${dataKinds.map((d) => `  ${d.name.padEnd(16)} ${d.summary}`).join('\n') || '  (none installed)'}`;

export const data: Command = {
  name: 'data',
  get help() { return HELP(); },
  async run(argv) {
    if (!argv.length || argv[0] === '--help' || argv[0] === '-h') { console.log(HELP()); return argv.length ? 0 : 1; }
    const d = dataKinds.find((x) => x.name === argv[0]);
    if (!d) throw new UserError(`carousel data: no data set named '${printable(argv[0], 40)}'; expected one of ${dataKinds.map((x) => x.name).join(', ') || '(none)'}`);
    return d.run(argv.slice(1));
  },
};
