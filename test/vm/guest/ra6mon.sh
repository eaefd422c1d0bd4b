#!/bin/bash
# Guest side of ra6mon.test.ts: one boot, every scenario of issue 3. Each scenario leaves its raw
# facts (client JSON lines, counters, /proc snapshots) under $RA6_VM_OUT/<scenario>/ and the host
# test asserts on them; `result` lines record what only the guest can see (exit codes, insmod).
# Namespaces: rtr (router; radvd and crafted RAs) joined by veth to a (ra0<->a0) and b (rb0<->b0).
. test/vm/guest/lib.sh
CLIENT=$RA6_REPO/test/vm/out/ra6mon-client
CRAFT="$PY $RA6_REPO/test/vm/guest/craft_ra.py"
OUT=$RA6_VM_OUT
PARAMS=/sys/module/ra6mon/parameters
pids=()

# in_ns NS COMMAND...: NS "init" is the guest's initial namespace.
in_ns() {
	local ns=$1
	shift
	if [ "$ns" = init ]; then "$@"; else ip netns exec "$ns" "$@"; fi
}

# start_client NAME NS ARGS...: a listening client in the background, its output in NAME.jsonl.
start_client() {
	local name=$1 ns=$2
	shift 2
	mkdir -p "$(dirname "$OUT/$name")"
	rm -f "/tmp/$(basename "$name").ready"
	# Started directly (not through a function) so that $! is the client's own PID.
	if [ "$ns" = init ]; then
		"$CLIENT" listen --ready "/tmp/$(basename "$name").ready" "$@" >"$OUT/$name.jsonl" 2>&1 &
	else
		ip netns exec "$ns" "$CLIENT" listen --ready "/tmp/$(basename "$name").ready" "$@" >"$OUT/$name.jsonl" 2>&1 &
	fi
	pids+=($!)
	eval "PID_$(basename "$name" | tr -c 'a-zA-Z0-9\n' _)=$!"
	wait_for 10 test -e "/tmp/$(basename "$name").ready" || step "client $name never registered"
}

stop_pid() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

proc_ns() { in_ns "$1" cat /proc/net/ra6mon; }

setup_ns() {
	local ns=$1
	ip netns add "$ns"
	in_ns "$ns" ip link set lo up
	in_ns "$ns" sysctl -q -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0
}

link_ns() {	# link_ns RTR_IF NS NS_IF
	ip -n rtr link add "$1" type veth peer name "$3" netns "$2"
	ip -n rtr link set "$1" up
	in_ns "$2" ip link set "$3" up
}

ll_addr() { in_ns "$1" ip -6 -o addr show dev "$2" scope link | awk '{print $4}' | cut -d/ -f1; }
ifindex() { in_ns "$1" cat "/sys/class/net/$2/ifindex"; }

step "insmod refusals"
# Protocol 0 is rtnetlink's: loading must fail and say which parameter to change.
dmesg -C
if insmod "$RA6_MODULE" protocol=0 2>/dev/null; then
	result insmod-protocol-taken fail "insmod succeeded with protocol=0"; rmmod ra6mon
else
	msg=$(dmesg | grep 'ra6mon:' | tail -1)
	if [[ $msg == *"protocol=N"* ]]; then result insmod-protocol-taken ok "$msg"
	else result insmod-protocol-taken fail "no message naming protocol=: $msg"; fi
fi
if insmod "$RA6_MODULE" protocol=99 2>/dev/null; then
	result insmod-protocol-range fail "insmod succeeded with protocol=99"; rmmod ra6mon
else
	msg=$(dmesg | grep 'ra6mon:' | tail -1)
	if [[ $msg == *"protocol=99 is out of range"* ]]; then result insmod-protocol-range ok "$msg"
	else result insmod-protocol-range fail "$msg"; fi
fi

