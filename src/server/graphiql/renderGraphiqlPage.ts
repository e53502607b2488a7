import type { ExampleQuery } from './exampleQueries.js';

/** Where the page finds things; every URL is same-origin (a path). */
export interface GraphiqlPageOptions {
  /** GraphQL endpoint path, e.g. `/graphql`. */
  endpoint: string;
  /** GraphQL over SSE path (`graphql-sse`, distinct connections) GraphiQL sends subscriptions to, e.g. `/graphql/stream`. */
  subscriptionsEndpoint: string;
  /** Path the bundle, CSS, init script and Monaco workers are served under, e.g. `/graphiql/assets`. */
  assets: string;
  title: string;
  examples: ExampleQuery[];
}

/**
 * Content-Security-Policy of the page: everything from this origin only. Monaco injects `<style>`
 * elements and React sets style attributes, hence `'unsafe-inline'` for styles (never scripts);
 * fonts and icons are `data:` URIs inside graphiql.css; Monaco workers are same-origin scripts
 * (`blob:` is Monaco's fallback worker loader). `connect-src 'self'` is what makes "no request
 * to any other host" hold even if a future bundle tried.
 */
export const GRAPHIQL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** JSON for a `<script type="application/json">` block: `<` escaped so no value can close the tag. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The GraphiQL page. It holds no inline script (the CSP forbids them): configuration travels as
 * a JSON data block that `init.js` reads.
 */
