#!/usr/bin/env node
import '../backends.js'; // the built-in backends (reference, composed, wasm)
import { commands } from './commands/index.js';
import { UserError } from './errors.js';

const usage = () => `Usage: carousel COMMAND [options]   (carousel COMMAND --help for details)

Commands:
${commands.map((c) => `  ${c.name.padEnd(13)} ${c.summary}`).join('\n')}`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') { console.log(usage()); return name ? 0 : 1; }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) { console.error(`carousel: unknown command '${name}'\n\n${usage()}`); return 2; }
  return cmd.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    const err = e as Error & { code?: string };
    // User errors (and argument errors from node:util parseArgs) are one line; bugs keep their stack.
    if (e instanceof UserError || (typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS'))) {
      console.error(`carousel: ${err.message}`);
      process.exitCode = 2;
    } else {
      console.error(err?.stack ?? String(e));
      process.exitCode = 70;
    }
  },
);
