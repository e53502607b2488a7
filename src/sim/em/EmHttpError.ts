/** A request the simulator refuses; EmSimulator renders it as EM's `<Error>` (docs/veeam-wire.md Part 1 section 3). */
export class EmHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'EmHttpError';
  }
}
