/**
 * Delivery of a cluster pool's chunks to Redis, and what happens while Redis
 * is away: chunks that could not be added wait and go again, a sweep finds
 * chunks Redis no longer knows (their events lost) and adds them again, an
 * `error` event says Redis is unreachable and an `online` event that it is
 * back, when every chunk out is looked up again; after `offlineTimeout`
 * every pending item fails.
 *
 * @module
 */

import { thrownMessage } from "../_checks.ts";
import { systemClock, type TimerId } from "../timers/clock.ts";
import { type Chunk, State } from "./_batch.ts";
import { Link, type LinkListener, type Outgoing } from "./_link.ts";
import { CHUNK_CHARS } from "./_sizes.ts";
import { where } from "./connection.ts";
import { RedisUnavailableError } from "./errors.ts";
import type { ResolvedClusterOptions } from "./options.ts";

/** What delivery needs from the producer. */
export interface DeliveryHost {
  /** The chunks out, by key. */
  readonly chunks: ReadonlyMap<string, Chunk>;
  /** Items submitted and not ended. */
  pending(): number;
  /** Whether the pool is shutting down. */
  closed(): boolean;
  /** Every item of `chunk` still pending fails with `error`. */
  failChunk(chunk: Chunk, error: unknown): void;
  /** Ends every pending item with `reason()`. */
  abandon(reason: () => unknown): void;
  /** Cuts and sends more chunks if the window has room. */
  pump(): void;
  /** `chunks` are in Redis now (they were being added). */
  sent(chunks: Chunk[]): void;
  /** `chunks`, which Redis lost, are to be added again (see `Producer.#again`). */
  again(chunks: Chunk[]): void;
  /** Wakes `wait()` and `asCompleted()`. */
  commit(): void;
  /** Dispatches a pool event. */
  dispatch(event: Event): void;
}

/** Sends chunks, and watches Redis come and go. */
export class Delivery {
  readonly #options: ResolvedClusterOptions;
  readonly #host: DeliveryHost;
  readonly #link: Link;
  /** The producer's handler of a failed chunk, also called for one whose event was lost. */
  readonly #failed: LinkListener["failed"];
  #unsent: Chunk[] = [];
  /** Characters of item JSON in the chunks being added now (see `Chunk.chars`). */
  #adding = 0;
  /** The adds under way: see {@linkcode added}. */
  readonly #sending = new Set<Promise<void>>();
  #closedLink = false;
  // Through systemClock: it waits out delays longer than setTimeout takes.
  #offlineTimer: TimerId | undefined;
  /** Why Redis went away, the last time it did. */
  #outage: unknown;
  #retryTimer: TimerId | undefined;
  #sweepTimer: TimerId | undefined;
  /** Redis refuses writes for want of memory, as a stuck chunk's items fail (see `#stuck`). */
  #full: Error | undefined;

