#!/usr/bin/env node
import '../backends.js'; // the built-in backends (reference, composed, wasm)
import { printable } from '../data/printable.js';
import { commands } from './commands/index.js';
import { RunError, UserError } from './errors.js';

const usage = () => `Usage: carousel [--debug] COMMAND [options]   (carousel COMMAND --help for details)

Commands:
${commands.map((c) => `  ${c.name.padEnd(13)} ${c.summary}`).join('\n')}

Exit codes: 0 success, 1 a failed run (e.g. training diverged, disk full), 2 bad input (flags,
data or model files, paths), 70 an internal error. Errors are one line; --debug (or
CAROUSEL_DEBUG=1) also prints the stack trace.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') { console.log(usage()); return name ? 0 : 1; }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) { console.error(`carousel: unknown command '${printable(name, 40)}'\n\n${usage()}`); return 2; }
  return cmd.run(rest);
}

// --debug may stand anywhere before a '--'; it is taken out before the command parses its flags.
const all = process.argv.slice(2);
const end = all.includes('--') ? all.indexOf('--') : all.length;
const debug = all.slice(0, end).includes('--debug') || process.env.CAROUSEL_DEBUG === '1';
const argv = [...all.slice(0, end).filter((a) => a !== '--debug'), ...all.slice(end)];

/** One line on stderr (text from files escaped and cut), the stack only with --debug; the exit code. */
function fail(e: unknown): void {
  const err = e as Error & { code?: string };
  const message = typeof err?.message === 'string' ? err.message : String(e);
  let code: number, line: string;
  if (e instanceof UserError || (typeof err?.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS'))) {
    code = 2; line = message;
  } else if (e instanceof RunError) {
    code = 1; line = message;
  } else {
    code = 70; line = `internal error: ${message}${debug ? '' : ' (a bug in Carousel: run with --debug for the stack trace)'}`;
  }
  console.error(`carousel: ${printable(line, 1000)}`);
  if (debug && err?.stack) console.error(err.stack);
  process.exitCode = code;
}

// A reader that stops early (carousel info ... | head) closes the pipe: not a failure.
process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); else fail(e); });
// An error outside the command's promise (a stream, a worker) ends the run the same way.
process.on('uncaughtException', (e) => { fail(e); process.exit(); });
main(argv).then((code) => { process.exitCode = code; }, fail);
