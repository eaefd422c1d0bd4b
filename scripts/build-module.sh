#!/usr/bin/env bash
# Builds kernel/ra6mon.ko for the test VM and the lab, against Debian's packaged kernel headers,
# never `uname -r` (the build machines' own kernel has no headers and never loads the module).
# Picks the newest /lib/modules/*-amd64 that has both headers and a /boot/vmlinuz (the VM boots
# it), else the newest with headers. KRELEASE=<release> overrides. Prints the release it built for.
# Skips (exit 0, loud) when no headers are installed: the VM tests then skip through need().
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[build-module] %s\n' "$*" >&2; }

pick_release() {
  local r with_headers=() bootable=()
  for r in $(ls /lib/modules 2>/dev/null | grep -- '-amd64$' | sort -V); do
    [ -e "/lib/modules/$r/build/Makefile" ] || continue
    with_headers+=("$r")
    [ -e "/boot/vmlinuz-$r" ] && bootable+=("$r")
  done
  if [ ${#bootable[@]} -gt 0 ]; then echo "${bootable[-1]}"
  elif [ ${#with_headers[@]} -gt 0 ]; then echo "${with_headers[-1]}"
  fi
}

release=${KRELEASE:-$(pick_release)}
if [ -z "$release" ]; then
  log "SKIPPED: no Debian -amd64 kernel headers in /lib/modules (install linux-headers-amd64: scripts/setup.sh)"
  exit 0
fi
kdir=/lib/modules/$release/build
[ -e "$kdir/Makefile" ] || { log "no headers for $release at $kdir"; exit 1; }

# One build at a time: the VM suites of several engineers may call this together.
exec 9>"${TMPDIR:-/tmp}/ra6mon-build-$(id -u).lock"
flock 9
if [ -f kernel/ra6mon.ko ] && [ "$(modinfo -F vermagic kernel/ra6mon.ko | cut -d' ' -f1)" = "$release" ] &&
   [ -z "$(find kernel -newer kernel/ra6mon.ko \( -name '*.c' -o -name '*.h' -o -name Kbuild -o -name Makefile \) -print -quit)" ]; then
  log "kernel/ra6mon.ko is up to date for $release"
else
  log "building kernel/ra6mon.ko for $release"
  out=$(make -C kernel KDIR="$kdir" module 2>&1) || { printf '%s\n' "$out" >&2; exit 1; }
  if grep -q 'warning:' <<<"$out"; then printf '%s\n' "$out" | grep 'warning:' >&2; log "built with warnings"; fi
fi
echo "$release"
