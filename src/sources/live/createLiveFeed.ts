import type { Logger } from 'pino';
import type { LiveEvent, LiveFeed, Source } from '../../upstream/Source.js';
import type { Scheduler } from '../Scheduler.js';
import type { LiveSettings } from './liveDefaults.js';
import { SessionPoller } from './SessionPoller.js';

/** The live feed of a gateway, with what operations and tests look at. */
export interface GatewayLiveFeed extends LiveFeed {
  /** Per server: whether its poller runs, its listeners, running sessions, polls so far. */
  stats(): { source: string; active: boolean; listeners: number; running: number; polls: number }[];
  /** Resolves once no poll is in flight on any server. */
  settled(): Promise<void>;
  /** Stops every poller. */
  close(): void;
}

/**
 * One {@link SessionPoller} per configured server, started by the first listener of that server and
 * stopped after its last: a thousand subscribers of one server cost the polls of one. Each event
 * goes to the listeners of its server, each in its own `try` (one listener's bug is logged and
 * reaches no other).
 */
export function createLiveFeed(sources: readonly Source[], options: { scheduler: Scheduler; settings: LiveSettings; logger: Logger }): GatewayLiveFeed {
  const log = options.logger.child({ component: 'live' });
  const listeners = new Map<string, Set<(event: LiveEvent) => void>>();
  const emit = (event: LiveEvent): void => {
    for (const listener of [...(listeners.get(event.source) ?? [])]) {
      try {
        listener(event);
      } catch (err) {
        log.error({ err, source: event.source }, 'live listener failed');
      }
    }
  };
  const pollers = new Map(sources.map((s) => [s.name, new SessionPoller(s, { scheduler: options.scheduler, settings: options.settings, logger: log, emit })]));
  return {
    listen(names, listener) {
      const mine = [...new Set(names)].filter((n) => pollers.has(n));
      for (const name of mine) {
        let set = listeners.get(name);
        if (set === undefined) listeners.set(name, (set = new Set()));
        set.add(listener);
        if (set.size === 1) {
          log.debug({ source: name }, 'live poller started');
          pollers.get(name)!.start();
        }
      }
      let stopped = false;
      return () => {
        if (stopped) return;
        stopped = true;
        for (const name of mine) {
          // After close() the feed holds no listeners any more.
          const set = listeners.get(name);
          if (set === undefined) continue;
          set.delete(listener);
          if (set.size === 0) {
            log.debug({ source: name }, 'live poller stopped: no listener left');
            pollers.get(name)!.stop();
          }
        }
      };
    },
    stats: () =>
      [...pollers.values()].map((p) => ({
        source: p.source.name,
        active: p.isActive,
        listeners: listeners.get(p.source.name)?.size ?? 0,
        running: p.runningCount,
        polls: p.polls,
      })),
    async settled() {
      await Promise.all([...pollers.values()].map((p) => p.settled()));
    },
    close() {
      for (const p of pollers.values()) p.stop();
      listeners.clear();
    },
  };
}
