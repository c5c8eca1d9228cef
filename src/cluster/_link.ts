/**
 * The producer's link to Redis: one BullMQ `Queue` (to add and remove
 * chunks) and one `QueueEvents` (to hear them start, complete and fail),
 * opened on first use, watched for outages, and closed once.
 *
 * @module
 */

import { Queue, QueueEvents } from "bullmq";
import { thrownMessage } from "../_checks.ts";
import { settlesWithin, systemClock, type TimerId } from "../timers/clock.ts";
import { type ChunkData, emptied } from "./_wire.ts";
import { checkDatabase, type RedisOptions } from "./connection.ts";

/** Events kept in the queue's stream (BullMQ trims it, approximately). */
export const EVENTS_MAX_LEN = 2000;

/**
 * How long a command (chunks added, a chunk's state looked up, the
 * connections' `QUIT` at close) may go unanswered before Redis counts as
 * away. A Redis that keeps its connections but does not answer (a frozen
 * server, a network that drops packets) sends no "error" or "close" to say
 * so; without this, items never reached `offlineTimeout` and `shutdown()`
 * never returned. Chunks whose add went unanswered are added again once
 * Redis answers (a chunk id is added once; it runs at least once).
 */
export const SILENT_MS = 10_000;

/** What the link tells its pool. */
export interface LinkListener {
  /** A node took chunk `key`. */
  active(key: string): void;
  /** Chunk `key` completed with `result` (the job's return value). */
  completed(key: string, result: unknown): void;
  /** Chunk `key` failed for good (attempts exhausted, or stalled too often). */
  failed(key: string, reason: string): void;
  /** Redis went away (`error` says why). */
  offline(error: unknown): void;
  /** Redis is back after an outage. */
  online(): void;
}

/** One chunk to add: its BullMQ job id, task name and data. */
export interface Outgoing {
  key: string;
  task: string;
  data: ChunkData;
}

/** BullMQ job options every chunk carries. */
export interface ChunkOptions {
  attempts: number;
  backoff: { type: "fixed" | "exponential"; delay: number } | undefined;
}

interface Client {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  xrevrange(key: string, end: string, start: string, count: "COUNT", n: number): Promise<
    [string, string[]][]
  >;
  info(section: string): Promise<string>;
  exists(key: string): Promise<number>;
  set(key: string, value: string, px: "PX", ms: number): Promise<unknown>;
}

/** The producer's BullMQ objects. */
export class Link {
  readonly #name: string;
  readonly #redis: RedisOptions;
  readonly #listener: LinkListener;
  readonly #jobOptions: Record<string, unknown>;
  #queue: Queue | null = null;
  #events: QueueEvents | null = null;
  #client: Client | null = null;
  /** The Redis server's `run_id` when last looked at (see {@linkcode Link.restarted}). */
  #runId: string | null = null;
  #opening: Promise<Queue> | null = null;
  #closed = false;
  #offline = false;
  /** Offline because a command went unanswered (not a closed connection): its answer brings it back. */
  #silenced = false;
  /** Why Redis refused the connection's options for good (a database it does not have). */
  #refused: Error | null = null;
  /** Ends the database check while it waits for an unreachable Redis. */
  #cutCheck: (() => void) | null = null;

