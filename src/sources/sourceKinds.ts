import type { EmServerConfig, ServerConfig, VboServerConfig } from '../config/loadConfig.js';
import { EmSource } from '../upstream/em/EmSource.js';
import type { Source, SourceKind } from '../upstream/Source.js';
import type { UpstreamClientOptions } from '../upstream/UpstreamClientOptions.js';
import { VboSource } from '../upstream/vbo/VboSource.js';

/** What every adapter is built from besides its config entry. */
export type SourceDeps = Omit<UpstreamClientOptions, 'name' | 'url' | 'username' | 'password' | 'onRequest'> & { publicUrl: string };

type ConfigOf<K extends SourceKind> = Extract<ServerConfig, { kind: K }>;

/**
 * THE table of upstream kinds: each config `kind` and the adapter that implements the source
 * contract for it. Adding a kind is a folder under src/upstream, a row here, and its schema types
 * (docs/architecture.md, "Add an upstream kind"). The mapped type makes a missing row a compile error.
 */
export const SOURCE_KINDS: { [K in SourceKind]: (server: ConfigOf<K>, deps: SourceDeps) => Source } = {
  'enterprise-manager': (server: EmServerConfig, deps) =>
    new EmSource({
      ...deps,
      ...credentials(server),
      format: server.format,
      ...(server.maxUrlLength !== undefined && { maxUrlLength: server.maxUrlLength }),
    }),
  microsoft365: (server: VboServerConfig, deps) => new VboSource({ ...deps, ...credentials(server), apiVersion: server.apiVersion }),
};

function credentials(server: ServerConfig): Pick<UpstreamClientOptions, 'name' | 'url' | 'username' | 'password'> {
  return { name: server.name, url: server.url, username: server.username, password: server.password };
}

/** The adapter for one config entry, through the table. */
export function createSource(server: ServerConfig, deps: SourceDeps): Source {
  const create = SOURCE_KINDS[server.kind] as (server: ServerConfig, deps: SourceDeps) => Source;
  return create(server, deps);
}
