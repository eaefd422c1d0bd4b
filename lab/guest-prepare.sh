# Sourced by the guest scripts of the lab and of test/vm/client-e2e.test.ts (after
# test/vm/guest/lib.sh): makes /etc writable in the guest (a tmpfs overlay over the build machine's
# read-only /etc, so NetnsLab can give every namespace its /etc/netns/NS/resolv.conf) and loads
# ra6mon.ko. Nothing of this reaches the build machine: the overlay's upper layer is guest memory.
prepare_guest() { # [ra6mon module parameters...]
	mkdir -p /tmp/etc-overlay/upper /tmp/etc-overlay/work
	mount -t overlay overlay -o lowerdir=/etc,upperdir=/tmp/etc-overlay/upper,workdir=/tmp/etc-overlay/work /etc ||
		{ step "cannot overlay /etc"; return 1; }
	insmod "$RA6_MODULE" "$@" || { step "insmod $RA6_MODULE failed"; return 1; }
}
