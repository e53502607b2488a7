import type { VboApiVersion } from './types.js';

/**
 * What one VB365 API version can do, from the version tables of docs/veeam-wire.md Part 2 sections 2-7.
 * The client chooses paths, parameters and expected shapes from this; the graph layer reads it to
 * know what it must finish itself (filtering, ordering) for a given server.
 */
export interface VboCapabilities {
  /** 1..8. */
  version: number;
  /** `GET /RestoreSessions` answers a page (v2+; the v2/v3 docs show an array, real v2 clients read `.results`, section 4). */
  restoreSessionsPaged: boolean;
  /** `startTimeFrom`/`startTimeTo` on `/RestoreSessions` (v4+, section 4). */
  restoreSessionsStartTimeFilter: boolean;
  /** `endTimeFrom`/`endTimeTo` (v8, section 4). */
  restoreSessionsEndTimeFilter: boolean;
  /** `orderBy` (`CreationTime|EndTime`) and `orderAsc` (v8; default CreationTime descending, section 7). */
  restoreSessionsOrder: boolean;
  /** `offset`/`limit` honoured on paged endpoints (v2+ in practice: [WOMBAT] pages v2 with them). */
  offsetPaging: boolean;
  /** `GET /Organizations` answers a page with `offset`/`limit` (v8 only; an array before, section 5). */
  organizationsPaged: boolean;
  /** `GET /RestorePoints` exists (v6+; absence before v6 is UNCONFIRMED, section 6). */
  restorePoints: boolean;
  /** `/RestorePoints` answers a page with `from`/`to`/`orderAsc`/`offset`/`limit` (v7+; v6 is a bare array). */
  restorePointsPaged: boolean;
  /** `GET /ServiceInstance` (v6+). */
  serviceInstance: boolean;
  /** `POST /token/logout` -> 204 (v7+, section 2). */
  tokenLogout: boolean;
  /** `/token` may answer 429 (v6+ [BENTHR]). */
  tokenThrottle: boolean;
  /** Largest `limit` documented: 10,000 from v5 (section 7); none documented before. */
  maxLimit: number | undefined;
}

/**
 * The capability table of one API version.
 *
 * @param apiVersion `v1`..`v8`
 * @throws {RangeError} for any other text
 */
export function vboCapabilities(apiVersion: VboApiVersion): VboCapabilities {
  const m = /^v([1-8])$/.exec(apiVersion);
  if (!m) throw new RangeError(`unknown VB365 API version ${JSON.stringify(apiVersion)} (expected v1..v8)`);
  const n = Number(m[1]);
  return {
    version: n,
    restoreSessionsPaged: n >= 2,
    restoreSessionsStartTimeFilter: n >= 4,
    restoreSessionsEndTimeFilter: n >= 8,
    restoreSessionsOrder: n >= 8,
    offsetPaging: n >= 2,
    organizationsPaged: n >= 8,
    restorePoints: n >= 6,
    restorePointsPaged: n >= 7,
    serviceInstance: n >= 6,
    tokenLogout: n >= 7,
    tokenThrottle: n >= 6,
    maxLimit: n >= 5 ? 10_000 : undefined,
  };
}
