#!/bin/bash
# Installs a message of the day, the way a script written for Azure Image
# Builder would: as a non-root-aware script that uses sudo.
set -euo pipefail
sudo apt-get install -y -q --no-install-recommends jq
echo "Built by kiln from examples/hello-linux.json" | sudo tee /etc/motd >/dev/null
jq --version
