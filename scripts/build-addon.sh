#!/usr/bin/env bash
# Builds the ra6mon Node addon (build/Release/ra6mon.node) with the pinned node-gyp, against the
# system's Node headers (never downloads them when /usr/include/node exists). Does nothing when the
# addon is newer than its sources. Called by `npm install` (the package's "install" script) and by
# scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[build-addon] %s\n' "$*" >&2; }
out=build/Release/ra6mon.node

if [ -f "$out" ] && [ -z "$(find binding.gyp addon -newer "$out" -print -quit)" ]; then
  log "$out is up to date"
  exit 0
fi

missing=()
command -v g++ >/dev/null || missing+=("g++")
command -v make >/dev/null || missing+=("make")
command -v python3 >/dev/null || missing+=("python3")
nodedir_args=()
if [ -f /usr/include/node/node.h ]; then
  nodedir_args=(--nodedir=/usr)
elif [ -n "${npm_config_nodedir:-}" ]; then
  nodedir_args=(--nodedir="$npm_config_nodedir")
else
  missing+=("the Node.js headers (/usr/include/node/node.h: Debian's libnode-dev, or NodeSource's nodejs)")
fi
if [ ${#missing[@]} -gt 0 ]; then
  log "cannot build the addon; missing: ${missing[*]}"
  log "fix: apt-get install --no-install-recommends g++ make python3 libnode-dev   (then run this script again)"
  exit 1
fi

gyp=node_modules/.bin/node-gyp
[ -x "$gyp" ] || { log "node-gyp is not installed: run 'npm ci' (or 'npm install') first"; exit 1; }
log "building $out"
if ! "$gyp" rebuild "${nodedir_args[@]}" --loglevel=warn >&2; then
  log "the addon build failed (see the compiler output above)."
  log "usual causes: missing g++, make or python3, or Node headers that do not match 'node --version'."
  log "fix: apt-get install --no-install-recommends g++ make python3 libnode-dev   (then run this script again)"
  exit 1
fi
log "built $out"
