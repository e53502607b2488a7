import type { Resolvers } from '../__generated__/resolvers.generated.js';
import type { ConnectionParent } from '../mappers.js';

const nodes = <N>(c: ConnectionParent<N>) => c.edges.map((e) => e.node);
const sourceErrors = <N>(c: ConnectionParent<N>) => c.outcomes.flatMap((o) => (o.error ? [o.error] : []));

/** `nodes` and `sourceErrors` of every merged connection derive from `edges` and `outcomes`. */
export const connectionResolvers: Resolvers = {
  RestoreSessionConnection: { nodes, sourceErrors },
  RestorePointConnection: { nodes, sourceErrors },
  BackupServerConnection: { nodes, sourceErrors },
  OrganizationConnection: { nodes, sourceErrors },
};
