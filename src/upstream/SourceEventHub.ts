import { isUpstreamError } from './errors.js';
import type { HttpRequestEvent } from './http/createHttpClient.js';
import type { CircuitTransition } from './http/CircuitBreaker.js';
import type { SourceEvent } from './Source.js';

/**
 * The outcome events of one source (`Source.subscribe`), shared by every adapter: contract calls
 * run through `run`, so each success and each `UpstreamError` is reported without the caller
 * having to remember it; `http` forwards every HTTP attempt and recognises logons by the
 * adapter's own rule.
 */
export class SourceEventHub {
  private readonly listeners = new Set<(event: SourceEvent) => void>();
  private logons = 0;

  /**
   * @param source configured server name
   * @param logonOf names the logon an HTTP attempt is (`em_logon`, `vbo_token`), or undefined
   */
  constructor(
    private readonly source: string,
    private readonly logonOf: (event: HttpRequestEvent) => string | undefined = () => undefined,
  ) {}

  subscribe(listener: (event: SourceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: SourceEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** The `onRequest` hook of the source's HTTP client. */
  readonly http = (request: HttpRequestEvent): void => {
    this.emit({ type: 'http', source: this.source, request });
    const logon = this.logonOf(request);
    if (logon === undefined) return;
    const ok = request.status !== undefined && request.status >= 200 && request.status < 300;
    this.emit({ type: 'logon', source: this.source, logon, outcome: ok ? 'success' : 'failure', renewal: this.logons > 0 });
    if (ok) this.logons++;
  };

  /** The `onCircuit` hook of the source's HTTP client. */
  readonly circuit = (transition: CircuitTransition): void => {
    this.emit({ type: 'circuit', source: this.source, transition });
  };

  /** Runs one contract call and reports its outcome; the result or error passes through unchanged. */
  async run<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      const result = await call();
      this.emit({ type: 'success', source: this.source, operation });
      return result;
    } catch (err) {
      if (isUpstreamError(err)) this.emit({ type: 'failure', source: this.source, operation, error: err });
      throw err;
    }
  }
}
