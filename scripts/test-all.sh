#!/usr/bin/env bash
# The README's test command: set up what is missing, then run every suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec bash scripts/run-tap.sh
