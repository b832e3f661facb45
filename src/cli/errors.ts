/** An error caused by the user's input: printed as one clear line, never as a stack trace. */
export class UserError extends Error {
  constructor(message: string) { super(message); this.name = 'UserError'; }
}
