// deno-lint-ignore-file no-console -- a command-line check
// Every exported symbol of the package's entry points, and every public
// member of a class the first entry point (mod.ts) exports, has at least one
// @example (which `deno test --doc` then runs) that asserts something. Reads
// `deno doc --json`.
// Overloads count as one member; constructors are covered by the class's own
// example; an example marked `ignore` (never run) does not count.
// Usage: node check_examples.mjs ENTRY...
import { execFileSync } from "node:child_process";

const entries = process.argv.slice(2);
const doc = JSON.parse(
  execFileSync("deno", ["doc", "--json", ...entries], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
    maxBuffer: 256 * 1024 * 1024, // the JSON passed Node's default 1 MiB with the overloads
  }),
);
/** The main entry point (mod.ts): the members of the classes it exports are checked too. */
const main = new URL(entries[0], `file://${process.cwd()}/`).href;

/** Whether a JSDoc block has a runnable @example that asserts. */
function hasExample(jsDoc) {
  return (jsDoc?.tags ?? []).some((tag) =>
    tag.kind === "example" && !/```ts ignore/.test(tag.doc ?? "") &&
    /\bassert\b|assert\.|assertEquals/.test(tag.doc ?? "")
  );
}

const missing = [];
for (const [file, module] of Object.entries(doc.nodes)) {
  const where = file.replace(/^file:\/\/.*?\/(src|mod)/, "$1");
  for (const symbol of module.symbols ?? []) {
    const declarations = symbol.declarations ?? [];
    if (!declarations.some((declaration) => hasExample(declaration.jsDoc))) {
      missing.push(`${where}: ${symbol.name}`);
    }
    for (const declaration of declarations) {
      if (declaration.kind !== "class" || file !== main) continue;
      const members = new Map();
      for (
        const member of [...declaration.def.methods ?? [], ...declaration.def.properties ?? []]
      ) {
        if (member.accessibility === "private" || member.accessibility === "protected") continue;
        members.set(member.name, (members.get(member.name) ?? false) || hasExample(member.jsDoc));
      }
      for (const [name, documented] of members) {
        if (!documented) missing.push(`${where}: ${symbol.name}.${name}`);
      }
    }
  }
}
if (missing.length > 0) {
  console.log(
    `Exported symbols and class members without an asserting @example (${missing.length}):`,
  );
  for (const line of missing) console.log(`  ${line}`);
  process.exit(1);
}
console.log(
  `Every exported symbol and public class member of ${
    entries.join(", ")
  } has an asserting @example`,
);