step "namespaces (rtr and b before the module loads, a after)"
setup_ns rtr
in_ns rtr sysctl -q -w net.ipv6.conf.all.forwarding=1
setup_ns b
check insmod insmod "$RA6_MODULE"
check protocol-param grep -qx 31 $PARAMS/protocol
setup_ns a
link_ns ra0 a a0
link_ns rb0 b b0
wait_for 10 test -n "$(ll_addr rtr ra0)"
wait_for 10 test -n "$(ll_addr rtr rb0)"
wait_for 10 test -n "$(ll_addr a a0)"
{
	echo "{\"a0_ifindex\":$(ifindex a a0),\"b0_ifindex\":$(ifindex b b0),"
	echo "\"ra0_ll\":\"$(ll_addr rtr ra0)\",\"rb0_ll\":\"$(ll_addr rtr rb0)\","
	echo "\"ra0_mac\":\"$(in_ns rtr cat /sys/class/net/ra0/address)\",\"rb0_mac\":\"$(in_ns rtr cat /sys/class/net/rb0/address)\"}"
} | save topology.json

step "valid RA from radvd: two clients in a, one in b, one in the initial namespace"
start_client radvd/a1 a --timeout-ms 600000
start_client radvd/a2 a --timeout-ms 600000
start_client radvd/b b --timeout-ms 600000
start_client radvd/init init --timeout-ms 600000
proc_ns a | save radvd/proc-a-before.txt
cat >/tmp/radvd.conf <<'CONF'
interface ra0 {
	AdvSendAdvert on;
	MinRtrAdvInterval 30;
	MaxRtrAdvInterval 100;
	AdvManagedFlag on;
	AdvOtherConfigFlag on;
	AdvCurHopLimit 42;
	AdvDefaultLifetime 1234;
	AdvReachableTime 5678;
	AdvRetransTimer 910;
	AdvDefaultPreference high;
	prefix 2001:db8:1::/64 { AdvOnLink on; AdvAutonomous on; };
};
CONF
# Background processes start with `ip netns exec` itself (not the in_ns function), so $! is their PID.
ip netns exec rtr radvd -C /tmp/radvd.conf -p /tmp/radvd.pid -n -m stderr >"$OUT/radvd/radvd.log" 2>&1 &
radvd_pid=$!
wait_for 20 grep -q '"type":"event"' "$OUT/radvd/a1.jsonl" || step "no event from radvd"
wait_for 5 grep -q '"type":"event"' "$OUT/radvd/a2.jsonl"
sleep 0.5
kill -KILL $radvd_pid; wait $radvd_pid 2>/dev/null	# SIGKILL: no final RA with lifetime 0
proc_ns a | save radvd/proc-a-after.txt
in_ns a "$CLIENT" stats | save radvd/stats-a.jsonl
stop_pid "$PID_a1"; stop_pid "$PID_a2"

step "replay on registration"
in_ns a "$CLIENT" listen --timeout-ms 300 | save replay/plain.jsonl
in_ns a "$CLIENT" listen --filter 1 --timeout-ms 300 | save replay/other-filter.jsonl
in_ns a "$CLIENT" listen --filter "$(ifindex a a0)" --timeout-ms 300 | save replay/own-filter.jsonl
in_ns a "$CLIENT" listen --register-twice --timeout-ms 300 | save replay/twice.jsonl
proc_ns a | save replay/proc-a.txt

step "invalid RAs, one of each kind, then a valid one"
start_client invalid/a a --timeout-ms 600000
sleep 0.2
cat >/tmp/plan.json <<PLAN
[
 {"name": "hop-limit-254", "kind": "hop254"},
 {"name": "global-source", "kind": "global-src"},
 {"name": "code-1", "kind": "code1"},
 {"name": "icmp-length-15", "kind": "len15"},
 {"name": "zero-length-option", "kind": "zero-opt"},
 {"name": "option-past-end", "kind": "opt-past-end"},
 {"name": "bad-checksum", "kind": "bad-csum"},
 {"name": "fragmented", "kind": "fragment"},
 {"name": "accept-ra-0", "kind": "valid",
  "pre": [["ip", "netns", "exec", "a", "sysctl", "-q", "-w", "net.ipv6.conf.a0.accept_ra=0"]],
  "post": [["ip", "netns", "exec", "a", "sysctl", "-q", "-w", "net.ipv6.conf.a0.accept_ra=1"]]},
 {"name": "forwarding-1-accept-ra-1", "kind": "valid",
  "pre": [["ip", "netns", "exec", "a", "sysctl", "-q", "-w", "net.ipv6.conf.a0.forwarding=1"]],
  "post": [["ip", "netns", "exec", "a", "sysctl", "-q", "-w", "net.ipv6.conf.a0.forwarding=0"]]},
 {"name": "forwarding-1-accept-ra-2", "kind": "valid",
  "pre": [["ip", "netns", "exec", "a", "sysctl", "-q", "-w", "net.ipv6.conf.a0.forwarding=1", "net.ipv6.conf.a0.accept_ra=2"]],
  "post": [["ip", "netns", "exec", "a", "sysctl", "-q", "-w", "net.ipv6.conf.a0.forwarding=0", "net.ipv6.conf.a0.accept_ra=1"]]},
 {"name": "valid-crafted", "kind": "valid"}
]
PLAN
echo 1 >$PARAMS/debug
in_ns rtr $CRAFT plan --iface ra0 --plan /tmp/plan.json --proc "/proc/$PID_a/net/ra6mon" \
	>"$OUT/invalid/plan.jsonl" 2>"$OUT/invalid/plan.err"
