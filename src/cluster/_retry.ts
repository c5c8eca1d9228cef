/**
 * A node's write of a chunk's data for its retry, made conditional in Redis:
 * it does not happen once the producer gave the chunk's items up (emptied
 * it, see `emptied()` in `_wire.ts`). A read before an unconditional write
 * lost a give-up that came between them, and BullMQ retried the given-up
 * items for nobody:
 *
 * ```
 * node:     read (items) ─────────────── write { prior, left } ──► retried
 * producer:                 empty (items: [])   ▲ overwritten
 * ```
 *
 * One script does both in Redis, atomically: whichever of the two writes
 * comes second, the chunk ends empty or is not retried.
 *
 * @module
 */

import type { Worker } from "bullmq";
import type { ChunkData } from "./_wire.ts";

/**
 * `KEYS[1]`: the job's hash; `ARGV[1]`: its new data, as JSON. Writes it
 * into the hash's `data` field and returns 1, unless the hash is gone or its
 * data's `items` is empty (returns 0).
 *
 * This relies on BullMQ 5's job layout, the one its own `updateData-1.lua`
 * writes: one hash per job at `toKey(jobId)`, the job's data as JSON in its
 * field `data`. JSON.stringify writes an empty array as `[]`, so data without
 * `"items":[]` anywhere has items, and is not decoded (a chunk's data, with
 * an earlier attempt's results, can be hundreds of MB: Redis would block on
 * it). Data that cannot be decoded (nested deeper than Redis' cjson reads) is
 * not the small data of an emptied chunk: it is written.
 */
const RETRY_SCRIPT = `
if redis.call("EXISTS", KEYS[1]) == 0 then return 0 end
local data = redis.call("HGET", KEYS[1], "data")
if data and string.find(data, '"items":[]', 1, true) then
  local ok, decoded = pcall(cjson.decode, data)
  if ok and type(decoded) == "table" and type(decoded.items) == "table"
    and next(decoded.items) == nil then
    return 0
  end
end
redis.call("HSET", KEYS[1], "data", ARGV[1])
return 1
`;

/** The command of BullMQ's Redis client (ioredis) that runs a script. */
interface ScriptClient {
  eval(script: string, keys: number, ...args: string[]): Promise<unknown>;
}

/**
 * Writes `data` (what succeeded, and the items left to run) into job
 * `jobId` of `worker`'s queue for BullMQ to retry, through its connection,
 * unless the producer has emptied the chunk meanwhile or Redis no longer has
 * it. (A `Queue` of the same name does as well as the `Worker`.)
 *
 * @returns Whether it wrote (then the retry is BullMQ's to run); rejects if Redis does not answer.
 */
export async function saveForRetry(
  worker: Pick<Worker, "client" | "toKey">,
  jobId: string,
  data: ChunkData,
): Promise<boolean> {
  const client = (await worker.client) as unknown as ScriptClient;
  const wrote = await client.eval(RETRY_SCRIPT, 1, worker.toKey(jobId), JSON.stringify(data));
  return wrote === 1;
}
