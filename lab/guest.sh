#!/bin/bash
# Guest side of scripts/lab.sh: runs in the test VM (test/vm/lib/vm.ts), loads ra6mon.ko and runs
# one lab scenario (src/lab/scenario.ts) with the ra6mon source. Its record lands in the share at
# lab/lab.json; the host prints the timeline. Arguments are passed on to the scenario.
. test/vm/guest/lib.sh
. lab/guest-prepare.sh
prepare_guest || exit 3
step "lab scenario"
node "$RA6_REPO/dist/src/lab/scenario.js" --out "$RA6_VM_OUT/lab" --name lab --ra-source ra6mon "$@"
rc=$?
ip netns list | save lab/netns-left.txt
exit $rc
