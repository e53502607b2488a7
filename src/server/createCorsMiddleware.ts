import cors from 'cors';
import type { RequestHandler } from 'express';
import type { GatewayConfig } from '../config/loadConfig.js';

/** Request headers a browser client of `/graphql` sends: JSON, auth, Apollo's CSRF header, freshness and budget. */
const ALLOWED_HEADERS = ['content-type', 'authorization', 'apollo-require-preflight', 'x-apollo-operation-name', 'cache-control', 'prefer'];

/**
 * CORS for `/graphql` (config `cors`): exact origins only. A request from another origin gets no
 * `Access-Control-*` header at all, so the browser refuses it; a preflight from an allowed origin
 * is answered 204 with the allowed methods and headers, cached for `maxAgeS`. Without `cors` in the
 * config nothing is sent: same origin only.
 */
export function createCorsMiddleware(settings: NonNullable<GatewayConfig['cors']>): RequestHandler {
  const allowed = new Set(settings.origins);
  return cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin.toLowerCase())),
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: ['x-request-id'],
    credentials: settings.credentials,
    maxAge: settings.maxAgeS,
    optionsSuccessStatus: 204,
  });
}
