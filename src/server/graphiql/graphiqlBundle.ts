import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The files of @graphql-yoga/graphiql's prebuilt bundle (GraphiQL, React, Monaco, the explorer plugin) the page loads, relative to its `dist/`. */
export const GRAPHIQL_BUNDLE_FILES = [
  'yoga-graphiql.umd.js',
  'graphiql.css',
  'monacoeditorwork/editor.worker.bundle.js',
  'monacoeditorwork/graphql.worker..bundle.js',
  'monacoeditorwork/json.worker.bundle.js',
] as const;

/**
 * The installed package's own copy of the bundle, `dist/graphiql/` (scripts/vendor-graphiql.mjs
 * writes it at build time). The package ships these few files instead of depending on
 * @graphql-yoga/graphiql, whose tree (GraphiQL's sources, React, graphql 17...) is most of an
 * install and warns on Node 20 (EBADENGINE, ERESOLVE) though only its `dist/` is ever served.
 */
const VENDORED = fileURLToPath(new URL('../../../graphiql/', import.meta.url));

/**
 * Where the bundle is: the vendored copy beside the built code (an installed package), else
 * @graphql-yoga/graphiql itself, a development dependency, through Node's resolver (a clone).
 */
export function graphiqlBundleDir(): string {
  if (existsSync(path.join(VENDORED, GRAPHIQL_BUNDLE_FILES[0]))) return VENDORED;
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@graphql-yoga/graphiql'));
}
