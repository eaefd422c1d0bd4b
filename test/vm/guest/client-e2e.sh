#!/bin/bash
# Guest side of test/vm/client-e2e.test.ts: three lab scenarios (src/lab/scenario.ts) with the
# ra6mon source in one boot. Each writes its record (daemon log, capture, address events, leases)
# to $RA6_VM_OUT/e2e/NAME.json; the host asserts on them.
#   live    the daemon runs, then radvd's first RA (live) -> Solicit -> lease; a second RA while
#           bound starts nothing (--on-ra auto)
#   replay  radvd's RA is accepted and radvd killed before the daemon starts: only ra6mon's replay
#           can tell it M=1 (the Ready Logo order)
#   solicit --on-ra solicit: the second RA while bound starts a new Solicit
. test/vm/guest/lib.sh
. lab/guest-prepare.sh
prepare_guest || exit 3
SCENARIO=$RA6_REPO/dist/src/lab/scenario.js
run_scenario() {
	local name=$1
	shift
	step "scenario $name"
	node "$SCENARIO" --out "$RA6_VM_OUT/e2e" --name "$name" --ra-source ra6mon --raw-capture --timeout-ms 60000 "$@"
	result "scenario-$name" "$([ $? -eq 0 ] && echo ok || echo fail)"
}
run_scenario live --order daemon-first --extra-ra
run_scenario replay --order ra-first
run_scenario solicit --order daemon-first --on-ra solicit --extra-ra
ip netns list | save e2e/netns-left.txt
check rmmod rmmod ra6mon
