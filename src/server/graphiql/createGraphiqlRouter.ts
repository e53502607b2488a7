import path from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import type { ExampleQuery } from './exampleQueries.js';
import { GRAPHIQL_BUNDLE_FILES, graphiqlBundleDir } from './graphiqlBundle.js';
import { GRAPHIQL_CSP, GRAPHIQL_INIT_JS, GRAPHIQL_PAGE_CSS, renderGraphiqlPage } from './renderGraphiqlPage.js';

/** Path of the GraphiQL page; the GraphQL endpoint serves it too to browsers. */
export const GRAPHIQL_PATH = '/graphiql';
export const GRAPHIQL_ASSETS_PATH = '/graphiql/assets';

/** Served files by URL name: a fixed list, so no request path ever reaches the file system. */
function bundleFiles(dir: string): Map<string, string> {
  return new Map(GRAPHIQL_BUNDLE_FILES.map((f) => [f, path.join(dir, f)]));
}

/** True when a GET on the GraphQL endpoint comes from a browser navigating to it. */
export function wantsHtml(req: Request): boolean {
  return req.method === 'GET' && req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) === 'text/html';
}

/**
 * Offline GraphiQL: the page at `/graphiql` (and at the endpoint for browsers), its bundle, CSS
 * and Monaco workers under `/graphiql/assets/`, all from the gateway itself. Backup networks are
 * often air-gapped, and the page's Content-Security-Policy allows this origin only. Subscriptions
 * run from the page over GraphQL over SSE at `subscriptionsEndpoint` (default `${endpoint}/stream`).
 */
export function createGraphiqlRouter(options: { endpoint: string; subscriptionsEndpoint?: string; title?: string; examples: ExampleQuery[] }): Router {
  const router = express.Router();
  const files = bundleFiles(graphiqlBundleDir());
  const page = renderGraphiqlPage({
    endpoint: options.endpoint,
    // Where the gateway serves GraphQL over SSE (GRAPHQL_STREAM_PATH in createGateway.ts).
    subscriptionsEndpoint: options.subscriptionsEndpoint ?? `${options.endpoint}/stream`,
    assets: GRAPHIQL_ASSETS_PATH,
    title: options.title ?? 'veeam-graph GraphiQL',
    examples: options.examples,
  });

  const sendPage = (_req: Request, res: Response): void => {
    res.set({ 'content-security-policy': GRAPHIQL_CSP, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
    res.type('html').send(page);
  };
  router.get(GRAPHIQL_PATH, sendPage);
  router.get(options.endpoint, (req, res, next) => (wantsHtml(req) ? sendPage(req, res) : next()));

  router.get(`${GRAPHIQL_ASSETS_PATH}/init.js`, (_req, res) => {
    res.set('cache-control', 'no-cache').type('text/javascript').send(GRAPHIQL_INIT_JS);
  });
  router.get(`${GRAPHIQL_ASSETS_PATH}/page.css`, (_req, res) => {
    res.set('cache-control', 'no-cache').type('text/css').send(GRAPHIQL_PAGE_CSS);
  });
  router.get(`${GRAPHIQL_ASSETS_PATH}/*file`, (req, res, next) => {
    const name = ([] as string[]).concat((req.params as { file: string | string[] }).file).join('/');
    const file = files.get(name);
    if (!file) return next();
    // The bundle is versioned by the installed package; a day of caching is safe and saves 6 MB per load.
    res.sendFile(file, { maxAge: '1d', headers: { 'x-content-type-options': 'nosniff' } }, (err) => {
      if (err) next(err);
    });
  });
  return router;
}
