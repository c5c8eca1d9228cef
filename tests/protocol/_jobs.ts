/**
 * An outgoing job for the protocol tests (`job_batch_test.ts`,
 * `lane_test.ts`): a `CALL` of no arguments, id 1, task 0, unless `fields`
 * say otherwise.
 *
 * @module
 */

import type { OutgoingJob } from "../../src/protocol/job_batch.ts";
import { Mode } from "../../src/protocol/messages.ts";

/** A job as `writeJob()` and `Lane.offer()` read it. */
export function outgoingJob(fields: Partial<OutgoingJob>): OutgoingJob {
  return {
    id: 1,
    task: 0,
    mode: Mode.CALL,
    args: [],
    offset: 0,
    count: 1,
    numeric: false,
    transfer: null,
    timeout: 0,
    ...fields,
  };
}
