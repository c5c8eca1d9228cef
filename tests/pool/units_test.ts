/** The pure parts of the pool: the crash verdict, the job queue, batch sizing. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { judgeCrash, splitStarted } from "../../src/pool/crash.ts";
import { mapItems } from "../../src/pool/arguments.ts";
import {
  BATCH_MS,
  capacity,
  chooseSlot,
  EARLY_FLUSH_MIN,
  earlyFlushAt,
  MAX_BATCH,
  UNSEEN_BATCHES,
} from "../../src/pool/dispatch.ts";
import type { WorkerSlot } from "../../src/pool/worker_slot.ts";
import { StoppedRing, Yields } from "../../src/pool/stopped_ring.ts";
import { callJob, type Job, mapJob, PLAIN, TO_DONE } from "../../src/pool/job.ts";
import { seededRandom } from "../_util.ts";
import { JobQueue, JobsView } from "../../src/pool/job_queue.ts";
import { StatsRecorder } from "../../src/pool/stats.ts";
import { TaskRegistry } from "../../src/pool/task_registry.ts";
import { task } from "../../src/task.ts";
import { claimWord, offerClaim } from "../../src/protocol/claims.ts";
import {
  laneWord,
  Status,
  statusWords,
  stoppedAt,
  stoppedCountAt,
  stoppedRing,
} from "../../src/protocol/messages.ts";

function single(id: number): Job {
  return callJob(id, 0, [id], TO_DONE, null, PLAIN);
}

function mapped(id: number, count: number): Job {
  const items = Array.from({ length: count }, (_, i) => i);
  return mapJob(id, 0, items, count, TO_DONE, PLAIN);
}

const ids = (jobs: Job[]) =>
  jobs.flatMap((job) => Array.from({ length: job.count }, (_, i) => job.id + i));

describe("mapItems()", () => {
  it("mapItems() reads no more than the room and one item more; an empty input fits any room", () => {
    let read = 0;
    function* counting(): Generator<number> {
      while (true) yield read++;
    }
    assert.equal(mapItems(counting(), 3, "map"), null);
    assert.equal(read, 4);
    assert.deepEqual(mapItems([1, 2], 2, "map"), new Float64Array([1, 2]));
    assert.equal(mapItems([1, 2, 3], 2, "map"), null);
    // Jobs taken back from workers may fill the queue past maxQueue: the room is then negative.
    assert.deepEqual(mapItems([], -4, "map"), new Float64Array(0));
    assert.deepEqual(mapItems((function* () {})(), -4, "map"), new Float64Array(0));
    assert.deepEqual(mapItems(["a"], Infinity, "map"), ["a"]);
  });
});

describe("judgeCrash()", () => {
  it("judgeCrash() blames the job the worker had started last and sends the others again", () => {
    const inflight = [single(1), mapped(2, 3), single(5), single(6)];
    const { culprit, again } = judgeCrash(inflight, 3); // jobs 1, 2 ran unreported; 3 was running
    assert.equal(culprit?.id, 3);
    assert.deepEqual(ids(again), [1, 2, 4, 5, 6]);
  });

  it("judgeCrash() blames nothing when the worker died between jobs", () => {
    const { culprit, again } = judgeCrash([single(1), single(2)], 0);
    assert.equal(culprit, null);
    assert.deepEqual(ids(again), [1, 2]);
  });

  it("judgeCrash() skips jobs already answered or ended", () => {
    const partly = mapped(10, 4);
    partly.next = 2; // 10 and 11 answered
    const aborted = single(20);
    aborted.ended = true;
    const { culprit, again } = judgeCrash([partly, aborted, single(21)], 4);
    assert.equal(culprit?.id, 21);
    assert.deepEqual(ids(again), [12, 13]);
  });
});

describe("splitStarted()", () => {
  it("splitStarted() fails every job the worker had started and sends the rest again", () => {
    const inflight = [single(1), mapped(2, 3), single(5), single(6)];
    const { started, again } = splitStarted(inflight, 3); // 1, 2 and 3 had started
    assert.deepEqual(started.map(({ id }) => id), [1, 2, 3]);
    assert.deepEqual(ids(again), [4, 5, 6]);
  });

  it("splitStarted() skips jobs answered or ended, and starts nothing at 0", () => {
    const partly = mapped(10, 4);
    partly.next = 2; // 10 and 11 answered
    const aborted = single(20);
    aborted.ended = true;
    const { started, again } = splitStarted([partly, aborted, single(21)], 4);
    assert.deepEqual(started.map(({ id }) => id), [12, 13, 21]);
    assert.deepEqual(ids(again), []);
    assert.deepEqual(ids(splitStarted([single(1), single(2)], 0).again), [1, 2]);
  });
});

describe("JobQueue", () => {
  it("JobQueue.take() slices map entries and counts items", () => {
    const queue = new JobQueue();
    queue.add(mapped(1, 10), false);
    queue.add(single(11), true);
    assert.equal(queue.items, 11);
    assert.equal(queue.take(5).id, 11);
    const slice = queue.take(4);
    assert.deepEqual([slice.id, slice.count, slice.offset], [1, 4, 0]);
    assert.equal(queue.items, 6);
    assert.deepEqual([queue.front()!.id, queue.front()!.offset], [5, 4]);
  });

  it("JobQueue.removeId() cuts a job out of the middle of a map entry", () => {
    const queue = new JobQueue();
    queue.add(mapped(1, 5), false);
    assert.ok(queue.removeId(3));
    assert.ok(queue.removeId(1));
    assert.ok(queue.removeId(5));
    assert.equal(queue.removeId(3), undefined);
    assert.deepEqual(ids(queue.drain()), [2, 4]);
    assert.equal(queue.items, 0);
  });

  it("JobQueue.requeue() puts jobs back at the front in their order", () => {
    const queue = new JobQueue();
    queue.add(single(9), false);
    const a = single(1);
    a.next = 1;
    queue.requeue([a, single(2)]);
    assert.deepEqual(ids(queue.drain()), [1, 2, 9]);
    assert.equal(a.next, 0);
  });

  it("JobQueue.requeue() forgets a job's claim word: it belonged to the worker the job left", () => {
    const queue = new JobQueue();
    const job = single(1);
    job.claim = 3; // an abortable job's batch, taken back (or its worker died)
    queue.requeue([job]);
    // Kept, an abort after it went to another worker's shared lane (no claim there) took
    // back that worker's batch of the same number instead, and the job's answer went to
    // another job (found by a hostile probe).
    assert.equal(job.claim, -1);
  });
});

describe("JobQueue against a model", () => {
  /** An entry of the model: its ids in order, and its place (front: by `-seq`; else by priority, then arrival). */
  interface Entry {
    ids: number[];
    front: boolean;
    priority: number;
    seq: number;
  }
  function order(a: Entry, b: Entry): number {
    if (a.front !== b.front) return a.front ? -1 : 1;
    if (a.front) return b.seq - a.seq || a.ids[0]! - b.ids[0]!;
    return b.priority - a.priority || a.seq - b.seq || a.ids[0]! - b.ids[0]!;
  }

  it("JobQueue keeps the order of a sorted list through random adds, takes, removals and requeues", () => {
    for (let seed = 1; seed <= 12; seed++) {
      const random = seededRandom(seed);
      const queue = new JobQueue();
      const model: Entry[] = [];
      const jobs = new Map<number, Job>(); // by first id at creation, for remove(job)
      let nextId = 1;
      let seq = 0;
      const view = () =>
        [...queue.inOrder()].map((job) => Array.from({ length: job.count }, (_, i) => job.id + i));
      const expected = () => model.sort(order).map((entry) => entry.ids);
      for (let step = 0; step < 1500; step++) {
        const roll = random();
        const what = `seed ${seed}, step ${step}`;
        // The queue grows for 300 steps, then shrinks for 300, and so on.
        const [adding, taking, cutting] = Math.floor(step / 300) % 2 === 0
          ? [0.5, 0.15, 0.25]
          : [0.15, 0.5, 0.25];
        if (roll < adding) {
          const count = random() < 0.7 ? 1 : 1 + Math.floor(random() * 6);
          const priority = [0, 0, 0, 1, -1, 5][Math.floor(random() * 6)]!;
          const first = random() < 0.1;
          const id = nextId;
          nextId += count;
          const job = count === 1
            ? callJob(id, 0, [id], TO_DONE, null, { exclusive: false, timeout: 0, priority })
            : mapJob(id, 0, Array.from({ length: count }, (_, i) => i), count, TO_DONE, {
              exclusive: false,
              timeout: 0,
              priority,
            });
          jobs.set(id, job);
          queue.add(job, first);
          model.push({
            ids: Array.from({ length: count }, (_, i) => id + i),
            front: first,
            priority: first ? 0 : priority,
            seq: seq++,
          });
        } else if (roll < adding + taking && model.length !== 0) {
          const limit = 1 + Math.floor(random() * 4);
          const taken = queue.take(limit);
          const head = expected()[0]!;
          const entry = model.sort(order)[0]!;
          const ids = head.slice(0, limit);
          entry.ids.splice(0, ids.length);
          if (entry.ids.length === 0) model.shift();
          assert.deepEqual(Array.from({ length: taken.count }, (_, i) => taken.id + i), ids, what);
          if (random() < 0.2) {
            // Sent back: it goes to the front again.
            queue.requeue([taken]);
            model.push({ ids, front: true, priority: 0, seq: seq++ });
          }
        } else if (roll < adding + taking + cutting) {
          const id = 1 + Math.floor(random() * (nextId - 1));
          const holder = model.find((entry) => entry.ids.includes(id));
          const found = queue.removeId(id);
          assert.equal(found !== undefined, holder !== undefined, `${what}: removeId(${id})`);
          if (holder !== undefined) {
            const at = holder.ids.indexOf(id);
            const after = holder.ids.splice(at);
            after.shift();
            if (after.length !== 0) model.push({ ...holder, ids: after });
            if (holder.ids.length === 0) model.splice(model.indexOf(holder), 1);
          }
        } else {
          const id = 1 + Math.floor(random() * (nextId - 1));
          const job = jobs.get(id);
          if (job === undefined || job.count !== 1 || job.id !== id) continue; // still that one job
          const holder = model.find((entry) => entry.ids.length === 1 && entry.ids[0] === id);
          // A one-job entry is the object the queue holds, also sent back.
          if (holder === undefined) continue;
          assert.equal(queue.remove(job), true, `${what}: remove(${id})`);
          assert.equal(queue.remove(job), false, `${what}: remove(${id}) twice`);
          model.splice(model.indexOf(holder), 1);
        }
        assert.deepEqual(view(), expected(), what);
        assert.equal(queue.items, model.reduce((n, entry) => n + entry.ids.length, 0), what);
        assert.equal(queue.empty, model.length === 0, what);
        assert.equal(queue.front()?.id, expected()[0]?.[0], what);
      }
      assert.deepEqual(ids(queue.drain()), expected().flat());
      assert.equal(queue.items, 0);
    }
  });
});