  constructor(name: string, redis: RedisOptions, options: ChunkOptions, listener: LinkListener) {
    this.#name = name;
    this.#redis = redis;
    this.#listener = listener;
    this.#jobOptions = {
      attempts: options.attempts,
      ...(options.backoff ? { backoff: options.backoff } : {}),
      removeOnComplete: true,
      removeOnFail: { count: 1000 },
    };
  }

  /** Whether Redis is known to be unreachable now. */
  get offline(): boolean {
    return this.#offline;
  }

  /** Why Redis refused this link for good (a database it does not have), if it did. */
  get refused(): Error | null {
    return this.#refused;
  }

  /** Whether the link was ever opened. */
  get opened(): boolean {
    return this.#opening !== null;
  }

  /**
   * Adds chunks as BullMQ jobs, in one round trip, once the link is open:
   * those `live` no longer keeps (given up while it opened) are left out.
   */
  async add(chunks: Outgoing[], live: (key: string) => boolean): Promise<void> {
    // Timed too: a Redis that takes connections but never answers, from the
    // start, would keep the open (and the items) waiting for ever, unseen.
    const queue = await this.#answered(this.#open());
    chunks = chunks.filter((chunk) => live(chunk.key));
    if (chunks.length === 0) return;
    // Unanswered, it is sent again once Redis answers: a chunk id is added once.
    await this.#answered(queue.addBulk(
      chunks.map((chunk) => ({
        name: chunk.task,
        data: chunk.data,
        opts: { ...this.#jobOptions, jobId: chunk.key },
      })),
    ));
  }

  /** Removes a chunk no node has taken; `true` if it was removed. */
  async remove(key: string): Promise<boolean> {
    if (this.#queue === null) return false;
    try {
      return (await this.#queue.remove(key)) === 1;
    } catch {
      return false;
    }
  }

  /**
   * Empties chunk `key`, which a node has taken, of its items (see
   * {@linkcode emptied}); `true` if Redis still had it.
   */
  async empty(key: string): Promise<boolean> {
    if (this.#queue === null) return false;
    try {
      const job = await this.#queue.getJob(key);
      if (job === undefined) return false;
      await job.updateData(emptied(job.data as ChunkData));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Whether the Redis server is another run than the one last looked at
   * (its `run_id`: a restart, which may have lost what it held), or cannot
   * say (Redis away again). Never throws; the first look records the run,
   * and says `true`. (BullMQ itself needs `INFO`: a user whose ACL refuses it
   * never gets this far.)
   */
  async restarted(): Promise<boolean> {
    if (this.#client === null) return true;
    let runId: string | undefined;
    try {
      const info = await this.#answered(this.#client.info("server"));
      runId = /^run_id:(\S+)/m.exec(info)?.[1];
    } catch {
      return true;
    }
    const before = this.#runId;
    this.#runId = runId ?? null;
    return runId === undefined || before !== runId;
  }

  /** BullMQ's state of chunk `key` ("unknown" once Redis lost it, or it completed and was removed). */
  async state(key: string): Promise<string> {
    const queue = await this.#answered(this.#open());
    return await this.#answered(queue.getJobState(key));
  }

  /** Whether the lock of chunk `key`, which a node took, is still held (renewed by that node). */
  async lockHeld(key: string): Promise<boolean> {
    const queue = await this.#answered(this.#open());
    const client = (await queue.client) as unknown as Client;
    return await this.#answered(client.exists(`${queue.toKey(key)}:lock`)) === 1;
  }

  /**
   * Redis's refusal of a write for want of memory (an `OOM` error at its
   * `maxmemory`), or `null` if it takes one: a key of this queue, set for a
   * second. Throws if Redis is away or refuses it for another reason.
   */
  async refusesWrites(): Promise<Error | null> {
    const queue = await this.#answered(this.#open());
    const client = (await queue.client) as unknown as Client;
    try {
      await this.#answered(client.set(queue.toKey("fastpool:write-check"), "1", "PX", 1000));
      return null;
    } catch (error) {
      if (/^OOM /.test(thrownMessage(error))) return error as Error;
      throw error; // away, or another refusal: the sweep stops there
    }
  }

  /** Why chunk `key` failed, as BullMQ keeps it, or "" when Redis no longer knows it. */
  async failedReason(key: string): Promise<string> {
    const queue = await this.#open();
    return (await queue.getJob(key))?.failedReason ?? "";
  }

  /** Closes both connections; the link cannot open again. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#cutCheck?.();
    if (this.#queue !== null && this.#client === null) await settled(this.#queue);
    this.#client?.off("ready", this.#onReady);
    this.#client?.off("close", this.#onClose);
    const closing = Promise.allSettled([this.#events?.close(), this.#queue?.close()]);
    if (!this.#offline && await settlesWithin(systemClock, closing, SILENT_MS)) return;
    // Redis is away: BullMQ's QUIT waits in each client's offline queue (behind
    // a withdrawal, say) for ~20 retries (~20 s), then BullMQ gives up on a
    // client that goes on reconnecting for ever and keeps the program alive;
    // a Redis that does not answer holds it for ever. Cut both connections
    // instead: no retry, no timer; what waited never settles, and nothing
    // waits for it.
    for (const owner of [this.#queue, this.#events]) rawClient(owner)?.disconnect();
  }

  /**
   * `command`'s answer; past `SILENT_MS` without one, Redis counts as away
   * (and the command fails), until that answer comes.
   */
  async #answered<T>(command: Promise<T>): Promise<T> {
    let timer: TimerId | undefined;
    const silent = new Promise<never>((_, reject) => {
      timer = systemClock.setTimer(
        () => {
          const error = new Error(`Cannot reach Redis: it did not answer for ${SILENT_MS} ms`);
          if (!this.#offline) this.#silenced = true;
          this.#goOffline(error);
          reject(error);
          void command.then(this.#onAnswer, () => {});
        },
        SILENT_MS,
        { unref: true },
      );
    });
    try {
      return await Promise.race([command, silent]);
    } finally {
      systemClock.clearTimer(timer);
    }
  }

  #onAnswer = (): void => {
    if (!this.#silenced) return;
    this.#silenced = false;
    this.#onReady();
  };

  /**
   * Opens the queue, then the events reader from the stream's current end,
   * so that no event of a chunk added after this can be missed. A failure
   * (Redis unreachable) closes what was opened, so the next call tries again.
   */
  #open(): Promise<Queue> {
    if (this.#closed) return Promise.reject(new Error("Cannot reach Redis: the pool is closed"));
    if (this.#refused !== null) return Promise.reject(this.#refused);
    this.#opening ??= this.#connect().catch((error) => {
      this.#opening = null;
      if (error !== this.#refused) this.#goOffline(error);
      throw error;
    });
    return this.#opening;
  }

  async #connect(): Promise<Queue> {
    try {
      await checkDatabase(this.#redis, "add items", this.#onError, (cut) => this.#cutCheck = cut);
    } catch (error) {
      if (error instanceof RangeError) this.#refused = error; // for good: no reconnect helps
      throw error;
    } finally {
      this.#cutCheck = null;
    }
    if (this.#closed) throw new Error("Cannot reach Redis: the pool is closed");
    // While Redis is unreachable, `queue.client` waits for it (the client
    // reconnects); the "error" events say so meanwhile.
    const queue = new Queue(this.#name, {
      connection: { ...this.#redis },
      // Completed events carry chunk results: keep fewer than BullMQ's
      // 10,000, so Redis holds at most ~500 chunks' results in the stream.
      streams: { events: { maxLen: EVENTS_MAX_LEN } },
    });
    this.#queue = queue;
    queue.on("error", this.#onError);
    const client = (await queue.client) as unknown as Client;
    const last = await client.xrevrange(queue.keys.events!, "+", "-", "COUNT", 1);
    if (this.#closed) throw new Error("Cannot reach Redis: the pool is closed");
    const events = new QueueEvents(this.#name, {
      connection: { ...this.#redis },
      lastEventId: last[0]?.[0] ?? "0-0",
    });
    events.on("error", this.#onError);
    events.on("active", ({ jobId }) => this.#listener.active(jobId));
    events.on("completed", ({ jobId, returnvalue }) => {
      this.#listener.completed(jobId, returnvalue);
    });
    events.on("failed", ({ jobId, failedReason }) => this.#listener.failed(jobId, failedReason));
    this.#events = events;
    await events.waitUntilReady();
    client.on("ready", this.#onReady);
    client.on("close", this.#onClose);
    this.#client = client;
    await this.restarted(); // records the run the chunks go to
    if (this.#offline) this.#onReady();
    return queue;
  }

  #goOffline(error: unknown): void {
    if (this.#offline || this.#closed) return;
    this.#offline = true;
    this.#listener.offline(error);
  }

  #onError = (error: unknown): void => {
    // The Redis client's "error" events are about the connection (refused,
    // reset, closed, or refused credentials: WRONGPASS, NOAUTH) while it
    // keeps retrying; the first of an outage is reported, the rest are the
    // same news. A command's own failure rejects that command instead.
    this.#goOffline(error);
  };

  #onClose = (): void => {
    if (!this.#closed) this.#goOffline(new Error("Connection closed"));
  };

  #onReady = (): void => {
    if (!this.#offline || this.#closed) return;
    this.#offline = false;
    this.#silenced = false;
    this.#listener.online();
  };
}

/** The Redis client inside a BullMQ object (not public: read defensively). */
interface RawClient {
  status?: string;
  once(event: string, listener: () => void): unknown;
  off(event: string, listener: () => void): unknown;
  disconnect(): void;
}

/** The Redis client inside `owner` (a `Queue` or `QueueEvents`), if it made one. */
function rawClient(owner: Queue | QueueEvents | null): RawClient | undefined {
  return (owner as unknown as { connection?: { _client?: RawClient } } | null)?.connection?._client;
}

/**
 * Waits until a queue that never became ready is between connection
 * attempts. Closed in the middle of a handshake whose credentials Redis
 * refused, ioredis left the AUTH reply as an unhandled rejection (8 times
 * in 8 here); between attempts it closes cleanly. At most 200 ms.
 */
function settled(queue: Queue): Promise<void> {
  const raw = rawClient(queue);
  if (raw?.status !== "connect" && raw?.status !== "connecting") return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const event of ["close", "end", "ready"]) raw.off(event, done);
      resolve();
    };
    const timer = setTimeout(done, 200);
    for (const event of ["close", "end", "ready"]) raw.once(event, done);
  });
}
