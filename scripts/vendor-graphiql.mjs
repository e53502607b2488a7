#!/usr/bin/env node
// Copies the GraphiQL bundle the gateway serves (src/server/graphiql/graphiqlBundle.ts, its
// GRAPHIQL_BUNDLE_FILES) from the @graphql-yoga/graphiql development dependency into
// dist/graphiql/, with its licence, so the installed package serves GraphiQL without depending on
// @graphql-yoga/graphiql (and its tree of GraphiQL sources, React and graphql 17). Run by
// `npm run build` (postbuild), hence by `npm pack`'s prepack.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { GRAPHIQL_BUNDLE_FILES } = await import(path.join(root, 'dist/src/server/graphiql/graphiqlBundle.js'));
const require = createRequire(path.join(root, 'package.json'));
const source = path.dirname(require.resolve('@graphql-yoga/graphiql'));
const manifest = JSON.parse(readFileSync(path.join(source, '..', 'package.json'), 'utf8'));
const target = path.join(root, 'dist', 'graphiql');
let bytes = 0;
for (const file of GRAPHIQL_BUNDLE_FILES) {
  mkdirSync(path.dirname(path.join(target, file)), { recursive: true });
  copyFileSync(path.join(source, file), path.join(target, file));
  bytes += readFileSync(path.join(target, file)).length;
}
copyFileSync(path.join(source, '..', 'LICENSE'), path.join(target, 'LICENSE'));
writeFileSync(
  path.join(target, 'README.md'),
  `The prebuilt GraphiQL bundle of ${manifest.name} ${manifest.version} (${manifest.license}, see LICENSE), copied at build time by scripts/vendor-graphiql.mjs.\n`,
);
console.log(
  `vendor-graphiql: ${GRAPHIQL_BUNDLE_FILES.length} files of ${manifest.name}@${manifest.version}, ${(bytes / 1e6).toFixed(1)} MB, into dist/graphiql`,
);
