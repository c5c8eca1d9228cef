/** The job batch without a worker: what writeJob() writes, readJobHeader() reads back. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  JOB_HEADER,
  JobHeader,
  MIN_F64_ITEMS,
  readJobHeader,
  writeJob,
} from "../../src/protocol/job_batch.ts";
import { Mode } from "../../src/protocol/messages.ts";
import { outgoingJob } from "./_jobs.ts";

const job = outgoingJob;

/** Every entry of a batch as [id, task, mode, count, values]. */
function readAll(data: unknown[]): unknown[][] {
  const header = new JobHeader();
  const entries: unknown[][] = [];
  for (let at = 0; at < data.length;) {
    const next = readJobHeader(data, at, header);
    const values = header.mode === Mode.MAP_F64
      ? [...(data[header.values] as Float64Array)]
      : data.slice(header.values, next);
    entries.push([header.id, header.task, header.mode, header.count, values, header.timed]);
    at = next;
  }
  return entries;
}

describe("job batch", () => {
  it("round-trips calls, streams and map slices, in order", () => {
    const data: unknown[] = [];
    const transfer: Transferable[] = [];
    writeJob(data, transfer, job({ id: 1, task: 2, args: ["a", { b: 1 }] }));
    writeJob(data, transfer, job({ id: 2, task: 0, mode: Mode.STREAM, args: [3] }));
    writeJob(
      data,
      transfer,
      job({ id: 3, task: 1, mode: Mode.MAP, args: ["x", "y", "z"], offset: 1, count: 2 }),
    );
    writeJob(data, transfer, job({ id: 5, task: 4, args: [] }));
    assert.deepEqual(readAll(data), [
      [1, 2, Mode.CALL, 2, ["a", { b: 1 }], false],
      [2, 0, Mode.STREAM, 1, [3], false],
      [3, 1, Mode.MAP, 2, ["y", "z"], false],
      [5, 4, Mode.CALL, 0, [], false],
    ]);
    assert.equal(data.length, 4 * JOB_HEADER + 2 + 1 + 2);
    assert.deepEqual(transfer, []);
  });

  it("sends a numeric map slice of MIN_F64_ITEMS or more as one moved Float64Array", () => {
    const items = Array.from({ length: MIN_F64_ITEMS + 4 }, (_, i) => i * 1.5);
    for (const args of [items, Float64Array.from(items)]) {
      const data: unknown[] = [];
      const transfer: Transferable[] = [];
      writeJob(
        data,
        transfer,
        job({ id: 10, mode: Mode.MAP, args, offset: 2, count: MIN_F64_ITEMS, numeric: true }),
      );
      const [[id, , mode, count, values]] = readAll(data) as [
        [number, number, number, number, number[]],
      ];
      assert.deepEqual([id, mode, count], [10, Mode.MAP_F64, MIN_F64_ITEMS]);
      assert.deepEqual(values, items.slice(2, 2 + MIN_F64_ITEMS));
      assert.deepEqual(transfer, [(data[JOB_HEADER] as Float64Array).buffer]);
      if (args instanceof Float64Array) assert.notEqual(data[JOB_HEADER], args); // a copy moves
    }
  });

  it("keeps a short numeric slice as plain values", () => {
    const data: unknown[] = [];
    writeJob(data, [], job({ mode: Mode.MAP, args: [1, 2, 3], count: 3, numeric: true }));
    assert.deepEqual(readAll(data), [[1, 0, Mode.MAP, 3, [1, 2, 3], false]]);
  });

  it("marks the entries of jobs with a time limit, which read back with their own mode", () => {
    const data: unknown[] = [];
    writeJob(data, [], job({ id: 1, args: ["a"], timeout: 50 }));
    writeJob(data, [], job({ id: 2, mode: Mode.MAP, args: [4], count: 1, timeout: 50 }));
    writeJob(data, [], job({ id: 3, args: [5] }));
    assert.deepEqual(readAll(data), [
      [1, 0, Mode.CALL, 1, ["a"], true],
      [2, 0, Mode.MAP, 1, [4], true],
      [3, 0, Mode.CALL, 1, [5], false],
    ]);
  });

  it("adds what a job moves to the batch's transfer list", () => {
    const buffer = new ArrayBuffer(8);
    const data: unknown[] = [];
    const transfer: Transferable[] = [];
    writeJob(data, transfer, job({ args: [buffer], transfer: [buffer] }));
    assert.deepEqual(transfer, [buffer]);
    assert.equal(readAll(data)[0]![4] instanceof Array, true);
  });
});
