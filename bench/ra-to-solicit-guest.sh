#!/bin/bash
# Guest side of bench/ra-to-solicit.ts: loads ra6mon.ko (rate limit off: the bench sends RAs
# back to back) and runs the driver. Arguments: trials for ra6dhcp, trials for dhcpcd.
. test/vm/guest/lib.sh
mkdir -p /tmp/etc-overlay/upper /tmp/etc-overlay/work
mount -t overlay overlay -o lowerdir=/etc,upperdir=/tmp/etc-overlay/upper,workdir=/tmp/etc-overlay/work /etc || exit 3
insmod "$RA6_MODULE" rate_limit=0 || exit 3
node "$RA6_REPO/dist/bench/ra-to-solicit-driver.js" --out "$RA6_VM_OUT/bench" --trials "${1:-200}" --dhcpcd-trials "${2:-${1:-200}}"
