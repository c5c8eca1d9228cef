/**
 * Worker file for workerpool: registers the tasks by name.
 *
 * @module
 */

import workerpool from "workerpool";
import { add1, fib } from "./_tasks.ts";

workerpool.worker({ add1, fib });
