import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { GraphQLError, Kind, parse, print, type DocumentNode } from 'graphql';
import { z } from 'zod';

/**
 * The trusted documents (operation allowlist) of config `operations.allowlist`: the operations the
 * production frontends shipped, by the SHA-256 of their text.
 *
 * Matching, decided here once for the plugin and the APQ cache:
 * - **Exact text first.** A document is listed when the lowercase hex SHA-256 of its UTF-8 text,
 *   exactly as sent, is a listed hash. That is the hash Apollo's APQ protocol uses
 *   (`extensions.persistedQuery.sha256Hash`), Apollo's persisted query manifest `id`, and GraphQL
 *   Code Generator's `persistedDocuments` key, so a client may send the hash alone.
 * - **Then the normalized form.** A document whose graphql-js `print(parse(document))` equals that
 *   of a listed document is listed too, under that document's hash: a client that re-prints its
 *   documents (different whitespace, commas, comments, `query { a }` for `{ a }`) still matches.
 *   This widens nothing: `print` is a canonical rendering of the syntax tree, so two documents
 *   with the same printed form are the same operations with the same fields and arguments
 *   (Apollo Router's safelisting matches on normalized body text for the same reason). Field
 *   order, aliases, `__typename`s and operation names are not normalized: those change the
 *   operation or its result, and the frontend's build is what must produce them.
 */
export interface Allowlist {
  /** Number of distinct listed documents. */
  readonly size: number;
  /** Whether `hash` (SHA-256 hex, either case) is the hash of a listed document's exact text. */
  has(hash: string): boolean;
  /** The listed document of `hash` (SHA-256 hex, either case), as listed. */
  documentOf(hash: string): string | undefined;
  /** Lowercase hex SHA-256 of `document`'s UTF-8 text as given (no normalization): the APQ hash. */
  hashOf(document: string): string;
  /**
   * The hash of the listed document whose normalized form (`print(parse(...))`) equals
   * `document`'s; `undefined` when there is none or `document` does not parse. Pass the parsed
   * document when there is one, to save a parse.
   */
  normalizedMatch(document: string | DocumentNode): string | undefined;
  /**
   * The hash of the listed document `source` stands for: its own hash when listed, else the
   * normalized match; `undefined` when `source` is not allowlisted. `document` is `source` parsed,
   * when the caller already has it.
   */
  match(source: string, document?: DocumentNode): string | undefined;
}

/** A bad allowlist file. `problems` are complete sentences, each starting with the file's base name. */
export class AllowlistError extends Error {
  override name = 'AllowlistError';
  constructor(
    /** The file as given to {@link loadAllowlist}. */
    readonly file: string,
    readonly problems: string[],
  ) {
    const shown = problems.slice(0, MAX_PROBLEMS_IN_MESSAGE);
    const more = problems.length - shown.length;
    super(`${shown.join('; ')}${more > 0 ? `; and ${more} more problem${more === 1 ? '' : 's'}` : ''}`);
  }
}

/** Problems spelled out in an {@link AllowlistError}'s message (all of them are in `problems`). */
const MAX_PROBLEMS_IN_MESSAGE = 5;

/** The `format` of Apollo's persisted query manifest (`@apollo/generate-persisted-query-manifest`). */
export const APOLLO_MANIFEST_FORMAT = 'apollo-persisted-query-manifest';

const SHA256_HEX = /^[0-9a-f]{64}$/i;

/** Lowercase hex SHA-256 of a string's UTF-8 bytes: Apollo Server's APQ hash (`computeQueryHash`). */
export function documentHash(document: string): string {
  return createHash('sha256').update(document, 'utf8').digest('hex');
}

/** The normalized form documents are also matched on: graphql-js's canonical printing. */
function normalize(document: DocumentNode): string {
  return print(document);
}