describe("StatsRecorder", () => {
  it("StatsRecorder keeps one pair of histograms per task name, however many tasks share it", () => {
    const names = ["(inline)", "(inline)", "fib"];
    const stats = new StatsRecorder(0, names);
    stats.ran(0, 1, 1);
    stats.ran(1, 3, 1);
    stats.waited(2, 2, 4);
    names.push("(inline)"); // a task registered later
    stats.ran(3, 5, 1);
    assert.equal(stats.task(0), stats.task(1));
    assert.equal(stats.task(3), stats.task(0));
    assert.equal(stats.byName.size, 2);
    assert.equal(stats.task(0).runTime.summary().count, 3);
    assert.equal(stats.task(2).waitTime.summary().count, 4);
  });
});

describe("JobQueue removals", () => {
  it("JobQueue.remove() of jobs behind the front keeps the order once many are marked and the band is rebuilt", () => {
    const queue = new JobQueue();
    const jobs = Array.from({ length: 200 }, (_, i) => single(i + 1));
    for (const job of jobs) queue.add(job, false);
    // Jobs 2 … 151 leave from behind job 1: marked in place, then the band is rebuilt without them.
    for (const job of jobs.slice(1, 151)) assert.equal(queue.remove(job), true);
    assert.equal(queue.items, 50);
    assert.equal(queue.removeId(2), undefined);
    assert.equal(queue.removeId(152)?.id, 152);
    assert.equal(queue.take(1).id, 1);
    assert.equal(queue.front()?.id, 153);
    assert.deepEqual(ids(queue.drain()), Array.from({ length: 48 }, (_, i) => i + 153));
    assert.equal(queue.empty, true);
  });
});

