import type { Redis } from 'ioredis';
import type { RedisConnection } from './RedisConnection.js';

/** One {@link RedisPubSub.subscribe} registration. */
export interface Subscription {
  /**
   * Resolves `true` once Redis confirmed the SUBSCRIBE (messages published from then on arrive),
   * `false` if it failed or the pub/sub was closed. Stays pending while Redis is down: the
   * SUBSCRIBE is sent when the subscriber connection comes up.
   */
  readonly ready: Promise<boolean>;
  /** Removes the handler (UNSUBSCRIBE when it was the channel's last). Never rejects. */
  unsubscribe(): Promise<void>;
}

/** Counters of one {@link RedisPubSub}. */
export interface PubSubStats {
  published: number;
  /** Publishes not sent: Redis down, a timeout, a message that would not serialize. */
  dropped: number;
  /** Messages received on a channel with a handler. */
  received: number;
  /** Received messages that were no JSON, plus handler calls that threw. */
  failed: number;
}

/** Options of {@link RedisPubSub}. */
export interface RedisPubSubOptions {
  /** Between the connection's `keyPrefix` and the channel. Default `events:`. */
  namespace?: string;
}

/**
 * JSON messages between replicas over Redis pub/sub. Channels are `keyPrefix + namespace +
 * channel` (ioredis does not prefix channels; we do, so two gateways sharing a Redis do not hear
 * each other).
 *
 * Publishing goes over the command connection: fire and forget, it never queues, so while Redis
 * is down a message is dropped (`publish` resolves `undefined`). Receiving needs a second
 * connection in subscriber mode, created at the first `subscribe`; it reconnects forever and
 * re-subscribes by itself, but what was published while it was disconnected is lost (Redis
 * pub/sub keeps nothing). Use it for hints (e.g. "key X was refreshed"), never for state that
 * must arrive.
 */
export class RedisPubSub {
  private readonly namespace: string;
  private readonly handlers = new Map<string, Set<(message: unknown) => void>>();
  private subscriber: Redis | undefined;
  private closed = false;
  private readonly counters: PubSubStats = { published: 0, dropped: 0, received: 0, failed: 0 };

  constructor(
    private readonly connection: RedisConnection,
    options: RedisPubSubOptions = {},
  ) {
    this.namespace = options.namespace ?? 'events:';
  }

  /**
   * @returns how many subscribers (connections, across replicas) received it, or `undefined` when
   *   it was dropped. Never rejects.
   */
  async publish(channel: string, message: unknown): Promise<number | undefined> {
    if (this.closed || this.connection.state() !== 'up') {
      this.counters.dropped++;
      return undefined;
    }
    try {
      const text = JSON.stringify(message);
      if (text === undefined) throw new Error('not serializable');
      const receivers = await this.connection.client.publish(this.channel(channel), text);
      this.counters.published++;
      return receivers;
    } catch {
      this.counters.dropped++;
      return undefined;
    }
  }

  /** Calls `handler` with every message published on `channel` (parsed JSON) from the moment `ready` resolves. */
  subscribe<T = unknown>(channel: string, handler: (message: T) => void): Subscription {
    if (this.closed) return { ready: Promise.resolve(false), unsubscribe: async () => undefined };
    const full = this.channel(channel);
    const fn = handler as (message: unknown) => void;
    let set = this.handlers.get(full);
    if (set === undefined) {
      set = new Set();
      this.handlers.set(full, set);
    }
    // For a channel already subscribed this SUBSCRIBE is a no-op whose answer confirms `ready`.
    const ready = this.sub()
      .subscribe(full)
      .then(
        () => true,
        () => false,
      );
    set.add(fn);
    let done = false;
    return {
      ready,
      unsubscribe: async () => {
        if (done) return;
        done = true;
        const current = this.handlers.get(full);
        if (current === undefined) return;
        current.delete(fn);
        if (current.size > 0) return;
        this.handlers.delete(full);
        if (this.subscriber !== undefined && !this.closed) await this.subscriber.unsubscribe(full).catch(() => undefined);
      },
    };
  }

  stats(): PubSubStats {
    return { ...this.counters };
  }

  /** Closes the subscriber connection (not the shared command connection). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    const sub = this.subscriber;
    this.subscriber = undefined;
    if (sub === undefined) return;
    if (sub.status === 'ready') {
      await sub.quit().catch(() => sub.disconnect());
    } else {
      sub.disconnect();
    }
  }

  private channel(name: string): string {
    return this.connection.keyPrefix + this.namespace + name;
  }

  private sub(): Redis {
    if (this.subscriber === undefined) {
      const sub = this.connection.createSubscriber();
      sub.on('message', (channel: string, text: string) => this.deliver(channel, text));
      this.subscriber = sub;
    }
    return this.subscriber;
  }

  private deliver(channel: string, text: string): void {
    const set = this.handlers.get(channel);
    if (set === undefined) return;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.counters.failed++;
      return;
    }
    this.counters.received++;
    for (const handler of [...set]) {
      try {
        handler(message);
      } catch {
        this.counters.failed++;
      }
    }
  }
}
