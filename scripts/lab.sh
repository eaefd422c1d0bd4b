#!/usr/bin/env bash
# The lab: RA -> kernel notification -> Solicit -> lease, printed as a timeline (README "The lab").
# As root on Debian 12: sets up what is missing (scripts/setup.sh), then boots the test VM with
# ra6mon.ko (or, with --no-vm, uses namespaces of this machine and the rtnetlink source).
# Usage: bash scripts/lab.sh [--no-vm] [--profile rfc3315|rfc8415] [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."
for arg in "$@"; do
	case $arg in -h | --help) exec node --import @tapjs/typescript/import src/lab/main.ts --help ;; esac
done
if [ "$(id -u)" -ne 0 ]; then
	echo "[lab] FAILED: run the lab as root (it creates network namespaces and boots QEMU): sudo bash scripts/lab.sh" >&2
	exit 1
fi
setup_log=$(mktemp /tmp/ra6dhcp-lab-setup.XXXXXX.log)
echo "[lab] setting up (scripts/setup.sh; log in $setup_log)"
if ! bash scripts/setup.sh >"$setup_log" 2>&1; then
	tail -n 30 "$setup_log" >&2
	echo "[lab] FAILED: scripts/setup.sh failed (whole log: $setup_log)" >&2
	exit 1
fi
rm -f "$setup_log"
# Bounded: QEMU is killed after 180 s and the lease must come within 60 s (30 s without the VM).
exec node --import @tapjs/typescript/import src/lab/main.ts "$@"
