/**
 * Worker file for piscina and tinypool: each export is a task, chosen by the
 * `name` run option.
 *
 * @module
 */

export { add1, fib } from "./_tasks.ts";
export { add1 as default } from "./_tasks.ts";
