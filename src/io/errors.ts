/** A model or checkpoint file that cannot be used (missing, unreadable, truncated, mis-shaped). */
export class ModelFileError extends Error {
  constructor(message: string) { super(message); this.name = 'ModelFileError'; }
}
