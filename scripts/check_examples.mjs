// deno-lint-ignore-file no-console -- a command-line check
// Every exported symbol of the package's entry points has at least one
// @example (which `deno test --doc` then runs). Reads `deno doc --json`.
// Usage: node check_examples.mjs ENTRY...
import { execFileSync } from "node:child_process";

const entries = process.argv.slice(2);
const doc = JSON.parse(execFileSync("deno", ["doc", "--json", ...entries], { encoding: "utf8" }));
const missing = [];
for (const [file, module] of Object.entries(doc.nodes)) {
  for (const symbol of module.symbols ?? []) {
    const documented = (symbol.declarations ?? []).some((declaration) =>
      (declaration.jsDoc?.tags ?? []).some((tag) => tag.kind === "example")
    );
    if (!documented) {
      missing.push(`${file.replace(/^file:\/\/.*?\/(src|mod)/, "$1")}: ${symbol.name}`);
    }
  }
}
if (missing.length > 0) {
  console.log(`Exported symbols without an @example (${missing.length}):`);
  for (const line of missing) console.log(`  ${line}`);
  process.exit(1);
}
console.log(`Every exported symbol of ${entries.join(", ")} has an @example`);