const apolloManifestSchema = z.object({
  format: z.literal(APOLLO_MANIFEST_FORMAT),
  version: z.literal(1),
  operations: z.array(
    z.object({
      id: z.string(),
      // Produced by the generator; optional so a hand-written manifest needs only id and body.
      name: z.string().optional(),
      type: z.enum(['query', 'mutation', 'subscription']).optional(),
      body: z.string(),
    }),
  ),
});
const documentMapSchema = z.record(z.string(), z.string());
const documentArraySchema = z.array(z.string());

/** One listed document, with where it came from (for messages) and the hash the file claims, if any. */
interface Entry {
  at: string;
  bodyAt: string;
  claimed: string | undefined;
  claimedAt: string;
  document: string;
}

/** `operations[3].id`, `[2]`, `["0a1b…"]`: a zod path as a reader would point at it. */
function formatPath(segments: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (typeof s === 'string' && /^[A-Za-z_$][\w$]*$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(shorten(String(s)))}]`;
  }
  return out || '(root)';
}

function shorten(text: string, max = 72): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function zodProblems(error: z.ZodError, prefix: ReadonlyArray<PropertyKey> = []): string[] {
  return error.issues.map((i) => `${formatPath([...prefix, ...i.path])}: ${i.message}`);
}

/** Which of the three formats `raw` is, and its entries; or what is wrong with its shape. */
function entriesOf(raw: unknown): { entries: Entry[]; problems: string[] } {
  if (Array.isArray(raw)) {
    const parsed = documentArraySchema.safeParse(raw);
    if (!parsed.success) return { entries: [], problems: zodProblems(parsed.error) };
    return { entries: parsed.data.map((document, i) => ({ at: `[${i}]`, bodyAt: `[${i}]`, claimed: undefined, claimedAt: `[${i}]`, document })), problems: [] };
  }
  if (raw === null || typeof raw !== 'object') {
    return {
      entries: [],
      problems: [
        `expected an Apollo persisted query manifest, a { "<sha256>": "<document>" } map or an array of documents, got ${raw === null ? 'null' : typeof raw}`,
      ],
    };
  }
  if ('format' in raw || 'operations' in raw) {
    const parsed = apolloManifestSchema.safeParse(raw);
    if (!parsed.success) return { entries: [], problems: zodProblems(parsed.error) };
    return {
      entries: parsed.data.operations.map((op, i) => ({
        at: `operations[${i}]`,
        bodyAt: `operations[${i}].body`,
        claimed: op.id,
        claimedAt: `operations[${i}].id`,
        document: op.body,
      })),
      problems: [],
    };
  }
  const parsed = documentMapSchema.safeParse(raw);
  if (!parsed.success) return { entries: [], problems: zodProblems(parsed.error) };
  return {
    entries: Object.entries(parsed.data).map(([key, document]) => {
      const at = `key ${JSON.stringify(shorten(key))}`;
      return { at, bodyAt: at, claimed: key, claimedAt: at, document };
    }),
    problems: [],
  };
}

/** Why `hash` is not a SHA-256 hex digest, with a hint for the usual other digests. */
function notSha256(hash: string): string {
  const hint =
    /^[0-9a-f]{32}$/i.test(hash) || /^[0-9a-f]{40}$/i.test(hash)
      ? ` (this looks like an ${hash.length === 32 ? 'MD5' : 'SHA-1'} digest: generate SHA-256 ids, e.g. Relay's persistConfig.algorithm "SHA256" or GraphQL Code Generator's persistedDocuments.hashAlgorithm "sha256")`
      : '';
  return `expected a SHA-256 hex digest (64 hex characters)${hint}`;
}

function syntaxProblem(err: unknown): string {
  if (err instanceof GraphQLError) {
    const loc = err.locations?.[0];
    return `${err.message}${loc ? ` (line ${loc.line}, column ${loc.column})` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * Builds an {@link Allowlist} from a parsed allowlist file, in any of the formats the field
 * produces:
 * - Apollo's persisted query manifest (`@apollo/generate-persisted-query-manifest`):
 *   `{ "format": "apollo-persisted-query-manifest", "version": 1, "operations": [{ "id", "name", "type", "body" }] }`;
 * - a `{ "<sha256 hex>": "<document>" }` map (GraphQL Code Generator client-preset
 *   `persisted-documents.json`, Relay's `persistConfig` with SHA-256);
 * - a plain array of document strings (their hashes computed).
 *
 * Every claimed hash (manifest `id`, map key) is checked against the SHA-256 of its document, and
 * every document must parse as GraphQL and define at least one operation.
 *
 * @param label names the source in messages (loadAllowlist passes the file's base name)
 * @throws AllowlistError listing every problem, each starting with `label`
 */
export function createAllowlist(raw: unknown, label: string, file: string = label): Allowlist {
  const { entries, problems } = entriesOf(raw);
  const byHash = new Map<string, string>();
  const byNormalized = new Map<string, string>();
  for (const entry of entries) {
    const hash = documentHash(entry.document);
    if (entry.claimed !== undefined) {
      if (!SHA256_HEX.test(entry.claimed)) {
        problems.push(`${entry.claimedAt}: ${notSha256(entry.claimed)}`);
        continue;
      }
      if (entry.claimed.toLowerCase() !== hash) {
        const what = entry.claimedAt === entry.bodyAt ? 'its document' : 'its body';
        problems.push(`${entry.claimedAt} does not match the sha256 of ${what} (${hash})`);
        continue;
      }
    }
    let parsed: DocumentNode;
    try {
      parsed = parse(entry.document, { noLocation: true });
    } catch (err) {
      problems.push(`${entry.bodyAt}: not a GraphQL document: ${syntaxProblem(err)}`);
      continue;
    }
    if (!parsed.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION)) {
      problems.push(`${entry.bodyAt}: defines no operation (only fragments)`);
      continue;
    }
    byHash.set(hash, entry.document);
    const normalized = normalize(parsed);
    // Two listed spellings of one document: either's normalized form leads to the first.
    if (!byNormalized.has(normalized)) byNormalized.set(normalized, hash);
  }
  if (!problems.length && !byHash.size) problems.push('lists no operations');
  if (problems.length)
    throw new AllowlistError(
      file,
      problems.map((p) => `${label}: ${p}`),
    );

  const normalizedMatch = (document: string | DocumentNode): string | undefined => {
    let parsed: DocumentNode;
    if (typeof document === 'string') {
      try {
        parsed = parse(document, { noLocation: true });
      } catch {
        return undefined;
      }
    } else parsed = document;
    return byNormalized.get(normalize(parsed));
  };
  return {
    size: byHash.size,
    has: (hash) => byHash.has(hash.toLowerCase()),
    documentOf: (hash) => byHash.get(hash.toLowerCase()),
    hashOf: documentHash,
    normalizedMatch,
    match(source, document) {
      const hash = documentHash(source);
      if (byHash.has(hash)) return hash;
      return normalizedMatch(document ?? source);
    },
  };
}

/**
 * Reads and checks the allowlist file of config `operations.allowlist` (JSON; see
 * {@link createAllowlist} for the formats and {@link Allowlist} for how documents match).
 *
 * @throws AllowlistError whose message starts with the file's base name and the problem, naming
 *   the entry or key (`persisted.json: operations[3].id does not match the sha256 of its body (…)`);
 *   the config layer prefixes the key path (`operations.allowlist: `).
 */
export async function loadAllowlist(file: string): Promise<Allowlist> {
  const base = path.basename(file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new AllowlistError(file, [`${base}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    // V8 quotes a piece of the text ("...is not valid JSON"): drop it, a document can be long.
    const reason = (err as Error).message.replace(/,\s*(\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, '');
    throw new AllowlistError(file, [`${base}: not valid JSON: ${reason}`]);
  }
  return createAllowlist(raw, base, file);
}