describe("JobQueue index by id", () => {
  it("JobQueue.removeId() finds a job queued after the queue, once long, got short again", () => {
    const queue = new JobQueue();
    const jobs = Array.from({ length: 40 }, (_, i) => single(i + 1));
    for (const job of jobs) queue.add(job, false); // past 32: indexed
    for (let i = 0; i < 35; i++) assert.equal(queue.take(1), jobs[i]);
    assert.equal(queue.items, 5);
    queue.add(single(100), false);
    queue.add(mapped(101, 3), false);
    assert.equal(queue.removeId(100)?.id, 100);
    assert.ok(queue.removeId(102)); // cut from the middle of 101 … 103
    assert.equal(queue.removeId(38)?.id, 38);
    assert.deepEqual(ids(queue.drain()), [36, 37, 39, 40, 101, 103]);
  });

  it("JobQueue finds every queued job of map entries while workers take them from the front, cuts and adds between", () => {
    const queue = new JobQueue();
    const live = new Set<number>();
    let next = 1;
    const addMap = () => {
      queue.add(mapped(next, 2), false);
      live.add(next).add(next + 1);
      next += 2;
    };
    for (let i = 0; i < 200; i++) addMap(); // entries of two jobs: indexed among "several"
    const check = (what: string) => {
      for (let id = 1; id < next; id++) {
        const entry = queue.entryOf(id);
        assert.equal(entry !== undefined, live.has(id), `${what}: job ${id}`);
        if (entry) assert.ok(id >= entry.id && id < entry.id + entry.count, `${what}: job ${id}`);
      }
    };
    for (let round = 0; round < 150; round++) {
      const taken = queue.take(2); // a whole entry off the front
      for (let id = taken.id; id < taken.id + taken.count; id++) live.delete(id);
      if (round % 10 === 3) {
        const middle = [...live][Math.floor(live.size / 2)]!; // a job cut out of the middle
        assert.ok(queue.removeId(middle));
        live.delete(middle);
      }
      if (round % 7 === 0) addMap();
      check(`round ${round}`);
    }
    assert.equal(queue.items, live.size);
    assert.deepEqual(ids(queue.drain()), [...live].sort((a, b) => a - b));
  });
});

