#!/usr/bin/env bash
# Prints the policy engine's figures on this machine, on one core: the
# hardening guide's deny rule against VM resources (budget: 100,000
# evaluations a second) with and without a trace, and a compliance scan
# (plus summary) of 100,000 resources against 10 assignments (budget:
# 10 s). Exits non-zero when a figure is over budget. Pass -count N (or
# other `go test` flags) to repeat. Needs only Go.
set -euo pipefail
cd "$(dirname "$0")/.."
MIN_EVALS=${MIN_EVALS:-100000}
MAX_SCAN_S=${MAX_SCAN_S:-10}

OUT=$(go test -run XXX -cpu 1 -bench 'BenchmarkGuideRule' -benchmem "$@" ./internal/policy/
      go test -run XXX -cpu 1 -bench 'BenchmarkComplianceScan' -benchtime 3x -benchmem "$@" ./internal/policy/)
echo "$OUT" | grep -E '^(goos|goarch|cpu):' | sort -u
echo "$OUT" | grep -E '^Benchmark'

echo
echo "$OUT" | awk -v min="$MIN_EVALS" -v maxs="$MAX_SCAN_S" '
  function metric(unit,   i) { for (i = 1; i < NF; i++) if ($(i+1) == unit) return $i; return "" }
  /^BenchmarkGuideRule/ {
    e = metric("evals/s")
    verdict = (e + 0 >= min) ? "ok" : "UNDER BUDGET"
    printf "%-40s %12.0f evaluations/s  %s\n", $1, e, verdict
    if (e + 0 < min) bad = 1
  }
  /^BenchmarkComplianceScan/ {
    s = metric("s/scan")
    verdict = (s + 0 <= maxs) ? "ok" : "OVER BUDGET"
    printf "%-40s %12.2f s a scan (%d records, %.1f%% compliant)  %s\n", $1, s, metric("records"), metric("%compliant"), verdict
    if (s + 0 > maxs) bad = 1
  }
  END { exit bad }
'
