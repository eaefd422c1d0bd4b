#!/bin/bash
# Guest side of test/vm/ra-monitor.test.ts (and, with "bench", of bench/ra-latency.ts): RaMonitor and
# `ra6dhcp monitor` on the ra6mon source. Namespaces: rtr (radvd, crafted RAs on rt0) and c (eth0,
# where the monitors run). Facts go to $RA6_VM_OUT/ra-monitor/; the host asserts on them.
. test/vm/guest/lib.sh
OUT=$RA6_VM_OUT
DRIVER=$RA6_REPO/dist/test/vm/guest/ra-monitor-driver.js
CLI=$RA6_REPO/dist/src/cli/main.js
mode=${1:-test}
mkdir -p "$OUT/ra-monitor"

setup_ns() {
	ip netns add "$1"
	ip netns exec "$1" ip link set lo up
	ip netns exec "$1" sysctl -q -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0
}

setup_ns rtr
setup_ns c
ip netns exec rtr sysctl -q -w net.ipv6.conf.all.forwarding=1
ip -n rtr link add rt0 type veth peer name eth0 netns c
ip -n rtr link set rt0 up
ip -n c link set eth0 up
wait_for 10 sh -c "ip -n rtr -6 addr show dev rt0 scope link | grep -q fe80" || step "rt0 has no link-local address"

if [ "$mode" = test ]; then
	step "without the module"
	ip netns exec c node "$DRIVER" missing || result driver-missing fail "exit $?"
fi

step "insmod"
check insmod insmod "$RA6_MODULE" rate_limit=0

if [ "$mode" = bench ]; then
	# Baseline, side by side: the C test client registered in the same namespace receives the same RAs.
	rm -f /tmp/c-client.ready
	ip netns exec c "$RA6_REPO/test/vm/out/ra6mon-client" listen --ready /tmp/c-client.ready --timeout-ms 600000 \
		>"$OUT/ra-monitor/c-client.jsonl" 2>&1 &
	c_pid=$!
	wait_for 10 test -e /tmp/c-client.ready || step "the C client never registered"
	step "bench"
	ip netns exec c node ${RA6_NODE_FLAGS:-} "$DRIVER" bench "${2:-1000}" "${3:-2000}" "${4:-20000}" && result driver-bench ok || result driver-bench fail "exit $?"
	kill -TERM $c_pid; wait $c_pid 2>/dev/null
	exit 0
fi

step "radvd (before any monitor starts)"
cat >/tmp/radvd.conf <<'CONF'
interface rt0 {
	AdvSendAdvert on;
	AdvManagedFlag on;
	AdvOtherConfigFlag on;
	AdvDefaultLifetime 1800;
	AdvDefaultPreference high;
	prefix 2001:db8:1::/64 { AdvValidLifetime 86400; AdvPreferredLifetime 14400; };
	RDNSS 2001:db8::53 { AdvRDNSSLifetime 600; };
	DNSSL example.com { AdvDNSSLLifetime 600; };
};
CONF
ip netns exec rtr radvd -C /tmp/radvd.conf -p /tmp/radvd.pid -n -m stderr >"$OUT/ra-monitor/radvd.log" 2>&1 &
radvd_pid=$!
wait_for 20 sh -c "ip netns exec c cat /proc/net/ra6mon | grep -Eq 'ra_accepted +[1-9]'" || step "no RA accepted from radvd"
# SIGKILL: no final RA (lifetime 0) later; the kernel remembers the last one for the replay.
kill -KILL $radvd_pid; wait $radvd_pid 2>/dev/null
ip netns exec c cat /proc/net/ra6mon | save ra-monitor/proc-after-radvd.txt

step "the CLI shows the remembered RA (replayed at start) and exits after --count 1"
ip netns exec c timeout 60 node "$CLI" monitor --source ra6mon --interface eth0 --count 1 >"$OUT/ra-monitor/cli.txt" 2>"$OUT/ra-monitor/cli.err"
result cli-exit "$([ $? -eq 0 ] && echo ok || echo fail)" "$(cat "$OUT/ra-monitor/cli.err")"
ip netns exec c timeout 60 node "$CLI" monitor --source ra6mon --json --count 1 >"$OUT/ra-monitor/cli.jsonl" 2>>"$OUT/ra-monitor/cli.err"

step "driver"
ip netns exec c node "$DRIVER" main && result driver-main ok || result driver-main fail "exit $?"
ip netns exec c cat /proc/net/ra6mon | save ra-monitor/proc-end.txt
step "rmmod (every monitor closed its socket)"
check rmmod rmmod ra6mon
