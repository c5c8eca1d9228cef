/**
 * Worker file for poolifier-web-worker: one `ThreadWorker` with the tasks by name.
 *
 * @module
 */

import { ThreadWorker } from "poolifier-web-worker";
import { add1, fib } from "./_tasks.ts";

// poolifier types a task's `data` as optional.
const number = (data: number | undefined): number => {
  if (typeof data !== "number") throw new TypeError("Expected a number");
  return data;
};

export default new ThreadWorker<number, number>({
  add1: (data) => add1(number(data)),
  fib: (data) => fib(number(data)),
});
