import type { GraphContext } from '../GraphContext.js';
import type { RestoreSessionChangeParent } from '../mappers.js';
import type { LiveEvent } from '../../upstream/Source.js';

/** Events queued for a client when the transport sets no bound. */
export const DEFAULT_QUEUE_SIZE = 256;

/**
 * One parent object per event, whichever subscription it reaches: every subscriber of a server
 * gets the same event object from the feed, and so the same root value, by which the transports
 * share one execution among the subscriptions of the same document and variables.
 */
const parents = new WeakMap<LiveEvent, RestoreSessionChangeParent>();

function parentOf(event: LiveEvent, context: GraphContext): RestoreSessionChangeParent {
  let parent = parents.get(event);
  if (parent === undefined) parents.set(event, (parent = { event, source: context.sourceByName.get(event.source)! }));
  return parent;
}

/**
 * The events of `sources` as one subscription's async iterator: the listener registered on the
 * gateway's live feed pushes into a bounded queue, the transport pulls. Each pulled event renews
 * the context (a request of its own), then passes `keep` (the subscriber's filter, in memory;
 * it may read, e.g. a session's organization). A client that still holds more than `queueSize`
 * events of an earlier poll when the next poll's events come is cut off: its listener leaves, the transport is told (`stream.onOverflow`: it closes that
 * connection) and the iterator ends. Nothing else is affected: other subscribers have queues of
 * their own, and the poller never waits for a client.
 */
export function liveStream(
  context: GraphContext,
  sources: readonly string[],
  keep: (event: LiveEvent) => boolean | Promise<boolean>,
): AsyncIterableIterator<RestoreSessionChangeParent> {
  const limit = context.stream?.queueSize ?? DEFAULT_QUEUE_SIZE;
  // Events come in batches, one per poll of a server (synchronously, in one turn). A batch may be
  // large (500 sessions that started at once) and is never the client's fault; a client still
  // holding more than `limit` events of an earlier batch when the next one comes is slow.
  const queue: { event: LiveEvent; batch: number }[] = [];
  let batch = 0;
  let batchOpen = false;
  let wake: (() => void) | undefined;
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    stop();
    queue.length = 0;
    wake?.();
  };
  const stop = context.live!.listen(sources, (event) => {
    if (ended) return;
    if (!batchOpen) {
      batchOpen = true;
      queueMicrotask(() => {
        batchOpen = false;
        batch++;
      });
    }
    if (queue.length > limit && queue[0]!.batch < batch) {
      end();
      context.stream?.onOverflow(`slow consumer: more than ${limit} events waiting`);
      return;
    }
    queue.push({ event, batch });
    wake?.();
  });

  const iterator: AsyncIterableIterator<RestoreSessionChangeParent> = {
    async next() {
      for (;;) {
        const event = queue.shift()?.event;
        if (event !== undefined) {
          context.renew();
          if (!(await keep(event))) continue;
          return { done: false, value: parentOf(event, context) };
        }
        if (ended) return { done: true, value: undefined };
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
    async return() {
      end();
      return { done: true, value: undefined };
    },
    async throw(err: unknown) {
      end();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