export function renderGraphiqlPage(options: GraphiqlPageOptions): string {
  const config = {
    endpoint: options.endpoint,
    subscriptionsEndpoint: options.subscriptionsEndpoint,
    assets: options.assets,
    title: options.title,
    tabs: options.examples.map((e) => ({ query: e.query, ...(e.variables ? { variables: JSON.stringify(e.variables, null, 2) } : {}) })),
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${options.assets}/graphiql.css">
<link rel="stylesheet" href="${options.assets}/page.css">
</head>
<body>
<div id="graphiql"><p class="loading">Loading GraphiQL&hellip;</p></div>
<script id="graphiql-config" type="application/json">${scriptJson(config)}</script>
<script src="${options.assets}/yoga-graphiql.umd.js"></script>
<script src="${options.assets}/init.js"></script>
</body>
</html>
`;
}

/** Page layout: GraphiQL fills the window. */
export const GRAPHIQL_PAGE_CSS = `html, body { height: 100%; margin: 0; overflow: hidden; }
#graphiql { height: 100vh; }
#graphiql > .graphiql-container { height: 100%; }
.loading { font: 16px system-ui, sans-serif; padding: 2rem; color: #555; }
`;

/**
 * Starts GraphiQL: Monaco's workers come from the gateway (the prebuilt classic-script bundles of
 * @graphql-yoga/graphiql), then the bundle renders against the endpoint with the example tabs.
 *
 * The first tab's query and variables go in twice, as `defaultTabs[0]` and as `initialQuery` /
 * `initialVariables`, on purpose. GraphiQL fills the tab list from `defaultTabs` (or from the
 * tabs in localStorage) but creates the editors with `initialQuery` / `initialVariables`, and the
 * Yoga wrapper always sets `initialQuery` (to `?query=` from the URL, else to its "Welcome to ..."
 * comment). Left to the wrapper, a fresh profile showed the welcome comment in the first tab while
 * that tab held the example: Run parsed the comment ("Syntax Error: Unexpected <EOF>"), and the
 * example appeared only after switching tabs. Passed explicitly (both, so the variables of an
 * earlier tab in localStorage cannot pair with this query), the editors and the active tab agree
 * on every load: a fresh profile opens on the first example; with tabs in localStorage GraphiQL
 * activates the stored tab holding that example (or adds it when the user edited it), and keeps
 * the other stored tabs. `onEditQuery` replaces the wrapper's, which copied each edit into the
 * address bar as `?query=`, a parameter this page does not read.
 *
 * GraphiQL renders once Roboto (its UI font, `font-display: swap`, a data: URI in graphiql.css) is
 * loaded. Rendered before, the tab titles change width when the font swaps in; the tab bar's drag
 * constraints (framer-motion's Reorder) then rescale and leave tabs with a stale `translateX`
 * that graphiql.css hides until a tab has focus. The first mouse click on another tab focused it,
 * the tab jumped under the pointer, and the click was lost.
 *
 * Subscriptions go over GraphQL over SSE (`subscriptionsProtocol: 'GRAPHQL_SSE'`, the `graphql-sse`
 * distinct-connections mode) to `config.subscriptionsEndpoint` (`/graphql/stream`): plain
 * same-origin HTTP, so `connect-src 'self'` lets it through and the Headers tab's headers
 * (`Authorization`) travel with it as with queries (a WebSocket could carry them only in
 * `connection_init`). Three settings make it so, each needed:
 * - `subscriptionsEndpoint`: the Yoga wrapper defaults it to the GraphQL endpoint itself, where a
 *   subscription is refused.
 * - `endpoint` is a function that picks the URL per request. The wrapper hands all its options to
 *   its HTTP executor (@graphql-tools/executor-http) after the URL it chose, so a string `endpoint`
 *   overrides `subscriptionsEndpoint` and every subscription went to `/graphql` (406). A function
 *   is the executor's own per-request form (`endpoint(executionRequest)`); the wrapper itself reads
 *   `endpoint` as a string, hence `toString`.
 * - `method: 'POST'`: the executor sends subscriptions as `GET ?query=...` otherwise. POST keeps the
 *   document out of URLs and access logs, and is what the gateway documents; queries are POSTs
 *   either way.
 */
export const GRAPHIQL_INIT_JS = `(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('graphiql-config').textContent);
  var workers = { graphql: 'graphql.worker..bundle.js', json: 'json.worker.bundle.js' };
  self.MonacoEnvironment = {
    getWorker: function (_moduleId, label) {
      return new Worker(config.assets + '/monacoeditorwork/' + (workers[label] || 'editor.worker.bundle.js'), { name: label });
    }
  };
  var endpointUrl = new URL(config.endpoint, location.href).href;
  var subscriptionsUrl = new URL(config.subscriptionsEndpoint, location.href).href;
  function isSubscription(request) {
    if (request && request.operationType) return request.operationType === 'subscription';
    var definitions = (request && request.document && request.document.definitions) || [];
    return definitions.some(function (d) {
      return d.kind === 'OperationDefinition' && d.operation === 'subscription' && (!request.operationName || (d.name && d.name.value === request.operationName));
    });
  }
  // Per request: subscriptions to the SSE endpoint, everything else to the GraphQL endpoint (see above).
  function endpoint(request) {
    return isSubscription(request) ? subscriptionsUrl : endpointUrl;
  }
  endpoint.toString = function () {
    return endpointUrl;
  };
  var options = {
    endpoint: endpoint,
    title: config.title,
    logo: '',
    shouldPersistHeaders: false,
    subscriptionsProtocol: 'GRAPHQL_SSE',
    subscriptionsEndpoint: subscriptionsUrl,
    method: 'POST',
    onEditQuery: function () {}
  };
  var first = config.tabs[0];
  if (first) {
    options.defaultTabs = config.tabs;
    options.initialQuery = first.query;
    options.initialVariables = first.variables || '';
    options.initialHeaders = '';
  }
  var started = false;
  function start() {
    if (started) return;
    started = true;
    window.YogaGraphiQL.renderYogaGraphiQL(document.getElementById('graphiql'), options);
  }
  // Roboto first, then GraphiQL (see above); a font that never settles delays the page 3 s at most.
  var fonts = document.fonts ? ['400 1em Roboto', '500 1em Roboto'].map(function (f) { return document.fonts.load(f); }) : [];
  Promise.all(fonts).then(start, start);
  setTimeout(start, 3000);
})();
`;
