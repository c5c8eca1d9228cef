/**
 * A progress bar for the examples: redrawn in place with `\r` on a terminal,
 * a few plain lines otherwise (a pipe, a CI log). It writes synchronously, so
 * it also shows progress from a loop that never yields to the event loop.
 *
 * @module
 */

import { writeSync } from "node:fs";
import process from "node:process";

const WIDTH = 30;

/** Writes `text` to stdout now. */
export function write(text: string): void {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += writeSync(1, bytes.subarray(written));
}

/** A bar for `total` steps, labelled `label`. */
export class Progress {
  readonly #label: string;
  readonly #total: number;
  readonly #tty: boolean;
  #done = 0;
  #shown = -1;

  constructor(label: string, total: number) {
    this.#label = label;
    this.#total = total;
    this.#tty = process.stdout.isTTY === true;
    this.#draw();
  }

  /** Counts `n` more steps done and redraws if the bar moved. */
  tick(n = 1): void {
    this.#done = Math.min(this.#total, this.#done + n);
    this.#draw();
  }

  /** Ends the bar's line. */
  end(note: string): void {
    if (this.#tty) write(`\r${this.#bar()} ${note}\n`);
    else write(`${this.#label}: done, ${note}\n`);
  }

  #draw(): void {
    if (this.#tty) {
      const filled = Math.round((this.#done / this.#total) * WIDTH);
      if (filled === this.#shown && this.#done !== this.#total) return;
      this.#shown = filled;
      write(`\r${this.#bar()}`);
    } else {
      // Plain lines at 0%, 25%, 50% and 75%.
      const quarter = Math.floor((this.#done / this.#total) * 4);
      if (quarter === this.#shown || quarter >= 4) return;
      this.#shown = quarter;
      write(`${this.#label}: ${this.#done}/${this.#total}\n`);
    }
  }

  #bar(): string {
    const filled = Math.round((this.#done / this.#total) * WIDTH);
    const bar = "#".repeat(filled) + "-".repeat(WIDTH - filled);
    return `${this.#label.padEnd(12)} [${bar}] ${
      String(this.#done).padStart(String(this.#total).length)
    }/${this.#total}`;
  }
}
