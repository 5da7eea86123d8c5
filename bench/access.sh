#!/usr/bin/env bash
# Prints the cost of one authorization check as every service call makes
# it: through the authz cache over the SQLite store (a prepared read of
# the access generation, then the cached snapshot), in a tenant of 1,000
# role assignments and 100 nested groups (budget: 20 µs a check). Exits
# non-zero when over budget. Pass -count N (or other `go test` flags) to
# repeat. Needs only Go.
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET_NS=${BUDGET_NS:-20000}

OUT=$(go test -run XXX -bench StoreBackedCheck -benchmem "$@" ./internal/rbac/)
echo "$OUT" | grep -E '^(goos|goarch|cpu|Benchmark)'

echo
echo "$OUT" | awk -v budget="$BUDGET_NS" '
  /^BenchmarkStoreBackedCheck/ {
    for (i = 1; i <= NF; i++) if ($(i+1) == "ns/op") ns = $i
    verdict = (ns + 0 <= budget) ? "ok" : "OVER BUDGET"
    printf "%-48s %10.2f µs/check  %s\n", "store-backed check (1,000 assignments, 100 groups)", ns / 1000, verdict
    if (ns + 0 > budget) over = 1
  }
  END { exit over }
'
