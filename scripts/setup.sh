#!/usr/bin/env bash
# Idempotent set-up shared by the test command and the lab: Debian packages, npm packages, the
# TypeScript build, the addon and the kernel module. Safe to run again; it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup] %s\n' "$*" >&2; }

install_debian_packages() {
  local wanted missing=() p
  wanted=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' scripts/debian-packages.txt)
  for p in $wanted; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && { log "Debian packages: all present"; return 0; }
  if [ "$(id -u)" -ne 0 ]; then
    log "WARNING: missing Debian packages (${missing[*]}) and not root: tests that need them will skip"
    return 0
  fi
  log "installing Debian packages: ${missing[*]}"
  # Services must not start on the build machine: tests start their own daemons in namespaces.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' RETURN
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_npm_packages() {
  # npm records the installed tree in node_modules/.package-lock.json; when that is newer than
  # both manifests, the tree is what they ask for (npm ci would wipe and rebuild it for nothing).
  local record=node_modules/.package-lock.json
  if [ -f "$record" ] && [ "$record" -nt package.json ] && [ "$record" -nt package-lock.json ]; then
    log "npm packages: up to date"
    return 0
  fi
  if [ -f package-lock.json ]; then npm ci --no-fund --no-audit; else npm install --no-fund --no-audit; fi
}

install_debian_packages
install_npm_packages
log "compiling TypeScript"
npx tsc -p tsconfig.json
if [ -x scripts/build-addon.sh ]; then scripts/build-addon.sh; fi
if [ -x scripts/build-module.sh ]; then scripts/build-module.sh; fi
log "done"
