/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ra6mon: notifies registered userspace clients of every ICMPv6 Router
 * Advertisement the kernel accepts, over a private netlink protocol.
 *
 * This header is the only definition of the wire format. It is included by
 * the module (kernel/) and by the Node.js addon (addon/); the TypeScript side
 * reads the constants generated from it at build time.
 *
 * Conversation, per network namespace:
 *   client -> kernel  RA6MON_MSG_REGISTER (NLM_F_ACK), optional
 *                     RA6MON_A_FILTER nest of RA6MON_A_IFINDEX u32 values
 *   kernel -> client  RA6MON_MSG_RA_EVENT with RA6MON_A_REPLAYED, one per
 *                     interface with a remembered RA (sent before the ack)
 *   kernel -> client  NLMSG_ERROR ack (error 0, or -EPERM, -ENOSPC, -EINVAL)
 *   kernel -> client  RA6MON_MSG_RA_EVENT for every accepted RA
 *   client -> kernel  RA6MON_MSG_GET_STATS, answered by RA6MON_MSG_STATS
 *   client -> kernel  RA6MON_MSG_UNREGISTER (or just close the socket)
 *
 * Replayed events carry the REGISTER request's nlmsg_seq; live events carry
 * nlmsg_seq 0. A replayed RA keeps its original RA6MON_A_SEQ, so a client can
 * drop an RA it hears both live and replayed around its registration.
 * Error acks: -EPERM (no CAP_NET_ADMIN), -ENOSPC (max_clients reached),
 * -EINVAL (malformed attributes), -E2BIG (filter longer than
 * RA6MON_FILTER_MAX), -EOPNOTSUPP (unknown message type), -ENOENT
 * (UNREGISTER of a socket that is not registered); with NETLINK_EXT_ACK the
 * ack names the problem. GET_STATS needs no privilege. Nests are sent with
 * NLA_F_NESTED set in nla_type: mask it (NLA_TYPE_MASK) before comparing.
 * Accounting, per namespace: ra_seen = ra_accepted + the sum of rejects; and
 * for each accepted RA, every client whose filter matches counts once in
 * exactly one of notify_sent, notify_ratelimited, notify_queue_full,
 * notify_nomem or notify_port_gone.
 *
 * The client's identity is the netlink port id of its socket, taken by the
 * kernel from the message's sender; nothing in a message names a port.
 * All integers in attributes are in host byte order, except addresses
 * (struct in6_addr, network order) and RA6MON_A_ND_OPTIONS (raw bytes as
 * received).  Unknown attributes must be ignored by both sides.
 */
#ifndef _UAPI_LINUX_RA6MON_H
#define _UAPI_LINUX_RA6MON_H

#include <linux/types.h>

/* Default netlink protocol number; the module parameter "protocol" overrides it. */
#define RA6MON_PROTOCOL_DEFAULT		31
#define RA6MON_PROTOCOL_SYSFS_PATH	"/sys/module/ra6mon/parameters/protocol"

/* Incremented on incompatible changes; compatible growth adds attributes. */
#define RA6MON_ABI_VERSION		1

/* Most interfaces one registration can filter on. */
#define RA6MON_FILTER_MAX		32

/* Message types (nlmsg_type); values below NLMSG_MIN_TYPE are reserved. */
enum ra6mon_msg_type {
	RA6MON_MSG_REGISTER = 0x10,
	RA6MON_MSG_UNREGISTER,
	RA6MON_MSG_RA_EVENT,
	RA6MON_MSG_GET_STATS,
	RA6MON_MSG_STATS,
	__RA6MON_MSG_MAX,
};
#define RA6MON_MSG_MAX (__RA6MON_MSG_MAX - 1)

