import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

export const REQUEST_ID_HEADER = 'x-request-id';

/** Ids we accept from callers: short and log-safe (no spaces, quotes or control characters). */
const ACCEPTABLE = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * Gives every request an id: the caller's `x-request-id` when it is a sane token (so a proxy's or
 * a frontend's id follows the request into our logs), a new UUID otherwise. The id is echoed in the
 * response header and written back to the request header, where the Apollo plugins read it.
 */
export function requestId(req: Request, res: Response, next: NextFunction): void {
  const given = req.get(REQUEST_ID_HEADER);
  const id = given !== undefined && ACCEPTABLE.test(given) ? given : randomUUID();
  req.headers[REQUEST_ID_HEADER] = id;
  res.locals.requestId = id;
  res.setHeader(REQUEST_ID_HEADER, id);
  next();
}
