// deno-lint-ignore-file no-console -- a command-line report
// Sums test results over both runtimes and prints "N passed, N failed".
// Deno's results come from its JUnit reports (one <testcase> per test and per
// node:test `it`), Bun's from the closing lines of `bun test`.
// Usage: node count_results.mjs FAILED_CHECKS DENO_JUNIT... BUN_LOG
import { existsSync, readFileSync } from "node:fs";

const [failedChecks, ...files] = process.argv.slice(2);
const bunLog = files.pop();
let passed = 0;
let failed = Number(failedChecks) || 0;

for (const file of files) {
  if (!existsSync(file)) {
    console.log(`missing report ${file}: counted as one failure`);
    failed++;
    continue;
  }
  const xml = readFileSync(file, "utf8");
  const cases = [...xml.matchAll(/<testcase name="([^"]*)"[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g)]
    .map(([, name, body]) => ({ name, body: body ?? "" }));
  // A describe() block is a test case too, with its it()s named "block > it":
  // count only the leaves, as Bun does.
  const names = cases.map((c) => c.name);
  let p = 0;
  let f = 0;
  const failedNames = new Set(cases.filter((c) => /<failure\b/.test(c.body)).map((c) => c.name));
  for (const { name, body } of cases) {
    const inside = `${name} &gt; `;
    if (names.some((other) => other.startsWith(inside))) {
      // A block's own failure that none of its it()s carries is one more: an it()
      // whose promise never settled is reported "skipped", and only its block
      // fails ("Promise resolution is still pending").
      if (failedNames.has(name) && ![...failedNames].some((other) => other.startsWith(inside))) f++;
      continue;
    }
    if (/<failure\b/.test(body)) f++;
    else if (!/<skipped\b/.test(body)) p++;
  }
  console.log(`deno ${file}: ${p} passed, ${f} failed`);
  passed += p;
  failed += f;
}

const log = existsSync(bunLog) ? readFileSync(bunLog, "utf8") : "";
const bunPass = /^\s*(\d+) pass$/m.exec(log);
const bunFail = /^\s*(\d+) fail$/m.exec(log);
if (!bunPass) {
  console.log("bun: no result line: counted as one failure");
  failed++;
} else {
  console.log(`bun: ${bunPass[1]} passed, ${bunFail?.[1] ?? 0} failed`);
  passed += Number(bunPass[1]);
  failed += Number(bunFail?.[1] ?? 0);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
