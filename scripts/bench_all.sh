#!/usr/bin/env bash
# The benchmark suite of issue 5: the mitata runner on Deno and on Bun
# (every scenario side by side, then the ratio table against the targets),
# then `deno bench` over bench/. Deno and Bun come from node_modules.
#   bash scripts/bench_all.sh            full sizes (each runtime's runner ~2-3 min)
#   bash scripts/bench_all.sh --quick    smaller sizes (same as BENCH_QUICK=1)
# Output is also kept in .tmp/bench-{deno,bun,deno-bench}.md.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
export NO_COLOR=1
if [[ "${1:-}" == "--quick" ]]; then export BENCH_QUICK=1; fi
mkdir -p .tmp
status=0

echo "== deno run -A --v8-flags=--expose-gc bench/mitata.ts"
deno run -A --v8-flags=--expose-gc bench/mitata.ts 2>&1 | tee .tmp/bench-deno.md
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1

echo "== bun bench/mitata.ts"
bun bench/mitata.ts 2>&1 | tee .tmp/bench-bun.md
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1

echo "== deno bench -A bench/"
# The files with Deno.bench suites (bench/cluster_bench.ts is a script of its own).
deno bench -A $(grep -l "Deno.bench" bench/*.ts) 2>&1 | tee .tmp/bench-deno-bench.md
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1

exit "$status"
