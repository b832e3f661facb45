/** A `carousel` subcommand: its one-line summary, its --help text, and what it runs. */
export interface Command {
  name: string;
  summary: string;
  help: string;
  /** Resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}
