/**
 * Largest request body `POST /graphql` accepts, in bytes (the JSON of query, variables, operation
 * name and extensions). A larger body is refused with HTTP 413 and `BAD_REQUEST` before it is
 * parsed, so nothing of it reaches the graph or a Veeam server. Not a config key: 256 KiB holds any
 * real operation with room to spare, including `nodes(ids:)` with the default maximum of 1000 ids
 * (an id is 60 to 150 characters) or `_entities` with as many representations. `GET /graphql` is
 * bounded by Node's request-header limit instead (16 KiB for the request line and headers: HTTP 431).
 */
export const MAX_REQUEST_BODY_BYTES = 256 * 1024;
