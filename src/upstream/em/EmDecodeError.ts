/**
 * An EM body that cannot be turned into wire values: not XML/JSON, wrong root element, a required
 * field missing or unreadable. The message names the document and the place (`QueryResult:
 * Entities.RestoreSessions[3].CreationTimeUTC is missing`); it never quotes the body, which may be
 * large. The EM client turns it into `UpstreamBadResponseError` (UPSTREAM_BAD_RESPONSE).
 */
export class EmDecodeError extends Error {
  /** Document being decoded (`QueryResult`, `RestoreSession`, `LogonSession`, `Error`...). */
  readonly document: string;
  /** Where in the document, e.g. `Entities.RestoreSessions[3].CreationTimeUTC`; absent for whole-document problems. */
  readonly at: string | undefined;

  constructor(document: string, problem: string, at?: string, options?: { cause?: unknown }) {
    super(`${document}: ${at ? `${at} ` : ''}${problem}`, options);
    this.name = 'EmDecodeError';
    this.document = document;
    this.at = at;
  }
}
