/** An error caused by the user's input (flags, data or model files, paths): one line, exit code 2. */
export class UserError extends Error {
  constructor(message: string) { super(message); this.name = 'UserError'; }
}

/** A run that failed although its input was fine (training diverged, disk full): one line, exit code 1. */
export class RunError extends Error {
  constructor(message: string) { super(message); this.name = 'RunError'; }
}