describe("JobsView", () => {
  it("JobsView iterates the jobs queued when it began, each once and in order, while the loop cancels some", () => {
    const queue = new JobQueue();
    queue.add(mapped(1, 6), false);
    queue.add(single(7), false);
    queue.add(mapped(8, 3), false);
    const view = new JobsView(queue, (id) => queue.removeId(id!), () => {});
    const seen: number[] = [];
    for (const job of view) {
      seen.push(job.id);
      // The job itself (which cuts its entry in two) and one in the middle of another entry.
      if (job.id === 2) { for (const id of [2, 9]) assert.ok(queue.removeId(id)); }
    }
    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 10]);
    assert.deepEqual([...view].map((job) => job.id), [1, 3, 4, 5, 6, 7, 8, 10]);
    assert.deepEqual([...view].map((job) => job.args), [[0], [2], [3], [4], [5], [7], [0], [2]]);
  });
});

describe("JobQueue open entry", () => {
  it("JobQueue.join() adds to the open entry; every other change to the queue closes it", () => {
    const changes: [string, (queue: JobQueue, open: Job) => unknown][] = [
      ["add", (queue) => queue.add(single(99), false)],
      ["take", (queue) => queue.take(1)],
      ["requeue", (queue) => queue.requeue([single(98)])],
      ["remove", (queue, open) => queue.remove(open)],
      ["removeId", (queue, open) => queue.removeId(open.id)],
      ["drain", (queue) => queue.drain()],
    ];
    for (const [name, change] of changes) {
      const queue = new JobQueue();
      const open = mapped(1, 1);
      queue.add(open, false);
      queue.openWith(open, "task", "done", Infinity);
      open.numeric = true;
      queue.join(7);
      assert.equal(open.numeric, true, name);
      queue.join("eight");
      assert.deepEqual([open.count, queue.items, open.numeric], [3, 3, false], name);
      assert.deepEqual(open.args.slice(1), [7, "eight"], name);
      change(queue, open);
      assert.equal(queue.open, null, `${name}() closes the open entry`);
    }
  });

  it("JobQueue.openForIndex() finds the open entry by its task index, for another value of that task", () => {
    const queue = new JobQueue();
    const open = mapped(1, 1); // task 0
    queue.add(open, false);
    queue.openWith(open, (x: number) => x, "done", Infinity);
    assert.equal(queue.openFor((x: number) => x, "done"), null, "another function value");
    assert.equal(queue.openForIndex(0, "done"), open);
    assert.equal(queue.openForIndex(1, "done"), null);
    assert.equal(queue.openForIndex(0, "elsewhere"), null);
    queue.close();
    assert.equal(queue.openForIndex(0, "done"), null);
  });

  it("JobQueue.tryJoin() joins only the same task and destination, under the limit", () => {
    const queue = new JobQueue();
    const open = mapped(1, 1);
    queue.add(open, false);
    queue.openWith(open, "task", "done", 3);
    assert.equal(queue.tryJoin("task", "done", 2), false, "no limit set yet: the slow path");
    queue.limitOpen(3);
    assert.equal(queue.tryJoin("other", "done", 2), false, "another task");
    assert.equal(queue.tryJoin("task", "elsewhere", 2), false, "another destination");
    assert.equal(queue.tryJoin("task", "done", 2), true);
    assert.equal(queue.openDue, false);
    assert.equal(queue.tryJoin("task", "done", 3), true);
    assert.equal(queue.openDue, true, "at flushAt the entry is due to be sent early");
    assert.equal(queue.tryJoin("task", "done", 4), false, "at the limit: the slow path");
    assert.deepEqual([open.count, queue.items], [3, 3]);
    assert.equal(queue.openFor("task", "done"), open);
    assert.equal(queue.openFor("task", "elsewhere"), null);
    queue.close();
    assert.equal(queue.tryJoin("task", "done", 5), false, "closed");
    assert.equal(queue.openFor("task", "done"), null);
  });
});

