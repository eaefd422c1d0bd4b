#!/bin/bash
# Guest side of boot.test.ts: the basic properties every VM test relies on.
. test/vm/guest/lib.sh
result kernel-release ok "$(uname -r)"
if touch /usr/.ra6vm-probe 2>/dev/null; then result host-root-readonly fail "wrote /usr"; else result host-root-readonly ok; fi
check share-in-file grep -q 'from the host' "$RA6_VM_OUT/in/hello.txt"
check tmp-writable sh -c 'echo x > /tmp/probe && test -s /tmp/probe'
ip netns add smoke
check veth-autoload ip -n smoke link add v0 type veth peer name v1
ip netns del smoke
check module-loads insmod "$RA6_MODULE"
check proc-net-ra6mon grep -q '^protocol 31$' /proc/net/ra6mon
cat /proc/net/ra6mon
check module-unloads rmmod ra6mon
