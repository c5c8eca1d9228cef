/**
 * The cluster producer: a `ClusterPool`'s items from its backlog to Redis
 * and back. Batches are cut into chunks sized from measured run time, within
 * a window of chunks out per node; each chunk is one BullMQ job, whose
 * completed or failed event ends its items here, once. Chunks Redis lost
 * (its events trimmed, or a restart) are found by a sweep and added again;
 * while Redis is away, chunks wait and are sent when it is back, or fail at
 * `offlineTimeout`.
 *
 * ```
 *  batch ─► backlog ─cut─► chunk ─addBulk─► Redis ─► node
 *                           ▲ sent, active        │
 *  results ◄── completed/failed event ◄───────────┘
 * ```
 *
 * @module
 */

import { clearImmediate, clearTimeout, setImmediate, setTimeout } from "node:timers";
import { Deque } from "../deque.ts";
import { PoolClosedError, QueueFullError } from "../errors.ts";
import { describeThrown } from "../protocol/codec.ts";
import { Closing } from "../pool/source_reads.ts";
import type { JobId } from "../pool/types.ts";
import { settlesWithin, systemClock } from "../timers/clock.ts";
import { Batch, type Chunk, type Deferred, report, Sink, State } from "./_batch.ts";
import { Delivery } from "./_delivery.ts";
import type { Results } from "./_results.ts";
import { CHUNK_CHARS } from "./_sizes.ts";
import { ChunkSizer } from "./_sizer.ts";
import {
  type ChunkData,
  type ChunkResult,
  decodeFailure,
  fixArgs,
  type JsonSize,
  resultProblem,
  WIRE_VERSION,
} from "./_wire.ts";
import type { ResolvedClusterOptions } from "./options.ts";

const WINDOW_PER_NODE = 4;
/** How long a closing producer waits for Redis to drop the chunks it gave up. */
const WITHDRAW_MS = 2000;
const MIN_WINDOW = 8;
/**
 * Most characters of item JSON being added to Redis at once: two full
 * chunks (see {@linkcode CHUNK_CHARS}), so one is written while the other
 * is cut and stringified, and an add is answered well within the time after
 * which Redis counts as away.
 */
const ADDING_CHARS = 2 * CHUNK_CHARS;
/** The longest delay `setTimeout` keeps (a longer one fires at once). */
const MAX_DELAY = 2 ** 31 - 1;

/** Moves one cluster pool's items through Redis and ends each once. */
export class ChunkProducer {
  readonly #options: ResolvedClusterOptions;
  readonly #delivery: Delivery;
  readonly #sizer: ChunkSizer;
  readonly #producerId = randomId();
  readonly #backlog = new Deque<Batch>();
  readonly #chunks = new Map<string, Chunk>();
  /**
   * Chunks given up (a shutdown's timeout, Redis away past `offlineTimeout`)
   * being taken out of Redis, if no node took them; `close()` waits for them.
   */
  readonly #withdrawn = new Set<Promise<unknown>>();
  /** Keys of given-up chunks still being added: taken out once they are in. */
  readonly #withdrawAfterAdd = new Set<string>();
  readonly #nodes = new Map<string, number>();
  readonly #results: Results;
  readonly #dispatch: (event: Event) => void;
  #open: Batch | null = null;
  #nextId = 1;
  #nextChunk = 1;
  #pending = 0;
  #queued = 0;
  #closed = false;
  #flushTimer: ReturnType<typeof setImmediate> | undefined;
  /** What `fixArgs` measured of the item `add()` fixed last. */
  readonly #measured: JsonSize = { chars: 0 };
  /** Timers of probe chunks a node runs: see {@linkcode #watchProbe}. */
  readonly #probeTimers = new Set<ReturnType<typeof setTimeout>>();

