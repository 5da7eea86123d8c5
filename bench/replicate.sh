#!/usr/bin/env bash
# Prints replication throughput on this machine: kiln's replication of a
# 2 GiB sparse image holding ~400 MB of random data to a second region
# directory (copy, fsync, verification against the sha256-verified source
# as publish does it, atomic rename), against
# `cp --sparse=always` of the same file on the same disk, and the ratio.
# Throughput counts the apparent size (2 GiB) for both. Both read a warm
# page cache (the file was just written). Each figure is the best of RUNS.
# The target is kiln >= 80% of cp; a replica is fsynced before it is
# renamed into place, so the comparison that counts is cp followed by sync.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
WORK=$(mktemp -d "${BENCH_DIR:-/var/tmp}/kiln-replicate.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

SRC=$WORK/src.img
truncate -s 2G "$SRC"
for i in 0 1 2 3; do # 4 x 100 MiB of random data, 500 MiB apart
  dd if=/dev/urandom of="$SRC" bs=1M count=100 seek=$((i * 500)) conv=notrunc status=none
done
sync
SIZE=$(stat -c %s "$SRC")
echo "source: $SIZE bytes apparent, $(du -B1 "$SRC" | cut -f1) bytes allocated, on $(df --output=source,fstype "$WORK" | tail -1)"

now() { date +%s.%N; }
# best_time CMD...: the shortest wall time of RUNS runs of CMD (after rm of $WORK/cp.img).
best_time() {
  local best="" t0 t1 t
  for _ in $(seq "$RUNS"); do
    rm -f "$WORK/cp.img"
    t0=$(now); "$@"; t1=$(now)
    t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    if [ -z "$best" ] || awk -v t="$t" -v b="$best" 'BEGIN { exit !(t < b) }'; then best=$t; fi
  done
  echo "$best"
}

CP=$(best_time cp --sparse=always "$SRC" "$WORK/cp.img")
CPSYNC=$(best_time sh -c 'cp --sparse=always "$1" "$2" && sync "$2"' _ "$SRC" "$WORK/cp.img")
rm -f "$WORK/cp.img"

go build -o "$WORK/replicate-bench" ./bench/replicate
"$WORK/replicate-bench" -src "$SRC" -dir "$WORK/region" -runs "$RUNS" | tee "$WORK/kiln.out"
val() { sed -n "s/^$1=//p" "$WORK/kiln.out"; }
KILN=$(val KILN_TOTAL_SECONDS)
KILNCOPY=$(val KILN_COPY_SYNC_SECONDS)

awk -v size="$SIZE" -v cp="$CP" -v cpsync="$CPSYNC" -v kiln="$KILN" -v kcopy="$KILNCOPY" -v method="$(val KILN_METHOD)" 'BEGIN {
  gbs = 1024 * 1024 * 1024
  printf "\n%-44s %8.3f s  %7.2f GiB/s\n", "cp --sparse=always", cp, size / gbs / cp
  printf "%-44s %8.3f s  %7.2f GiB/s\n", "cp --sparse=always && sync", cpsync, size / gbs / cpsync
  printf "%-44s %8.3f s  %7.2f GiB/s  (%s)\n", "kiln replicate (copy+fsync+compare+rename)", kiln, size / gbs / kiln, method
  printf "%-44s %8.3f s  %7.2f GiB/s\n", "  of which copy+fsync", kcopy, size / gbs / kcopy
  printf "\nratio kiln / (cp --sparse=always && sync):  %6.1f %%  (target >= 80 %%: the same copy made as durable as a replica must be)\n", 100 * cpsync / kiln
  printf "ratio kiln / cp --sparse=always alone:     %6.1f %%  (cp leaves the data in the page cache, unsynced)\n", 100 * cp / kiln
}'