  constructor(
    options: ResolvedClusterOptions,
    host: DeliveryHost,
    events: Pick<LinkListener, "active" | "completed" | "failed">,
  ) {
    this.#options = options;
    this.#host = host;
    this.#failed = events.failed;
    this.#link = new Link(options.queue, options.redis, options, {
      ...events,
      offline: (error) => this.#onOffline(error),
      online: () => this.#onOnline(),
    });
  }

  /** Whether Redis went away after the connection opened: nothing is sent meanwhile. */
  get away(): boolean {
    return this.#link.offline && this.#link.opened;
  }

  /** About how many characters of item JSON are being added to Redis now. */
  get adding(): number {
    return this.#adding;
  }

  /** Starts the sweep if chunks are out and it is not running. */
  sweepSoon(): void {
    this.#sweepTimer ??= this.#host.chunks.size === 0
      ? undefined
      : systemClock.setTimer(this.#sweep, this.#options.sweepInterval);
  }

  /** Removes chunk `key` from Redis if no node took it; returns whether it did. */
  remove(key: string): Promise<boolean> {
    return this.#link.remove(key);
  }

  /** Empties chunk `key`, which a node took, of its items; returns whether Redis had it. */
  empty(key: string): Promise<boolean> {
    return this.#link.empty(key);
  }

  /** Forgets the chunks waiting to be sent again (they were ended). */
  dropUnsent(): void {
    this.#unsent = [];
  }

  /** Stops every timer and closes the connection. */
  async close(): Promise<void> {
    systemClock.clearTimer(this.#offlineTimer);
    systemClock.clearTimer(this.#retryTimer);
    systemClock.clearTimer(this.#sweepTimer);
    this.#closedLink = true;
    await this.#link.close();
  }

  /**
   * Resolves once the adds under way now have ended, and the producer has
   * heard which chunks went in (`sent`): a closing producer waits for it, as
   * chunks whose items all ended while they were being added are taken out,
   * or emptied, only once they are in.
   */
  added(): Promise<unknown> {
    return Promise.allSettled([...this.#sending]);
  }

  /** Adds `chunks` to Redis; while it is away they wait, then go again. */
  send(chunks: Chunk[]): Promise<void> {
    const sending = this.#send(chunks).finally(() => this.#sending.delete(sending));
    this.#sending.add(sending);
    return sending;
  }

  async #send(chunks: Chunk[]): Promise<void> {
    let chars = 0;
    for (const chunk of chunks) chars += chunk.chars;
    this.#adding += chars;
    // Items that come while Redis is away wait at most offlineTimeout, after a give-up too.
    if (this.#link.offline) this.giveUpLater();
    try {
      // An item given up while the link opened (offlineTimeout) must not run after all.
      await this.#link.add(chunks.map(outgoing), (key) => this.#host.chunks.has(key));
      for (const chunk of chunks) if (chunk.state === State.ADDING) chunk.state = State.SENT;
      this.#host.sent(chunks);
    } catch (error) {
      const live = chunks.filter((chunk) => this.#host.chunks.get(chunk.key) === chunk);
      if (this.#link.offline || !this.#host.closed() && isConnectionError(error)) {
        // Sent again when Redis is back (or failed at offlineTimeout).
        this.#unsent.push(...live);
        this.#scheduleRetry();
      } else {
        // Redis's own error: not handed on, as it holds the command and all its data
        // (a database Redis refused is ours, and says which).
        const refused = error === this.#link.refused
          ? error
          : new Error(`Cannot add a chunk to Redis: ${thrownMessage(error)}`);
        for (const chunk of live) this.#host.failChunk(chunk, refused);
        this.#host.commit();
        this.#host.pump(); // the backlog goes on (a failed probe chunk held it)
      }
    } finally {
      this.#adding -= chars;
      // The producer cuts no more while the chunks being added are large: it may go on now.
      if (chars !== 0 && this.#adding + chars >= CHUNK_CHARS) this.#host.pump();
    }
  }

  /**
   * Sends the chunks waiting in `#unsent` again soon: while the link cannot
   * open (Redis down from the start) or is offline, now and then; and once
   * it is up, at once, for a chunk whose add failed after the "online" pass
   * had taken the list (no other pass would come for it). Whoever takes the
   * list first sends it, so a chunk goes once.
   */
  #scheduleRetry(): void {
    if (this.#retryTimer !== undefined || this.#host.closed() && this.#host.pending() === 0) return;
    this.#retryTimer = systemClock.setTimer(() => {
      this.#retryTimer = undefined;
      const unsent = this.#unsent;
      this.#unsent = [];
      if (unsent.length !== 0) void this.send(unsent);
    }, 500);
  }

  /**
   * Looks up the chunks out. One whose event was lost (trimmed from the
   * stream while this producer lagged, or Redis restarted) shows on two
   * sweeps in a row: unknown to Redis (it completed and was removed, or
   * Redis lost it), it is added again; failed (BullMQ keeps failed jobs),
   * its items fail with the reason Redis kept.
   */
  #sweep = async (): Promise<void> => {
    const lost: Chunk[] = [];
    const failed: Chunk[] = [];
    const stuck: Chunk[] = [];
    if (!this.#link.offline) {
      for (const chunk of [...this.#host.chunks.values()]) {
        if (chunk.state === State.ADDING || this.#unsent.includes(chunk)) continue;
        let state: string;
        try {
          state = await this.#link.state(chunk.key);
        } catch {
          break; // offline: the "online" handler looks again
        }
        if (this.#host.chunks.get(chunk.key) !== chunk) continue;
        if (state === "active") {
          try {
            if (await this.#stuck(chunk)) stuck.push(chunk);
          } catch {
            break; // offline: the "online" handler looks again
          }
        } else chunk.stuckSince = undefined;
        chunk.missing = state === "unknown" || state === "failed" ? chunk.missing + 1 : 0;
        if (chunk.missing >= 2) {
          chunk.missing = 0;
          (state === "failed" ? failed : lost).push(chunk);
        }
      }
    }
    for (const chunk of stuck) {
      if (this.#host.chunks.get(chunk.key) === chunk) this.#host.failChunk(chunk, this.#full!);
    }
    // No chunk waits on a refusing Redis any more: the next outage is a new one.
    if (![...this.#host.chunks.values()].some((chunk) => chunk.stuckSince !== undefined)) {
      this.#full = undefined;
    }
    if (stuck.length !== 0) {
      this.#host.commit();
      this.#host.pump();
    }
    if (failed.length !== 0) await this.#failLost(failed);
    if (lost.length !== 0 && !this.#closedLink) {
      this.#host.again(lost);
      await this.send(lost);
    }
    this.#sweepTimer = undefined;
    if (this.#host.chunks.size !== 0 && !this.#closedLink) {
      this.#sweepTimer = systemClock.setTimer(this.#sweep, this.#options.sweepInterval);
    }
  };

  /**
   * Whether `chunk`, which a node took, is stuck: its node no longer holds
   * its lock and Redis refuses writes for want of memory (at its
   * `maxmemory`), so the chunk can neither end nor be handed to another
   * node (BullMQ's stalled check is a write too), and its items would wait
   * for ever. Judged on the sweep after the one that first saw it so, and
   * only after `offlineTimeout` (as a Redis away is): its items then fail
   * with Redis's refusal. An `error` event says so once per outage (until a
   * sweep finds no chunk stuck). If Redis takes writes in time, BullMQ hands
   * the chunk to a node again (it may run twice, as after any lost lock);
   * later, it may run again, its result finding its items ended.
   */
  async #stuck(chunk: Chunk): Promise<boolean> {
    if (await this.#link.lockHeld(chunk.key)) {
      chunk.stuckSince = undefined;
      return false;
    }
    const refusal = await this.#link.refusesWrites();
    if (refusal === null) {
      chunk.stuckSince = undefined;
      this.#full = undefined;
      return false;
    }
    const now = systemClock.now();
    if (chunk.stuckSince === undefined) {
      chunk.stuckSince = now;
      return false;
    }
    if (this.#full === undefined) {
      const timeout = this.#options.offlineTimeout;
      this.#full = new Error(
        `Cannot end a chunk: Redis refuses writes (${
          thrownMessage(refusal)
        }), and the node that took the chunk lost its lock, so it can neither finish it nor hand it to another node until Redis takes writes again; ${
          timeout === Infinity
            ? "its items wait for that (offlineTimeout is Infinity)"
            : `its items fail if it does not within ${timeout} ms (offlineTimeout)`
        }`,
        { cause: refusal },
      );
      this.#host.dispatch(new CustomEvent("error", { detail: this.#full }));
    }
    return now - chunk.stuckSince >= this.#options.offlineTimeout;
  }

  /** Fails `chunks`, which failed in Redis while their events were lost, with the reasons kept there. */
  async #failLost(chunks: Chunk[]): Promise<void> {
    for (const chunk of chunks) {
      let reason: string;
      try {
        reason = await this.#link.failedReason(chunk.key);
      } catch {
        return; // offline: looked at again once Redis is back
      }
      // Its event may have come meanwhile: the producer ends a chunk once.
      if (this.#host.chunks.get(chunk.key) === chunk) this.#failed(chunk.key, reason);
    }
  }

  #onOffline(error: unknown): void {
    const problem = new RedisUnavailableError(where(this.#options.redis), {
      cause: error,
      detail: this.#host.pending() === 0 ? "" : `; ${this.#host.pending()} items wait for it`,
    });
    const logLevel = this.#options.logLevel;
    if (logLevel !== undefined) {
      // deno-lint-ignore no-console
      console[logLevel](`fastpool: ${problem.message}`);
    }
    this.#host.dispatch(new CustomEvent("error", { detail: problem }));
    this.#outage = error;
    this.giveUpLater();
  }

  /**
   * Gives up the pending items `offlineTimeout` ms from now if Redis is
   * still away then: armed when it goes, and again when items are sent while
   * it is away after a give-up (they waited for ever, and `shutdown()` with them).
   */
  giveUpLater(): void {
    if (this.#offlineTimer !== undefined || this.#options.offlineTimeout === Infinity) return;
    const error = this.#outage;
    this.#offlineTimer = systemClock.setTimer(() => {
      this.#offlineTimer = undefined;
      if (!this.#link.offline) return;
      const timeout = this.#options.offlineTimeout;
      this.#host.abandon(() =>
        new RedisUnavailableError(where(this.#options.redis), {
          cause: error,
          detail: `; gave up after ${timeout} ms (offlineTimeout)`,
        })
      );
    }, this.#options.offlineTimeout);
  }

  /**
   * Redis is back. It may have restarted without its data: every chunk out
   * is looked up, and one it no longer knows is added again (it runs again:
   * execution is at least once; a result of its first run that still
   * arrives finds its items ended); one that failed meanwhile, its event
   * lost, fails here. Chunks whose add went unanswered are added again too.
   * If Redis goes away again meanwhile, they wait in `#unsent` for the next
   * "online" (which looks every chunk up again): taken from there only once
   * they are sent, none is left behind being added (skipped by every pass
   * and sweep, its items never ended).
   */
  async #onOnline(): Promise<void> {
    systemClock.clearTimer(this.#offlineTimer);
    this.#offlineTimer = undefined;
    this.#host.dispatch(new CustomEvent("online"));
    const lost: Chunk[] = [];
    const failed: Chunk[] = [];
    // The same Redis run kept what it held (a connection cut): a chunk it no
    // longer knows most likely completed, its event not read yet (the events
    // connection may come back later than this one). The sweep judges those
    // with its two looks; added again now, they ran twice.
    const kept = !await this.#link.restarted();
    for (const chunk of [...this.#host.chunks.values()]) {
      if (chunk.state === State.ADDING || this.#unsent.includes(chunk)) continue;
      let state: string;
      try {
        state = await this.#link.state(chunk.key);
      } catch {
        if (this.#link.offline) break; // the next "online" looks again
        continue; // Redis's own error: the sweep looks again
      }
      if (this.#host.chunks.get(chunk.key) !== chunk) continue;
      if (state === "unknown") {
        if (!kept) lost.push(chunk);
      } else if (state === "failed") failed.push(chunk);
    }
    if (kept) this.sweepSoon();
    if (failed.length !== 0) await this.#failLost(failed);
    if (!this.#link.offline && !this.#closedLink) {
      // One that went back to `#unsent` after it was looked up is sent once.
      const resend = [...new Set([...this.#unsent, ...lost])];
      this.#unsent = [];
      if (resend.length !== 0) {
        this.#host.again(resend);
        await this.send(resend);
      }
    }
    this.#host.pump(); // the backlog held while Redis was away (nothing while it still is)
  }
}

function outgoing(chunk: Chunk): Outgoing {
  return { key: chunk.key, task: chunk.batch.task, data: chunk.data };
}

function isConnectionError(error: unknown): boolean {
  const text = `${(error as { code?: string })?.code ?? ""} ${(error as Error)?.message ?? ""}`;
  return /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Connection is closed|max retries|connect/i
    .test(text);
}