  constructor(
    options: ResolvedClusterOptions,
    results: Results,
    dispatch: (event: Event) => void,
  ) {
    this.#options = options;
    this.#results = results;
    this.#dispatch = dispatch;
    this.#sizer = new ChunkSizer(options.chunkTime, options.maxChunk);
    const chunks = this.#chunks;
    this.#delivery = new Delivery(options, {
      chunks,
      pending: () => this.#pending,
      closed: () => this.#closed,
      failChunk: (chunk, error) => this.#failChunk(chunk, error),
      abandon: (reason) => this.abandon(reason),
      pump: () => this.#pump(),
      sent: (chunks) => this.#sent(chunks),
      again: (chunks) => this.#again(chunks),
      commit: () => results.commit(),
      dispatch,
    }, {
      active: (key) => this.#onActive(key),
      completed: (key, result) => this.#onCompleted(key, result),
      failed: (key, reason) => this.#onFailed(key, reason),
    });
  }

  /** Items submitted and not ended. */
  get pending(): number {
    return this.#pending;
  }

  /** Items no node has taken yet. */
  get queued(): number {
    return this.#queued;
  }

  /** Items run per node, by node id. */
  get nodes(): ReadonlyMap<string, number> {
    return this.#nodes;
  }

  /** Chunks out (in Redis or running). */
  get chunks(): number {
    return this.#chunks.size;
  }

  /** Whether `shutDown()` was called: no more submits. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Takes `n` consecutive job ids; returns the first. */
  takeIds(n: number): JobId {
    const first = this.#nextId;
    this.#nextId += n;
    return first;
  }

  /** Refuses more items; queued ones still go. Pending reads of async sources stop. */
  shutDown(): void {
    this.#closed = true;
    this.#open = null;
    this.closing.close();
  }

  /** What pending reads of async sources race (`ClusterPool.map` and `collect`). */
  readonly closing: Closing = new Closing();

  /** Stops every timer and closes the connection (after `shutDown()` and a wait). */
  async close(): Promise<void> {
    if (this.#flushTimer !== undefined) clearImmediate(this.#flushTimer);
    this.#flushTimer = undefined;
    for (const timer of this.#probeTimers) clearTimeout(timer);
    this.#probeTimers.clear();
    // Given-up chunks leave Redis (or, taken by a node, are emptied) before the
    // link closes (a node started later would run them for nobody, or retry
    // their failures), waiting no longer than WITHDRAW_MS; those still being
    // added go once they are in.
    const withdrawn = this.#delivery.added()
      .then(() => Promise.allSettled([...this.#withdrawn]));
    await settlesWithin(systemClock, withdrawn, WITHDRAW_MS);
    await this.#delivery.close();
  }

  /**
   * Cancels job `jobId` (every job with `null`) unless a node took it; returns
   * whether any was cancelled.
   */
  cancel(jobId: JobId | null): boolean {
    let matched = false;
    // The items one call ends share one error, made only if a promise takes
    // it (as `Pool.cancel()`: an error each cost Deno ~6 µs an item).
    let shared: DOMException | undefined;
    const reasonFor = (batch: Batch) =>
      batch.sink === Sink.PROMISES
        ? (shared ??= new DOMException("Job was cancelled", "AbortError"))
        : undefined;
    // One id is one index per batch: looked up, not searched for (20,000
    // cancels one by one walked 20,000 items each).
    const cancelIn = (batch: Batch, from: number, to: number) => {
      if (jobId !== null) {
        const i = jobId - batch.firstId;
        if (i >= from && i < to && this.cancelItem(batch, i, reasonFor(batch), false)) {
          matched = true;
        }
        return;
      }
      for (let i = from; i < to; i++) {
        if (this.cancelItem(batch, i, reasonFor(batch), false)) matched = true;
      }
    };
    for (const batch of [...this.#backlog]) cancelIn(batch, batch.cut, batch.items.length);
    for (const chunk of [...this.#chunks.values()]) {
      if (chunk.state !== State.ACTIVE) {
        cancelIn(chunk.batch, chunk.offset, chunk.offset + chunk.count);
      }
    }
    if (matched) this.#results.commit();
    return matched;
  }

  /** How many more items `maxQueue` lets in now. */
  get room(): number {
    return Math.max(0, this.#options.maxQueue - this.#queued);
  }

  /** Throws `QueueFullError` if `n` more items would pass `maxQueue`. */
  checkRoom(n: number): void {
    const maxQueue = this.#options.maxQueue;
    if (this.#queued + n > maxQueue) throw new QueueFullError(maxQueue);
  }

  /** Adds one item to the open batch of its task and destination, or opens one. */
  add(
    task: unknown,
    args: unknown[],
    sink: number,
    callback: ((value: unknown, id: number) => void) | null,
    deferred: Deferred | null,
  ): JobId {
    // Fixed before the batch is chosen and the id taken: an argument's getter
    // may submit, and take the open batch or the next id itself.
    const item = fixArgs(args, "submit job", this.#measured);
    // ...or shut the pool down.
    if (this.closed) throw new PoolClosedError("Cannot submit job: pool is closed");
    this.checkRoom(1);
    const one = args.length === 1;
    let open = this.#open;
    if (
      open === null || open.task !== task || open.sink !== sink || open.callback !== callback ||
      open.one !== one
    ) {
      open = new Batch(
        task as string,
        one,
        [],
        this.#nextId,
        sink,
        callback,
        sink === Sink.PROMISES ? [] : null,
        this.#options.taskTimeout,
      );
      this.enqueue(open, 0);
      this.#open = open;
    }
    open.sizes.add(open.items.length, this.#measured.chars);
    open.items.push(item);
    if (deferred) open.deferreds!.push(deferred);
    this.#pending++;
    this.#queued++;
    return this.#nextId++;
  }

  /** Queues `batch` of `n` items (0: items join it later), sent at the end of this task. */
  enqueue(batch: Batch, n: number): void {
    this.#open = null;
    this.#backlog.push(batch);
    this.#pending += n;
    this.#queued += n;
    // The end of this task, not a timer: setTimeout(0) took 2.2 ms on Deno
    // 2.9.6 and 1.1 ms on Bun 1.4.4 here, setImmediate 0.01 ms, and all of
    // it is latency of a lone run().
    this.#flushTimer ??= setImmediate(this.#flush);
  }

  #flush = (): void => {
    this.#flushTimer = undefined;
    this.#open = null;
    this.#pump();
  };

  /**
   * Cuts chunks from the backlog while the window has room, and sends them.
   * What is being added to Redis stays within `ADDING_CHARS` (but for one
   * item that alone writes more), each chunk within `CHUNK_CHARS`: the rest
   * waits for an add to end.
   */
  #pump(): void {
    if (this.#delivery.away) {
      // Held until Redis is back, at most offlineTimeout (also after a give-up).
      if (this.#backlog.length !== 0) this.#delivery.giveUpLater();
      return;
    }
    const window = Math.max(MIN_WINDOW, WINDOW_PER_NODE * this.#nodes.size);
    const out: Chunk[] = [];
    let room = ADDING_CHARS - this.#delivery.adding;
    let i = 0;
    while (room > 0 && this.#chunks.size < window && i < this.#backlog.length) {
      const batch = this.#backlog.at(i)!;
      if (batch.ended !== null) {
        // Cancelled items at the cut point are never sent.
        while (batch.cut < batch.items.length && batch.ended.has(batch.cut)) batch.cut++;
      }
      const left = batch.items.length - batch.cut;
      let size = left === 0 ? 0 : this.#sizer.size(batch.task, left, this.#nodes.size);
      // A chunk ends before a cancelled item: it runs every item it carries.
      if (batch.ended !== null) size = liveRun(batch, size);
      if (size === 0) {
        if (left === 0 && batch !== this.#open) this.#backlog.removeAt(i);
        else i++;
        continue;
      }
      if (size > 1) size = batch.sizes.fit(batch.cut, size, Math.min(room, CHUNK_CHARS));
      if (batch === this.#open) this.#open = null;
      const chunk = this.#cut(batch, size);
      room -= chunk.chars;
      out.push(chunk);
      if (batch.cut === batch.items.length) this.#backlog.removeAt(i);
    }
    if (out.length !== 0) void this.#delivery.send(out);
    this.#delivery.sweepSoon();
  }

  #cut(batch: Batch, size: number): Chunk {
    const offset = batch.cut;
    batch.cut += size;
    return this.#chunkOf(batch, offset, size);
  }

  /** A new chunk of the `size` items of `batch` from `offset`, none of them ended. */
  #chunkOf(batch: Batch, offset: number, size: number): Chunk {
    const data: ChunkData = {
      v: WIRE_VERSION,
      task: batch.task,
      one: batch.one,
      items: offset === 0 && size === batch.items.length
        ? batch.items
        : batch.items.slice(offset, offset + size),
      timeout: batch.timeout,
    };
    const key = `fp-${this.#producerId}-${this.#nextChunk++}`;
    const chunk: Chunk = {
      key,
      batch,
      offset,
      count: size,
      chars: batch.sizes.chars(offset, size),
      data,
      state: State.ADDING,
      missing: 0,
      queued: size,
    };
    this.#chunks.set(key, chunk);
    return chunk;
  }

  #onActive(key: string): void {
    const chunk = this.#chunks.get(key);
    if (chunk === undefined || chunk.state === State.ACTIVE) return;
    chunk.state = State.ACTIVE;
    this.#queued -= chunk.queued;
    chunk.queued = 0;
    if (this.#sizer.probing(chunk.batch.task)) {
      this.#watchProbe(chunk, performance.now(), Math.max(2 * this.#options.chunkTime, 1));
    }
  }

  /**
   * A chunk a node took while its task probes: if it runs on past `after` ms
   * with no report, each of its items takes at least that time ÷ its items,
   * and the task's other items go to the nodes it leaves idle, in chunks
   * sized from that floor (looked at again at twice the time while it runs),
   * instead of waiting for the probe's report: a minute, if its items take one.
   */
  #watchProbe(chunk: Chunk, since: number, after: number): void {
    if (after > MAX_DELAY) return;
    const timer = setTimeout(() => {
      this.#probeTimers.delete(timer);
      const task = chunk.batch.task;
      if (this.#chunks.get(chunk.key) !== chunk || !this.#sizer.probing(task)) return;
      this.#sizer.stillRunning(task, chunk.count, performance.now() - since);
      this.#pump();
      this.#watchProbe(chunk, since, after * 2);
    }, after);
    timer.unref?.(); // pending items keep the program alive, not this timer
    this.#probeTimers.add(timer);
  }

  #onCompleted(key: string, returned: unknown): void {
    const chunk = this.#chunks.get(key);
    if (chunk === undefined) return; // not ours, or ended already: counted once
    const problem = resultProblem(returned, chunk.count);
    const result = returned as ChunkResult;
    if (problem !== undefined) {
      this.#failChunk(
        chunk,
        new TypeError(`Chunk ${key} returned an unknown result format: ${problem}`),
      );
      this.#results.commit();
      this.#pump();
      return;
    }
    this.#forget(chunk);
    this.#nodes.set(String(result.node), (this.#nodes.get(String(result.node)) ?? 0) + chunk.count);
    this.#sizer.report(chunk.batch.task, chunk.count, result.ms, result.workers, result.chars);
    const { batch, offset, count } = chunk;
    const resultId = this.#options.resultId;
    if (
      batch.sink === Sink.DONE && !resultId && !result.gen && result.errors.length === 0 &&
      result.undef.length === 0 && batch.ended === null
    ) {
      // The common case: plain values straight into `done`.
      this.#results.all(result.values, count);
      this.#pending -= count;
    } else {
      const errors = new Map(result.errors);
      const undef = new Set(result.undef);
      for (const [k, place] of result.undefYields ?? []) {
        (result.values[k] as unknown[])[place] = undefined;
      }
      for (let k = 0; k < count; k++) {
        const index = offset + k;
        if (batch.ended?.has(index)) continue;
        const id = batch.firstId + index;
        if (errors.has(k)) {
          this.#failure(batch, index, readFailure(errors.get(k), id));
          continue;
        }
        const value = undef.has(k) ? undefined : result.values[k];
        if (result.gen && batch.sink !== Sink.PROMISES) {
          for (const yielded of value as unknown[]) this.#value(batch, index, yielded);
          this.#pending--;
        } else {
          this.#value(batch, index, value);
          this.#pending--;
        }
      }
    }
    this.#results.commit();
    this.#pump();
  }

  #onFailed(key: string, reason: string): void {
    const chunk = this.#chunks.get(key);
    if (chunk === undefined) return;
    this.#failChunk(
      chunk,
      new Error(`Chunk of ${chunk.count} items failed on its node: ${reason}`),
    );
    this.#results.commit();
    this.#pump();
  }

  /** Every item of `chunk` still pending fails with `error`. */
  #failChunk(chunk: Chunk, error: unknown): void {
    this.#forget(chunk);
    this.#sizer.forget(chunk.batch.task);
    const { batch, offset, count } = chunk;
    for (let index = offset; index < offset + count; index++) {
      if (batch.ended?.has(index)) continue;
      this.#failure(batch, index, error);
    }
  }

  /** Takes `chunk` out of the books: it ends here, once. */
  #forget(chunk: Chunk): void {
    this.#chunks.delete(chunk.key);
    this.#queued -= chunk.queued;
    chunk.queued = 0;
    chunk.state = State.ACTIVE;
  }

  #value(batch: Batch, index: number, value: unknown): void {
    this.#results.value(batch, index, value);
  }

  #failure(batch: Batch, index: number, error: unknown): void {
    this.#pending--;
    this.#results.failure(batch, index, error);
  }

  /**
   * Ends item `index` of `batch` as cancelled, unless it has ended. A chunk
   * left with only ended items is removed from Redis, or emptied if a node
   * took it.
   */
  cancelItem(batch: Batch, index: number, reason: unknown, commit: boolean): boolean {
    if (batch.ended?.has(index)) return false;
    if (index >= batch.cut) {
      // Still here: it will never be sent. Only the batch's tail can be dropped.
      (batch.ended ??= new Set()).add(index);
      this.#queued--;
      if (index === batch.items.length - 1 && batch !== this.#open) {
        let end = batch.items.length;
        while (end > batch.cut && batch.ended.has(end - 1)) end--;
        batch.items.length = end;
      }
    } else {
      const chunk = this.#chunkHolding(batch, index);
      if (chunk === undefined || chunk.state === State.ACTIVE) return false;
      (batch.ended ??= new Set()).add(index);
      chunk.queued--;
      this.#queued--;
      // Not taken, so its items counted in `queued` are those not ended: no
      // walk over the ended ones (cancelled one by one, oldest first, that
      // walk made a chunk's cancels quadratic).
      if (chunk.queued === 0) {
        // A node may have taken it meanwhile: then it is emptied instead.
        this.#probeEnded(chunk);
        void this.#removeChunk(chunk);
      } else if (chunk.state === State.SENT) void this.#split(chunk);
    }
    this.#pending--;
    if (batch.sink === Sink.PROMISES) batch.deferreds![index]!.reject(reason);
    const callback = this.#options.cancelledCallback;
    if (callback) report((_, id) => callback(id), undefined, batch.firstId + index);
    if (commit) this.#results.commit();
    return true;
  }

  /**
   * Takes `chunk`, whose items all ended (cancelled or aborted), out of
   * Redis, or, if a node took it (also one this producer has not heard of
   * yet), empties it as {@linkcode withdraw} does: that node runs it whole
   * for nobody but retries none of its failed items. One still being added
   * goes once it is in (see {@linkcode sent}). (The sizer stopped waiting for
   * it as a probe when its last item ended.)
   */
  async #removeChunk(chunk: Chunk): Promise<void> {
    if (chunk.state === State.ADDING || !(await this.#withdraw(chunk.key))) return;
    if (this.#chunks.get(chunk.key) !== chunk) return;
    this.#forget(chunk); // its items ended: what its node may still send is dropped
    this.#pump();
  }

  /**
   * `chunk`, in Redis and not taken, has cancelled items: it is taken out and
   * its items still pending go again in chunks that stop before each
   * cancelled one, so no node runs an item after its cancel. A node that took
   * it meanwhile runs it whole (the cancelled items' results are dropped).
   */
  async #split(chunk: Chunk): Promise<void> {
    if (chunk.splitting) return;
    chunk.splitting = true;
    const removed = await this.#delivery.remove(chunk.key);
    chunk.splitting = false;
    if (!removed || this.#chunks.get(chunk.key) !== chunk || chunk.state === State.ACTIVE) return;
    this.#chunks.delete(chunk.key); // its items still queued stay counted, in the new chunks
    const { batch, offset, count } = chunk;
    const ended = batch.ended!;
    const again: Chunk[] = [];
    for (let i = offset; i < offset + count;) {
      if (ended.has(i)) {
        i++;
        continue;
      }
      let n = 1;
      while (i + n < offset + count && !ended.has(i + n)) n++;
      again.push(this.#chunkOf(batch, i, n));
      i += n;
    }
    if (again.length !== 0) void this.#delivery.send(again);
    else this.#probeEnded(chunk);
    this.#pump();
  }

  /**
   * Takes a given-up chunk out of Redis, or, if a node took it (also one
   * this producer has not heard of yet: BullMQ keeps a locked chunk), empties
   * it of its items: that node finishes it for nobody, retries none of it,
   * and if it dies, the node BullMQ hands it to runs nothing. `close()` waits
   * for either while it is under way.
   *
   * @returns Whether Redis had it (it was removed or emptied).
   */
  #withdraw(key: string): Promise<boolean> {
    const removing = this.#delivery.remove(key)
      .then((removed) => removed || this.#delivery.empty(key))
      .finally(() => this.#withdrawn.delete(removing));
    this.#withdrawn.add(removing);
    return removing;
  }

  /**
   * `chunks`, which Redis lost, are added again. One a node had taken is
   * being added once more, as a new one is: its items not ended are queued
   * until a node takes it, where `cancel()`, `maxQueue` and a shutdown that
   * gives up see them, and its `active` event counts them running again.
   */
  #again(chunks: Chunk[]): void {
    for (const chunk of chunks) {
      if (chunk.state !== State.ACTIVE || this.#chunks.get(chunk.key) !== chunk) continue;
      const { batch, offset, count } = chunk;
      let live = 0;
      for (let i = offset; i < offset + count; i++) if (!batch.ended?.has(i)) live++;
      chunk.state = State.ADDING;
      chunk.queued = live;
      this.#queued += live;
    }
  }

  /** `chunks` are in Redis now: those whose items all ended meanwhile are taken out. */
  #sent(chunks: Chunk[]): void {
    for (const chunk of chunks) {
      if (this.#withdrawAfterAdd.delete(chunk.key)) {
        void this.#withdraw(chunk.key);
        continue;
      }
      if (this.#chunks.get(chunk.key) !== chunk) continue;
      if (allEnded(chunk)) void this.#removeChunk(chunk);
      // Some were cancelled meanwhile (or aborted, in one a node had taken).
      else if (chunk.state === State.SENT && chunk.queued < chunk.count) void this.#split(chunk);
    }
  }

  /**
   * Ends item `index` of `batch` when its `exec` signal aborts: cancelled if
   * no node has taken it, else failed with `reason` now, as `Pool` does with
   * a running job; its result, when its node sends it, is dropped. A taken
   * chunk left with no item pending is emptied, so that its node retries
   * none of its failures for nobody.
   */
  abortItem(batch: Batch, index: number, reason: unknown): void {
    if (this.cancelItem(batch, index, reason, true) || batch.ended?.has(index)) return;
    (batch.ended ??= new Set()).add(index);
    this.#failure(batch, index, reason);
    this.#results.commit();
    const chunk = this.#chunkHolding(batch, index);
    if (chunk === undefined || !allEnded(chunk)) return;
    this.#probeEnded(chunk);
    void this.#removeChunk(chunk);
  }

  /** The chunk out that holds item `index` of `batch`, if one does. */
  #chunkHolding(batch: Batch, index: number): Chunk | undefined {
    for (const chunk of this.#chunks.values()) {
      if (chunk.batch === batch && index >= chunk.offset && index < chunk.offset + chunk.count) {
        return chunk;
      }
    }
    return undefined;
  }

  /**
   * Every item of `chunk` ended here (cancelled or aborted). If it is its
   * task's probe, the task's other items stop waiting for its report, which
   * a node may hold for as long as the item runs: the task probes again, at
   * the end of this task (as `enqueue` sends).
   */
  #probeEnded(chunk: Chunk): void {
    const task = chunk.batch.task;
    if (!this.#sizer.probing(task)) return;
    this.#sizer.withdrawn(task);
    this.#flushTimer ??= setImmediate(this.#flush);
  }

  /** Ends every pending item with `reason()` (shutdown timeout, Redis gone too long). */
  abandon(reason: () => unknown): void {
    for (const chunk of [...this.#chunks.values()]) {
      if (chunk.state === State.ADDING) this.#withdrawAfterAdd.add(chunk.key);
      else void this.#withdraw(chunk.key); // in Redis, or taken by a node
      this.#failChunk(chunk, reason());
    }
    this.#delivery.dropUnsent();
    for (const batch of [...this.#backlog]) {
      for (let i = batch.cut; i < batch.items.length; i++) {
        if (batch.ended?.has(i)) continue;
        (batch.ended ??= new Set()).add(i);
        this.#queued--;
        this.#failure(batch, i, reason());
      }
      batch.cut = batch.items.length;
    }
    this.#backlog.clear();
    this.#open = null;
    this.#results.commit();
  }
}

/** Whether every item of `chunk` has ended (cancelled or aborted). */
function allEnded(chunk: Chunk): boolean {
  const ended = chunk.batch.ended;
  if (ended === null) return false;
  for (let i = chunk.offset; i < chunk.offset + chunk.count; i++) if (!ended.has(i)) return false;
  return true;
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** How many of the `size` items of `batch` from its cut point on are not ended, counted up to the first ended one. */
function liveRun(batch: Batch, size: number): number {
  const ended = batch.ended!;
  let n = 0;
  while (n < size && !ended.has(batch.cut + n)) n++;
  return n;
}

/**
 * The failure of item `id` as its node sent it ({@linkcode decodeFailure}),
 * or, when a node of another make sent one that cannot be read (a field of
 * the wrong type, a cause chain deep enough to exhaust the stack), a
 * `TypeError` saying so: a throw here would stop the events of every chunk.
 */
function readFailure(encoded: unknown, id: number): unknown {
  try {
    return decodeFailure(encoded, id);
  } catch (error) {
    return new TypeError(
      `Item ${id} failed on its node, with an error this producer cannot read (${
        describeThrown(error)
      })`,
    );
  }
}
