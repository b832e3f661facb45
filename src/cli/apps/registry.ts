/**
 * Applications plug into the shared commands here: `carousel train --task NAME` and
 * `carousel evaluate --model DIR` (DIR's model.json names its app) hand the whole argument list to
 * the application's own handler; `carousel demo NAME` and `carousel data NAME` run a named demo or
 * data-set maker. Each application lives in its own folder and adds itself to the lists in index.ts.
 */
export interface App {
  /** The task name `train --task` takes, and the "app" its model.json records (src/io/appModel.ts). */
  name: string;
  /** One line for `carousel train --help`. */
  summary: string;
  /** `carousel train --task NAME ...`: argv is everything after `train`, --task included. Resolves to the exit code. */
  train(argv: string[]): Promise<number>;
  /** `carousel evaluate --model DIR ...` for a model of this app: argv is everything after `evaluate`. */
  evaluate?(argv: string[]): Promise<number>;
}

/** `carousel demo NAME ...` or `carousel data NAME ...`: argv is everything after NAME. */
export interface SubCommand {
  name: string;
  summary: string;
  run(argv: string[]): Promise<number>;
}

/** The value of --NAME in argv (`--NAME V` or `--NAME=V`), before any strict parsing. */
export function peekFlag(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    if (a === `--${name}`) return argv[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}
