import type { VboApiVersion } from './types.js';

/**
 * The configured API version does not have the operation (e.g. `/RestorePoints` before v6,
 * `/ServiceInstance` before v6; docs/veeam-wire.md Part 2 section 6). Thrown before any request is made.
 * Not an `UpstreamError`: nothing upstream failed, the caller asked for something this server's
 * API cannot do. Callers should consult `VboClient.capabilities` first.
 */
export class VboUnsupportedError extends Error {
  /** Stable code. */
  readonly code = 'VBO_UNSUPPORTED_BY_VERSION' as const;
  /** Configured server name. */
  readonly source: string;
  readonly apiVersion: VboApiVersion;
  /** The client method, e.g. `listRestorePoints`. */
  readonly operation: string;

  constructor(source: string, apiVersion: VboApiVersion, operation: string, detail: string) {
    super(`${source}: ${operation} is not supported by VB365 REST API ${apiVersion} (${detail})`);
    this.name = 'VboUnsupportedError';
    this.source = source;
    this.apiVersion = apiVersion;
    this.operation = operation;
  }
}
