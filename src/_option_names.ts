/**
 * Checks the names in an options object: an unknown name is a `TypeError`
 * that names it and the closest known name, so a misspelt option (or one
 * carried over from another pool library) is never silently ignored.
 *
 * A leaf: it imports nothing, so every layer may use it.
 *
 * @module
 */

/**
 * Names other worker-pool libraries use for our options (piscina, tinypool,
 * workerpool, poolifier, Python's executors), keyed by the lower-case name.
 * Edit distance alone would not connect `maxThreads` to `maxChildren`.
 */
const SYNONYMS: Record<string, readonly string[]> = {
  maxchildren: [
    "maxthreads",
    "maxworkers",
    "numworkers",
    "numberofworkers",
    "numberofthreads",
    "threads",
    "workers",
    "size",
    "poolsize",
    "max_workers",
    "max_children",
  ],
  minchildren: ["minthreads", "minworkers", "min_children"],
  module: ["filename", "file", "script", "workerfile", "workerscript", "taskmodule"],
  tasktimeout: ["timeout", "jobtimeout", "task_timeout"],
  timeout: ["tasktimeout", "deadline", "ms"],
  maxqueue: ["queuesize", "maxqueuesize", "qsize", "max_queue"],
  idletimeout: ["idle", "idletime", "keepalive", "idle_timeout"],
  childnameprefix: ["name", "nameprefix", "prefix", "thread_name_prefix", "threadnameprefix"],
  first: ["front", "priority", "urgent"],
  priority: ["prio", "pri", "nice", "weight"],
  sharedlane: ["useatomics", "atomics", "lane"],
  concurrenttasksperworker: ["concurrency", "concurrenttasks", "tasksperworker", "maxconcurrency"],
  abortgrace: ["grace", "graceperiod", "aborttimeout", "killtimeout"],
  starttimeout: ["readytimeout", "spawntimeout", "boottimeout", "setuptimeout"],
  onprogress: ["progress", "onupdate"],
  maxjobsperworker: [
    "maxtasksperchild",
    "max_tasks_per_child",
    "maxtasksperworker",
    "maxjobsperchild",
    "maxtasks",
  ],
  maxworkermemory: [
    "maxmemorylimitbeforerecycle",
    "resourcelimits",
    "maxmemory",
    "memorylimit",
    "maxoldgenerationsizemb",
  ],
  workerdata: ["initargs", "initdata", "data"],
  soon: ["cancel", "force", "now", "cancelfutures", "cancel_futures"],
};

/**
 * Throws a `TypeError` if `options` has an own enumerable name that is not
 * in `known`, naming it and the closest known name.
 *
 * @param options The options object (already known to be an object).
 * @param known Every name the options object may hold.
 * @param action What the caller was doing, for the message: `"create pool"`.
 * @param path Where `options` sits, for the message: `"connection."`.
 */
export function checkOptionNames(
  options: object,
  known: readonly string[],
  action: string,
  path = "",
): void {
  for (const name in options) {
    if (!Object.hasOwn(options, name) || known.includes(name)) continue;
    const closest = closestName(name, known);
    const hint = closest === undefined
      ? `known options are ${known.map((name) => path + name).join(", ")}`
      : `did you mean "${path}${closest}"?`;
    throw new TypeError(`Cannot ${action}: unknown option "${path}${name}"; ${hint}`);
  }
}

/**
 * Throws a `TypeError` if one of `names` in `options` holds `null`: an option
 * left out takes its default, and `null` (Python's `None`: "no limit") must
 * not quietly do the same for some options and fail for others.
 *
 * @param options The options object (already known to be an object).
 * @param names The names to look at (those that may not be null).
 * @param action What the caller was doing, for the message: `"create pool"`.
 */
export function refuseNulls(options: object, names: readonly string[], action: string): void {
  for (const name of names) {
    if ((options as Record<string, unknown>)[name] !== null) continue;
    throw new TypeError(
      `Cannot ${action}: "${name}" is null; leave it out (or undefined) for its default`,
    );
  }
}

/**
 * The known name closest to `name`: a synonym from another library, else
 * the nearest by edit distance if it is near enough to be a typo.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  for (const candidate of known) {
    const key = candidate.toLowerCase();
    if (key === lower || SYNONYMS[key]?.includes(lower)) return candidate;
  }
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // A typo changes a few letters; more than a third of the word is another word.
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Levenshtein distance, with a swap of two neighbours counted as one edit. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(
        d[(i - 1) * cols + j]! + 1,
        d[i * cols + j - 1]! + 1,
        d[(i - 1) * cols + j - 1]! + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, d[(i - 2) * cols + j - 2]! + 1);
      }
      d[i * cols + j] = value;
    }
  }
  return d[rows * cols - 1]!;
}
