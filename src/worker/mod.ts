/**
 * `@fastpool/fastpool/worker`: what a task module imports to learn about
 * the job it is running for, {@linkcode jobContext}. Importing it starts
 * nothing, in a pool's worker or anywhere else: the entry a pool starts its
 * workers from is `runtime.ts` beside it, which no task needs to import.
 *
 * ```ts ignore
 * // tasks.ts, the pool's `module`
 * import { jobContext } from "@fastpool/fastpool/worker";
 *
 * export function step(n: number): number {
 *   jobContext().progress(n / 2);
 *   return n + 1;
 * }
 * ```
 *
 * @module
 */

export { type JobContext, jobContext } from "./job_context.ts";
