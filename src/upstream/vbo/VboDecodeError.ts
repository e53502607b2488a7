/**
 * A VB365 body that cannot be turned into wire values: not JSON, the wrong top-level shape, or a
 * field the client cannot do without (an id, a creation time) missing or of the wrong type. The
 * message names the document and the place (`RestoreSessions: results[3].id: expected string,
 * received null`); it never quotes the body, which may be large or hold a token. The client turns
 * it into `UpstreamBadResponseError` (UPSTREAM_BAD_RESPONSE).
 */
export class VboDecodeError extends Error {
  /** Document being decoded (`RestoreSessions`, `Organization`, `token`...). */
  readonly document: string;
  /** Where in the document, e.g. `results[3].id`; absent for whole-document problems. */
  readonly at: string | undefined;

  constructor(document: string, problem: string, at?: string, options?: { cause?: unknown }) {
    super(`${document}: ${at ? `${at}: ` : ''}${problem}`, options);
    this.name = 'VboDecodeError';
    this.document = document;
    this.at = at;
  }
}
