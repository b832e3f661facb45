/** A `carousel` subcommand: its --help text and what it runs (its one-line summary is in commands/index.ts). */
export interface Command {
  name: string;
  help: string;
  /** Resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}
