import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { TokenBucketDecision, TokenBucketLimiter } from './TokenBucket.js';
import { principalOf } from './auth/createAuthMiddleware.js';

/** A bucket's key for a request: the principal, or the client address for anonymous callers (who would otherwise share one bucket). */
export function rateLimitKey(req: Request, res: Response): string {
  const principal = principalOf(res);
  return principal !== undefined && principal.via !== 'anonymous' ? principal.id : `ip:${req.socket.remoteAddress ?? 'unknown'}`;
}

/** Answers a refused request: 429, `Retry-After`, and a GraphQL-shaped error coded `RATE_LIMITED`. */
export function rejectRateLimited(res: Response, decision: Extract<TokenBucketDecision, { allowed: false }>): void {
  res
    .status(429)
    .set({ 'retry-after': String(decision.retryAfterS), 'cache-control': 'no-store' })
    .json({
      errors: [
        { message: `Too many requests; retry after ${decision.retryAfterS} s.`, extensions: { code: 'RATE_LIMITED', retryAfterS: decision.retryAfterS } },
      ],
    });
}

/**
 * Express middleware after authentication and before the body is parsed: one token per request
 * from the principal's bucket (config `rateLimit`), 429 with `Retry-After` when it is empty.
 */
export function createRateLimitMiddleware(limiter: TokenBucketLimiter, onLimited?: () => void): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method === 'OPTIONS') return next();
    const decision = limiter.take(rateLimitKey(req, res));
    if (!decision.allowed) {
      onLimited?.();
      return rejectRateLimited(res, decision);
    }
    res.set('ratelimit-remaining', String(decision.remaining));
    next();
  };
}