describe("capacity()", () => {
  it("capacity() sends one job at a time while the cost is unknown or high", () => {
    assert.equal(capacity(NaN), 1);
    assert.equal(capacity(50), 1);
  });

  it("capacity() allows two batches of about BATCH_MS of work, at most MAX_BATCH each", () => {
    assert.equal(capacity(BATCH_MS / 10), 20);
    assert.equal(capacity(1e-9), 2 * MAX_BATCH);
    assert.equal(capacity(BATCH_MS * 2), 2);
  });
});

describe("chooseSlot()", () => {
  const slot = (inflightItems: number, unstarted: number, usable = true) =>
    ({ inflightItems, unstarted, usable, statusShared: false, sentSinceAnswer: 0 }) as WorkerSlot;

  it("chooseSlot() picks the usable slot with the fewest jobs in flight and room left", () => {
    const slots = [slot(3, 0), slot(1, 1, false), slot(2, 2), slot(4, 4)];
    assert.equal(chooseSlot(slots, 4, false), slots[2]);
    assert.equal(chooseSlot([slot(4, 0), slot(5, 1)], 4, false), undefined);
  });

  it("chooseSlot() early (mid-tick) counts only the jobs a worker has not started", () => {
    const slots = [slot(4, 0), slot(2, 2)];
    assert.equal(chooseSlot(slots, 4, false, true), slots[0]);
    assert.equal(chooseSlot(slots, 4, false, false), slots[1]);
  });

  it("chooseSlot() sends nothing behind a slow job (slowAhead), and waits for a free claim word", () => {
    const slots = [slot(1, 1), slot(3, 3)];
    assert.equal(chooseSlot(slots, 8, false, false, (s) => s === slots[0]), slots[1]);
    assert.equal(chooseSlot(slots, 8, false, false, () => true), undefined);
    const empty = slot(0, 0);
    assert.equal(
      chooseSlot([empty], 8, false, false, () => true),
      empty,
      "an idle worker runs nothing slow",
    );
    // A worker that has not started the batch of the next claim word: full, whatever its load.
    const status = new Int32Array(new SharedArrayBuffer(Status.WORDS * 4));
    const claimed = { ...slot(1, 1), statusShared: true, status, claims: 0 } as WorkerSlot;
    assert.equal(chooseSlot([claimed], 8, false), claimed);
    assert.ok(offerClaim(status, claimWord(0)));
    assert.equal(chooseSlot([claimed], 8, false), undefined);
    // Without shared memory: at most UNSEEN_BATCHES past the worker's last answer.
    const unseen = { ...slot(1, 1), sentSinceAnswer: UNSEEN_BATCHES - 1 } as WorkerSlot;
    assert.equal(chooseSlot([unseen], 8, false), unseen);
    unseen.sentSinceAnswer = UNSEEN_BATCHES;
    assert.equal(chooseSlot([unseen], 8, false), undefined);
  });

  it("chooseSlot() at equal load sends to a started worker before one still starting (its setup() may be long)", () => {
    const starting = slot(0, 0);
    const started = { ...slot(0, 0), ready: true } as WorkerSlot;
    assert.equal(chooseSlot([starting, started], 4, false), started); // before: the first, starting
    assert.equal(chooseSlot([started, starting], 4, false), started);
    const busy = { ...slot(1, 1), ready: true } as WorkerSlot;
    assert.equal(chooseSlot([busy, starting], 4, false), starting, "less load still goes first");
  });

  it("chooseSlot() gives an exclusive job only an empty slot", () => {
    const slots = [slot(1, 0), slot(0, 0)];
    assert.equal(chooseSlot(slots, 4, true, true), slots[1]);
    assert.equal(chooseSlot([slot(1, 0)], 4, true, true), undefined);
  });

  it("earlyFlushAt() is one batch of the measured job time, never below EARLY_FLUSH_MIN", () => {
    assert.equal(earlyFlushAt(NaN), EARLY_FLUSH_MIN);
    assert.equal(earlyFlushAt(1e-9), MAX_BATCH);
    assert.equal(earlyFlushAt(BATCH_MS / 10), EARLY_FLUSH_MIN);
  });
});

