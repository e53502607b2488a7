import { context, trace, type Span } from '@opentelemetry/api';
import { gatewayTracer } from './upstreamSpan.js';

/** What a merge step fetched: one answer per server asked. */
interface Fetched {
  source: { name: string };
  batch?: { items: readonly unknown[] };
  error?: unknown;
}

/** What a merge step merged (`mergeSorted`'s result). */
interface Merged {
  items: readonly unknown[];
  hasNextPage: boolean;
  starved: readonly { source: string }[];
}

/** A started merge step; `end` describes what it fetched and, unless every server failed, what the merge made of it. */
export interface MergeStep {
  end(fetched: readonly Fetched[], merged?: Merged): void;
}

const NO_STEP: MergeStep = { end: () => undefined };

/**
 * The span of one step of a merged connection (src/graph/connections/mergedConnection.ts):
 * `merge <connection>`, one per round of asking the servers and k-way merging their answers (the
 * first page plan, then each refetch of servers starved by ties). Attributes: `veeam.connection`
 * (`Query.restoreSessions`; anything after `:` dropped, the id in `BackupServer.restoreSessions:<id>`),
 * `veeam.merge.round`, `veeam.merge.sources` (asked), `veeam.merge.fetched` (items), `veeam.merge.failed`,
 * `veeam.merge.page` (items on the page), `veeam.merge.has_next_page`, `veeam.merge.starved`.
 *
 * A step span is a child of the active span (the operation) but is NOT made active: the upstream
 * calls of a round stay direct children of the operation span, side by side with the step that
 * waited for them (the memory layer may answer them from another request's call, so they are not
 * the step's own work). A no-op, attributes not even computed, when no recording span is active.
 */
export function startMergeStep(connection: string, round: number, asked: readonly { name: string }[]): MergeStep {
  const parentContext = context.active();
  const parent = trace.getSpan(parentContext);
  if (parent === undefined || !parent.isRecording()) return NO_STEP;
  const name = connection.split(':')[0]!;
  const span: Span = gatewayTracer().startSpan(
    `merge ${name}`,
    { attributes: { 'veeam.connection': name, 'veeam.merge.round': round, 'veeam.merge.sources': asked.map((s) => s.name) } },
    parentContext,
  );
  return {
    end(fetched, merged) {
      let items = 0;
      const failed: string[] = [];
      for (const f of fetched) {
        items += f.batch?.items.length ?? 0;
        if (f.error !== undefined) failed.push(f.source.name);
      }
      span.setAttribute('veeam.merge.fetched', items);
      if (failed.length > 0) span.setAttribute('veeam.merge.failed', failed);
      if (merged !== undefined) {
        span.setAttribute('veeam.merge.page', merged.items.length);
        span.setAttribute('veeam.merge.has_next_page', merged.hasNextPage);
        if (merged.starved.length > 0)
          span.setAttribute(
            'veeam.merge.starved',
            merged.starved.map((s) => s.source),
          );
      }
      span.end();
    },
  };
}
