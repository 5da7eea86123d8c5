#!/usr/bin/env bash
# Prints build figures for examples/hello-linux.json on this machine:
# a cold build (empty KILN_HOME: mmdebstrap from the archive) and a warm
# build (base cached, a script changed), each with its time per step.
# Needs root and the host packages (scripts/setup).
set -euo pipefail
cd "$(dirname "$0")/.."
KILN=${KILN:-$PWD/bin/kiln}
[ -x "$KILN" ] || go build -o bin/kiln ./cmd/kiln
HOME_DIR=$(mktemp -d /var/tmp/kiln-bench.XXXXXX)
trap 'rm -rf "$HOME_DIR"' EXIT
export KILN_HOME=$HOME_DIR
$KILN group create -n ImageBuilderRG -l eastus -o none

steps() {
  $KILN image builder output artifacts -g ImageBuilderRG -n "$1" \
    --query "timings[].{step:step, subState:subState, seconds:seconds}" -o table
}

run() {
  local name=$1 file=$2
  local t0 t1
  t0=$(date +%s.%N)
  $KILN build "$file" -g ImageBuilderRG -n "$name" -o none
  t1=$(date +%s.%N)
  printf '%s: %.1f s end to end\n' "$name" "$(echo "$t1 - $t0" | bc)"
  steps "$name"
}

echo "== cold build (empty cache)"
run cold examples/hello-linux.json

echo "== warm build (base cached, a script changed)"
WARM=$(mktemp -d)
cp -r examples/. "$WARM/"
echo 'echo "warm rebuild $(date)" | sudo tee -a /etc/motd' >> "$WARM/files/install-motd.sh"
SUM=$(sha256sum "$WARM/files/install-motd.sh" | cut -d' ' -f1)
python3 - "$WARM/hello-linux.json" "$SUM" <<'PY'
import json, sys
p, s = sys.argv[1], sys.argv[2]
t = json.load(open(p))
for c in t["properties"]["customize"]:
    if c.get("name") == "install-motd":
        c["sha256Checksum"] = s
json.dump(t, open(p, "w"), indent=2)
PY
run warm "$WARM/hello-linux.json"
rm -rf "$WARM"
