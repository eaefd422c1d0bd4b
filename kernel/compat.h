/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference ra6mon cares about, in one place.
 * Supported: 5.10 to 6.12 (compile-tested on Debian's 6.1 and 6.12).
 */
#ifndef RA6MON_COMPAT_H
#define RA6MON_COMPAT_H

#include <linux/version.h>
#include <net/addrconf.h>
#include <net/ipv6.h>
#include <net/netlink.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 10, 0)
#error "ra6mon supports Linux 5.10 and later"
#endif

/* get_unaligned_be16() and friends moved from asm/ to linux/ in 6.12. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/*
 * Liberal parsing (unknown attributes ignored, as the ABI promises); the
 * name nlmsg_parse() became strict in 5.2 and the liberal one gained the
 * _deprecated suffix, which 5.10..6.12 all have.
 */
#define ra6mon_nlmsg_parse(nlh, tb, max, policy, extack) \
	nlmsg_parse_deprecated(nlh, 0, tb, max, policy, extack)

/*
 * The interface's RA policy, as ndisc_router_discovery() applies it.
 * ipv6_accept_ra() takes a const pointer and uses READ_ONCE from 6.9 on;
 * both forms are callable the same way.
 */
static inline bool ra6mon_accept_ra(struct inet6_dev *idev)
{
	return ipv6_accept_ra(idev);
}

#endif /* RA6MON_COMPAT_H */
