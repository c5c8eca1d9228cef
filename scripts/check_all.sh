#!/usr/bin/env bash
# The whole check, as CI runs it: format, lint, type check, doc tests, the
# test suite on Deno and on Bun, and a publish dry run. Deno and Bun come from
# node_modules (package.json pins them). The last line is the sum over both
# runtimes: "N passed, N failed" (a failed check counts as one failure).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
export NO_COLOR=1
mkdir -p .tmp
failed_checks=0

check() {
  echo "== $*"
  if ! "$@"; then
    echo "!! failed: $*"
    failed_checks=$((failed_checks + 1))
  fi
}

echo "deno $(deno --version | head -n 1 | cut -d' ' -f2), bun $(bun --version)"
# Through deno.json's tasks, so they stay runnable (`npx deno task lint`).
check deno task fmt
check deno task lint
check node scripts/check_examples.mjs mod.ts src/worker/mod.ts src/compat/threadpool.ts src/cluster/mod.ts src/cluster/node.ts
# Type checks here, code blocks of JSDoc and README included; the test runs below skip them
# (deno test would otherwise type-check the worker module again at every Worker start).
check deno check --doc mod.ts src tests bench examples
check deno check --doc-only README.md src/pool/README.md src/compat/README.md src/cluster/README.md

# Test files run in a random order each time (--shuffle); the seed is printed so that an
# order that fails can be run again: SHUFFLE_SEED=<seed> npm test.
shuffle_seed="${SHUFFLE_SEED:-$((RANDOM * 32768 + RANDOM))}"
echo "== deno test (tests/, doc tests), --shuffle=$shuffle_seed"
deno test -A --no-check --v8-flags=--expose-gc --parallel --shuffle="$shuffle_seed" \
  --junit-path=.tmp/deno-junit.xml tests/ 2>&1 | tee .tmp/deno-test.log
deno test -A --no-check --doc --junit-path=.tmp/deno-doc-junit.xml mod.ts src README.md src/pool/README.md src/compat/README.md src/cluster/README.md 2>&1 | tee .tmp/deno-doc.log
echo "== bun test"
bun test tests/ 2>&1 | tee .tmp/bun-test.log

check deno publish --dry-run --allow-dirty

node scripts/count_results.mjs "$failed_checks" .tmp/deno-junit.xml .tmp/deno-doc-junit.xml .tmp/bun-test.log