/* Top-level attributes of every ra6mon message. */
enum ra6mon_attr {
	RA6MON_A_UNSPEC,
	RA6MON_A_ABI_VERSION,		/* u32: RA6MON_ABI_VERSION, in every kernel message */
	RA6MON_A_IFINDEX,		/* u32 */
	RA6MON_A_IFNAME,		/* NUL-terminated string, < IFNAMSIZ */
	RA6MON_A_ROUTER,		/* struct in6_addr: the RA's source (link-local) */
	RA6MON_A_DADDR,			/* struct in6_addr: the RA's destination */
	RA6MON_A_HOP_LIMIT,		/* u8: Cur Hop Limit field of the RA */
	RA6MON_A_FLAGS,			/* u8: the RA's flags byte (RA6MON_RA_F_*) */
	RA6MON_A_ROUTER_LIFETIME,	/* u16: seconds */
	RA6MON_A_REACHABLE_TIME,	/* u32: milliseconds */
	RA6MON_A_RETRANS_TIMER,		/* u32: milliseconds */
	RA6MON_A_TIMESTAMP_NS,		/* u64: receive time, in the clock below */
	RA6MON_A_TIMESTAMP_CLOCK,	/* u32: clockid_t of the timestamp (CLOCK_MONOTONIC) */
	RA6MON_A_SEQ,			/* u64: per-namespace sequence number of accepted RAs */
	RA6MON_A_REPLAYED,		/* flag: a remembered RA sent on registration */
	RA6MON_A_ND_OPTIONS,		/* binary: the RA's ND options, as received */
	RA6MON_A_FILTER,		/* nest of RA6MON_A_IFINDEX (REGISTER only) */
	RA6MON_A_STATS,			/* nest of RA6MON_STAT_* u64 (STATS only) */
	RA6MON_A_PAD,			/* padding for 64-bit attributes */
	__RA6MON_A_MAX,
};
#define RA6MON_A_MAX (__RA6MON_A_MAX - 1)

/* Bits of RA6MON_A_FLAGS, as in the RA (RFC 4861, RFC 4191, RFC 3775). */
#define RA6MON_RA_F_MANAGED		0x80	/* M */
#define RA6MON_RA_F_OTHER		0x40	/* O */
#define RA6MON_RA_F_HOME_AGENT		0x20	/* H */
#define RA6MON_RA_F_PRF_MASK		0x18	/* router preference, 2 bits */
#define RA6MON_RA_F_PRF_SHIFT		3
#define RA6MON_RA_F_PROXY		0x04	/* P (RFC 4389) */

/*
 * Why an RA was not accepted, mirroring the checks of ndisc_rcv() and
 * ndisc_router_discovery(). Each has its own counter.
 */
enum ra6mon_reject {
	RA6MON_REJECT_FRAGMENT,		/* arrived in a fragment */
	RA6MON_REJECT_HOP_LIMIT,	/* IPv6 hop limit != 255 */
	RA6MON_REJECT_SOURCE,		/* source not link-local unicast, or a host (link layer) */
	RA6MON_REJECT_CODE,		/* ICMPv6 code != 0 */
	RA6MON_REJECT_LENGTH,		/* ICMPv6 length < 16 */
	RA6MON_REJECT_OPTION,		/* zero-length option or option past the end */
	RA6MON_REJECT_CHECKSUM,		/* ICMPv6 checksum wrong */
	RA6MON_REJECT_POLICY,		/* the interface does not accept RAs */
	RA6MON_REJECT_NO_IDEV,		/* no IPv6 state on the interface */
	__RA6MON_REJECT_MAX,
};
#define RA6MON_REJECT_COUNT __RA6MON_REJECT_MAX

/* Attributes inside RA6MON_A_STATS, all u64 except RA6MON_STAT_CLIENTS (u32). */
enum ra6mon_stat {
	RA6MON_STAT_UNSPEC,
	RA6MON_STAT_PAD,
	RA6MON_STAT_RA_SEEN,		/* ICMPv6 type 134 packets the hook saw */
	RA6MON_STAT_RA_ACCEPTED,
	RA6MON_STAT_NOTIFY_SENT,	/* notifications queued to clients */
	RA6MON_STAT_NOTIFY_RATELIMITED,	/* dropped by the per-interface rate limit */
	RA6MON_STAT_NOTIFY_QUEUE_FULL,	/* dropped: client's receive queue full */
	RA6MON_STAT_NOTIFY_NOMEM,	/* dropped: allocation failed */
	RA6MON_STAT_CLIENTS,		/* u32: registered clients now */
	/* Appended after ABI version 1 was first published (compatible growth): */
	RA6MON_STAT_NOTIFY_PORT_GONE,	/* dropped: the client's port was closed (removed) */
	RA6MON_STAT_NOTIFY_REPLAYED,	/* events replayed on registration (not counted as sent) */
	RA6MON_STAT_RA_NOT_REMEMBERED,	/* accepted RAs not kept for replay (max_interfaces) */
	RA6MON_STAT_INTERFACES,		/* u32: interfaces with remembered state now */
	/* RA6MON_STAT_REJECT_BASE + enum ra6mon_reject: rejected RAs per reason */
	RA6MON_STAT_REJECT_BASE = 0x20,
	__RA6MON_STAT_MAX = RA6MON_STAT_REJECT_BASE + RA6MON_REJECT_COUNT,
};
#define RA6MON_STAT_MAX (__RA6MON_STAT_MAX - 1)

#endif /* _UAPI_LINUX_RA6MON_H */
