import type { Scope } from './authSettings.js';

/** Who is calling: an API key's name, a JWT's subject, or `anonymous`. */
export interface Principal {
  /** For logs and rate limits: `key:<name>`, `jwt:<sub>` or `anonymous`. Never a credential. */
  readonly id: string;
  readonly via: 'api-key' | 'jwt' | 'anonymous';
  readonly scopes: ReadonlySet<Scope>;
}

/** Whether `principal` holds `scope`; `admin` includes `read` and `metrics`. */
export function hasScope(principal: Principal, scope: Scope): boolean {
  if (principal.scopes.has(scope)) return true;
  return (scope === 'read' || scope === 'metrics') && principal.scopes.has('admin');
}

/*
 * Apollo Server hands plugins a shallow copy of the context object (`cloneObject` in its
 * `internalExecuteOperation`), so the principal travels as a symbol-keyed property of the context
 * (which a copy keeps) rather than in a map keyed by the object.
 */
const PRINCIPAL = Symbol('veeam-graph principal');

/** Attaches `principal` to a GraphQL context object; returns the object. */
export function withPrincipal<T extends object>(context: T, principal: Principal): T {
  Object.defineProperty(context, PRINCIPAL, { value: principal, enumerable: true });
  return context;
}

/** The principal attached by {@link withPrincipal}, if any. */
export function principalIn(context: unknown): Principal | undefined {
  return typeof context === 'object' && context !== null ? ((context as Record<symbol, unknown>)[PRINCIPAL] as Principal | undefined) : undefined;
}
