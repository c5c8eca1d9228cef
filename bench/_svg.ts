/**
 * A scenario's table as a picture: one horizontal bar per design, its µs
 * per job (shorter is faster), fastpool's bars in blue, the rest in grey,
 * on a log scale when the bars span more than 30×. Plain SVG, no library.
 *
 * @module
 */

import { fmt } from "./_measure.ts";
import { type Chart, perJob } from "./_runner.ts";

const WIDTH = 820;
const LABEL = 330;
const BAR = 380;
const ROW = 22;
const TOP = 48;

/** The SVG text of `chart`, made on `runtime` (named in the title). */
export function barChart(chart: Chart, runtime: string): string {
  const bars = chart.rows
    .filter((row) => row.timing)
    .map((row) => ({
      label: `${row.design}: ${row.api}`,
      value: perJob(row),
      ours: row.design.startsWith("fastpool"),
    }));
  const values = bars.map((bar) => bar.value);
  const max = Math.max(...values);
  const min = Math.min(...values);
  const log = max / min > 30;
  const scale = (value: number) =>
    log ? BAR * Math.log10(value / (min / 2)) / Math.log10(max / (min / 2)) : BAR * value / max;
  const title = wrap(`${chart.title} (${runtime})`, 110);
  const top = TOP + (title.length - 1) * 16;
  const height = top + bars.length * ROW + 30;
  const lines = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" ` +
    `viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...title.map((line, i) =>
      `<text x="10" y="${20 + i * 16}" font-size="13" font-weight="bold">${escape(line)}</text>`
    ),
    `<text x="10" y="${top - 8}" fill="#555">${escape(chart.unit)}, shorter is faster${
      log ? " (log scale)" : ""
    }</text>`,
  ];
  bars.forEach((bar, i) => {
    const y = top + i * ROW;
    const width = Math.max(1, scale(bar.value));
    lines.push(
      `<text x="${LABEL - 6}" y="${y + 14}" text-anchor="end">${
        escape(clip(bar.label, 50))
      }</text>`,
      `<rect x="${LABEL}" y="${y + 3}" width="${width.toFixed(1)}" height="${ROW - 6}" fill="${
        bar.ours ? "#2f6fdf" : "#9a9a9a"
      }"/>`,
      `<text x="${(LABEL + width + 5).toFixed(1)}" y="${y + 14}">${escape(fmt(bar.value))}</text>`,
    );
  });
  lines.push("</svg>");
  return lines.join("\n") + "\n";
}

/** A file name for `chart`: its number, name and size (`1-throughput-100000`). */
export function chartName(chart: Chart): string {
  const [head = "", rest = ""] = chart.title.split(":");
  const size = rest.match(/[\d,]+/)?.[0]?.replace(/,/g, "") ?? "";
  return `${head} ${size}`.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line.length + word.length + 1 > width && line) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function clip(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
