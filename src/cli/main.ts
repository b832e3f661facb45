#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import '../backends.js'; // the built-in backends (reference, composed, wasm, webgpu)
import { printable } from '../data/printable.js';
import { commands, type CommandEntry } from './commands/index.js';
import { RunError, UserError } from './errors.js';
import { closest } from './suggest.js';
import { listBackends, setBackend } from '../backend/registry.js';

const usage = () => `Usage: carousel [--debug] [--backend NAME] COMMAND [options]   (carousel help COMMAND, or COMMAND --help, for details)
       carousel --version

Commands:
${commands.map((c) => `  ${c.name.padEnd(13)} ${c.summary}`).join('\n')}

Exit codes: 0 success, 1 a failed run (e.g. training diverged, disk full), 2 bad input (flags,
data or model files, paths), 70 an internal error. Errors are one line; --debug (or
CAROUSEL_DEBUG=1) also prints the stack trace. --backend NAME (or CAROUSEL_BACKEND=NAME) runs any
command on that backend (${listBackends().join(', ')}).`;

/** The version in the package's package.json (dist/src/cli/main.js -> up three). */
function version(): string {
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** The command called NAME, or a one-line error naming the nearest one. */
function command(name: string): CommandEntry {
  const cmd = commands.find((c) => c.name === name);
  if (cmd) return cmd;
  if (name.startsWith('-')) {
    const hint = closest(name, ['--help', '-h', '--version', '-v', '--debug']);
    throw new UserError(`unknown option '${printable(name, 40)}'${hint ? `; did you mean ${hint}?` : ' (carousel --help lists the options)'}`);
  }
  const hint = closest(name, [...commands.map((c) => c.name), 'help']);
  throw new UserError(`unknown command '${printable(name, 40)}'${hint ? `; did you mean ${hint}?` : ' (carousel --help lists the commands)'}`);
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v') { console.log(version()); return 0; }
  // 'help COMMAND' prints what 'COMMAND --help' does.
  if (name === 'help' && rest.length) { console.log((await command(rest[0]).load()).help); return 0; }
  if (!name || name === '--help' || name === '-h' || name === 'help') { console.log(usage()); return name ? 0 : 1; }
  const cmd = command(name);
  await startBackend();
  return (await cmd.load()).run(rest);
}

// --debug may stand anywhere before a '--'; it is taken out before the command parses its flags.
const all = process.argv.slice(2);
const end = all.includes('--') ? all.indexOf('--') : all.length;
const debug = all.slice(0, end).includes('--debug') || process.env.CAROUSEL_DEBUG === '1';
// --backend NAME (or --backend=NAME) likewise, for every command: devices such as webgpu start
// asynchronously, so the backend is set up before the command runs.
let backendFlag: string | undefined;
const head: string[] = [];
for (let i = 0; i < end; i++) {
  const a = all[i];
  if (a === '--debug') continue;
  if (a === '--backend' && i + 1 < end) { backendFlag = all[++i]; continue; }
  if (a.startsWith('--backend=')) { backendFlag = a.slice('--backend='.length); continue; }
  head.push(a);
}
const argv = [...head, ...all.slice(end)];

/** The backend named by --backend or CAROUSEL_BACKEND, started (a missing device is a failed run, exit 1). */
async function startBackend(): Promise<void> {
  const name = backendFlag ?? process.env.CAROUSEL_BACKEND;
  if (name === undefined) return;
  if (!listBackends().includes(name)) {
    throw new UserError(`${backendFlag !== undefined ? '--backend' : 'CAROUSEL_BACKEND'}: expected one of ${listBackends().join(', ')}, got '${printable(name, 40)}'`);
  }
  try { await setBackend(name); } catch (e) { throw new RunError(`backend ${name}: ${(e as Error).message}`); }
}

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