result invalid-plan-ran "$([ $? -eq 0 ] && echo ok || echo fail)" "$(cat "$OUT/invalid/plan.err")"
echo 0 >$PARAMS/debug
dmesg | grep 'not accepted' | save invalid/debug-log.txt
sleep 0.2
stop_pid "$PID_a"

step "privilege, client limit, unregister"
in_ns a "$CLIENT" --as-nobody listen --timeout-ms 0 | save eperm/nobody.jsonl
proc_ns a | save eperm/proc-a.txt
echo 1 >$PARAMS/max_clients
start_client enospc/first a --timeout-ms 600000
in_ns a "$CLIENT" listen --timeout-ms 0 | save enospc/second.jsonl
echo 64 >$PARAMS/max_clients
stop_pid "$PID_first"
in_ns a "$CLIENT" unregister | save unregister/acks.jsonl

step "malformed requests"
le32() { printf '%02x%02x%02x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
le16() { printf '%02x%02x' $(($1 & 255)) $(($1 >> 8 & 255)); }
attr() { echo "$(le16 $((4 + ${#2} / 2)))$(le16 "$1")$2"; }	# attr TYPE HEXDATA (unpadded data)
REG=16 FILTER=$((16 | 0x8000)) IFX=2
thirty_three=''; for i in $(seq 1 33); do thirty_three+=$(attr $IFX "$(le32 "$i")"); done
one_unknown=$(attr 99 0102030405060708); many_unknown=''; for i in $(seq 1 500); do many_unknown+=$one_unknown; done
declare -A malformed=(
	[too-short]="$REG 0500"
	[truncated-attribute]="$REG 0800100001"
	[unknown-type]="48 "
	[filter-not-nested]="$REG $(attr 16 0102)"
	[filter-short-ifindex]="$REG $(attr $FILTER "$(attr $IFX 0100)")"
	[filter-wrong-attribute]="$REG $(attr $FILTER "$(attr 3 "$(le32 1)")")"
	[filter-ifindex-zero]="$REG $(attr $FILTER "$(attr $IFX "$(le32 0)")")"
	[filter-empty]="$REG $(attr $FILTER '')"
	[filter-oversized]="$REG $(attr $FILTER "$thirty_three")"
	[shorter-than-header]="65535 01020304"
	[unknown-attribute-ignored]="$REG $(attr 99 deadbeef)"
	[large-unknown-attributes-ignored]="$REG $many_unknown"
)
for name in "${!malformed[@]}"; do
	read -r type hex <<<"${malformed[$name]}"
	in_ns a "$CLIENT" send --type "$type" --hex "$hex" | save "malformed/$name.jsonl"
done
in_ns a "$CLIENT" stats | save malformed/stats-after.jsonl
proc_ns a | save malformed/proc-a.txt

step "SIGKILLed client"
start_client sigkill/survivor a --timeout-ms 600000
start_client sigkill/victim a --timeout-ms 600000
victim=$PID_victim
proc_ns a | save sigkill/proc-before.txt
kill -KILL "$victim"; wait "$victim" 2>/dev/null
wait_for 5 sh -c "! ip netns exec a grep -q 'portid=$victim ' /proc/net/ra6mon"
proc_ns a | save sigkill/proc-after-kill.txt
# A fresh, unregistered socket on the dead client's port id must hear nothing.
rm -f /tmp/passive.ready
ip netns exec a "$CLIENT" passive --portid "$victim" --ready /tmp/passive.ready --timeout-ms 1500 >"$OUT/sigkill/passive.jsonl" &
passive_pid=$!
wait_for 5 test -e /tmp/passive.ready
in_ns rtr $CRAFT send --iface ra0 --kind valid | save sigkill/sent.json
wait $passive_pid
proc_ns a | save sigkill/proc-after-ra.txt
echo "{\"victim_pid\":$victim}" | save sigkill/victim.json
stop_pid "$PID_survivor"

step "namespace isolation"
start_client isolation/a a --timeout-ms 600000
proc_ns a | save isolation/proc-a-before.txt
proc_ns b | save isolation/proc-b-before.txt
in_ns rtr $CRAFT send --iface ra0 --kind valid | save isolation/sent-a.json
sleep 0.3
proc_ns b | save isolation/proc-b-mid.txt
in_ns rtr $CRAFT send --iface rb0 --kind valid | save isolation/sent-b.json
sleep 0.3
proc_ns a | save isolation/proc-a-after.txt
proc_ns b | save isolation/proc-b-after.txt
stop_pid "$PID_a"
stop_pid "$PID_b"	# the b client registered before radvd ran: it must have heard only rb0's RA

step "queue full: a client that does not read"
echo 0 >$PARAMS/rate_limit
start_client queuefull/reader a --timeout-ms 600000
start_client queuefull/stalled a --timeout-ms 1500 --rcvbuf 4096 --no-read-ms 4000
proc_ns a | save queuefull/proc-before.txt
in_ns rtr $CRAFT send --iface ra0 --kind valid --count 50 | save queuefull/sent.json
sleep 0.3
proc_ns a | save queuefull/proc-after.txt
wait "$PID_stalled"
stop_pid "$PID_reader"

step "flood"
echo 50 >$PARAMS/rate_limit
echo 10 >$PARAMS/rate_burst
start_client flood/c1 a --timeout-ms 600000
start_client flood/c2 a --timeout-ms 600000
in_ns rtr $CRAFT send --iface ra0 --kind valid --count 500 | save flood/warmup.json
sleep 2
sync; echo 2 >/proc/sys/vm/drop_caches
grep -E '^(Slab|SUnreclaim):' /proc/meminfo | save flood/meminfo-before.txt
proc_ns a | save flood/proc-before.txt
t0=$(cut -d' ' -f1 /proc/uptime)
in_ns rtr $CRAFT send --iface ra0 --kind valid --count 20000 | save flood/sent.json
t1=$(cut -d' ' -f1 /proc/uptime)
sleep 0.5
proc_ns a | save flood/proc-after.txt
stop_pid "$PID_c1"; stop_pid "$PID_c2"
sleep 2	# RCU grace periods for the freed RAs
sync; echo 2 >/proc/sys/vm/drop_caches
grep -E '^(Slab|SUnreclaim):' /proc/meminfo | save flood/meminfo-after.txt
echo "{\"t0\":$t0,\"t1\":$t1,\"rate_limit\":50,\"rate_burst\":10}" | save flood/timing.json
echo 20 >$PARAMS/rate_limit
echo 40 >$PARAMS/rate_burst
stop_pid "$PID_init"

step "rmmod"
start_client rmmod/holder a --timeout-ms 600000
if rmmod ra6mon 2>"$OUT/rmmod-busy.err"; then result rmmod-refused-while-client-open fail "rmmod succeeded"
elif grep -q 'is in use' "$OUT/rmmod-busy.err"; then result rmmod-refused-while-client-open ok "$(cat "$OUT/rmmod-busy.err")"
else result rmmod-refused-while-client-open fail "$(cat "$OUT/rmmod-busy.err")"; fi
stop_pid "$PID_holder"
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
wait
# Namespace b dies with the module loaded (its pernet exit runs, with b0's RA remembered); a and
# rtr are still alive at rmmod (module exit tears their state down).
ip netns del b
sleep 0.5
proc_ns a | save ifdel/proc-before.txt
ip -n a link del a0
proc_ns a | save ifdel/proc-after.txt
check rmmod-after-clients-closed rmmod ra6mon
if [ -e /proc/net/ra6mon ]; then result proc-removed fail "/proc/net/ra6mon still there"; else result proc-removed ok; fi
for ns in a rtr; do ip netns del "$ns"; done
step "done"
