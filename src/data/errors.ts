/** A problem with the user's data file: the message names the file, line and column where it can. */
export class DataError extends Error {
  constructor(message: string) { super(message); this.name = 'DataError'; }
}