describe("TaskRegistry", () => {
  it("failModule() fails a module's tasks, known and to come, and no other's", () => {
    const registry = new TaskRegistry(null);
    const a = "file:///a.ts", b = "file:///b.ts";
    const first = registry.indexOf(task(a, "one"));
    const other = registry.indexOf(task(b, "one"));
    const inline = registry.indexOf((n: number) => n);
    assert.equal(registry.imports, true);
    registry.failModule(a, "blocked");
    const failed = { kind: "failed", module: a, message: "blocked" };
    assert.deepEqual(registry.specs[first], failed);
    assert.deepEqual(registry.specs[other], { kind: "export", module: b, name: "one" });
    assert.equal(registry.specs[inline]!.kind, "source");
    // The same task keeps its index; another export of the module is failed from the start.
    assert.equal(registry.indexOf(task(a, "one")), first);
    const later = registry.indexOf(task(a, "two"));
    assert.deepEqual(registry.specs[later], failed);
    assert.deepEqual([registry.names[first], registry.names[later]], ["one", "two"]);
    assert.deepEqual([registry.moduleOf(later), registry.moduleOf(other)], [a, b]);
    assert.deepEqual([registry.failedMessage(a), registry.failedMessage(b)], [
      "blocked",
      undefined,
    ]);
  });
});

describe("StoppedRing", () => {
  it("marks a failed job in a free word; full, it takes an ended job's word, then a held one's, never a running one's", () => {
    const lanes = 2;
    const status = new Int32Array(new SharedArrayBuffer(statusWords(lanes) * 4));
    const ring = new StoppedRing<{ id: number }>(
      status,
      stoppedAt(lanes),
      stoppedRing(lanes),
      stoppedCountAt(lanes),
    );
    const count = () => Atomics.load(status, stoppedCountAt(lanes));
    const words = () => Array.from(status.subarray(stoppedAt(lanes)));
    const size = stoppedRing(lanes);
    const jobs = Array.from({ length: size + 3 }, (_, i) => ({ id: i + 1 }));
    // Jobs 1 and 2 run, 3 is held behind them, the rest ended (answers unread).
    const yields = (job: { id: number }) =>
      job.id <= 2 ? Yields.RUNS : job.id === 3 ? Yields.HELD : Yields.ENDED;
    for (const job of jobs.slice(0, size)) ring.mark(job, yields);
    assert.deepEqual(words(), jobs.slice(0, size).map((job) => laneWord(job.id)));
    assert.equal(count(), size); // each word filled counted: a worker that reads 0 skips the ring
    // Full: the next takes an ended job's word (before: the worker was replaced at once).
    ring.mark(jobs[size]!, yields);
    assert.equal(words().filter((word) => word === laneWord(jobs[size]!.id)).length, 1);
    assert.ok(words().includes(laneWord(1)) && words().includes(laneWord(2)), "running ones kept");
    // Every ended job's word taken: then the held one's.
    const onlyRunning = (job: { id: number }) => (job.id <= 3 ? yields(job) : Yields.RUNS);
    ring.mark(jobs[size + 1]!, onlyRunning);
    assert.equal(words().includes(laneWord(3)), false, "the held job's word taken");
    assert.ok(words().includes(laneWord(1)) && words().includes(laneWord(2)), "running ones kept");
    assert.equal(count(), size); // a word taken over was counted already
    // A word the worker freed (the job's abort arrived) is taken first.
    const freed = words().indexOf(laneWord(5));
    Atomics.store(status, stoppedAt(lanes) + freed, 0);
    Atomics.sub(status, stoppedCountAt(lanes), 1); // as the worker does
    ring.mark(jobs[size + 2]!, yields);
    assert.equal(Atomics.load(status, stoppedAt(lanes) + freed), laneWord(jobs[size + 2]!.id));
    assert.equal(count(), size);
  });
});
