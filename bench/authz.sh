#!/usr/bin/env bash
# Prints the authorization engine's figures on this machine: one check in a
# tenant of 1,000 role assignments and 100 nested groups (budget: 20 µs a
# check), a check through the Cache, a principal's first check, building
# a snapshot, and matching one action pattern. Exits non-zero when a check
# is over budget. Pass -count N (or other `go test` flags) to repeat.
# Needs only Go.
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET_NS=${BUDGET_NS:-20000}

OUT=$(go test -run XXX -bench . -benchmem "$@" ./internal/authz/)
echo "$OUT" | grep -E '^(goos|goarch|cpu|Benchmark)'

echo
echo "$OUT" | awk -v budget="$BUDGET_NS" '
  /^Benchmark(Check|CacheCheck)/ {
    for (i = 1; i <= NF; i++) if ($(i+1) == "ns/op") ns = $i
    name = $1; sub(/-[0-9]+$/, "", name)
    verdict = (ns + 0 <= budget) ? "ok" : "OVER BUDGET"
    printf "%-48s %10.2f µs/check  %s\n", name, ns / 1000, verdict
    if (ns + 0 > budget) over = 1
  }
  END { exit over }
'
