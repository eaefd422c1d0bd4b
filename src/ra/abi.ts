// Wire constants. RA6MON mirrors kernel/include/uapi/linux/ra6mon.h; NETLINK and RTNETLINK mirror
// the kernel's uapi headers (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h). Both are checked
// by test/unit/ra/abi.test.ts, which compiles a C program against the headers and fails on any
// difference, so they cannot drift.

export const RA6MON = {
  PROTOCOL_DEFAULT: 31,
  PROTOCOL_SYSFS_PATH: '/sys/module/ra6mon/parameters/protocol',
  ABI_VERSION: 1,
  FILTER_MAX: 32,

  MSG_REGISTER: 0x10,
  MSG_UNREGISTER: 0x11,
  MSG_RA_EVENT: 0x12,
  MSG_GET_STATS: 0x13,
  MSG_STATS: 0x14,
  MSG_MAX: 0x14,

  A_UNSPEC: 0,
  A_ABI_VERSION: 1,
  A_IFINDEX: 2,
  A_IFNAME: 3,
  A_ROUTER: 4,
  A_DADDR: 5,
  A_HOP_LIMIT: 6,
  A_FLAGS: 7,
  A_ROUTER_LIFETIME: 8,
  A_REACHABLE_TIME: 9,
  A_RETRANS_TIMER: 10,
  A_TIMESTAMP_NS: 11,
  A_TIMESTAMP_CLOCK: 12,
  A_SEQ: 13,
  A_REPLAYED: 14,
  A_ND_OPTIONS: 15,
  A_FILTER: 16,
  A_STATS: 17,
  A_PAD: 18,
  A_MAX: 18,

  RA_F_MANAGED: 0x80,
  RA_F_OTHER: 0x40,
  RA_F_HOME_AGENT: 0x20,
  RA_F_PRF_MASK: 0x18,
  RA_F_PRF_SHIFT: 3,
  RA_F_PROXY: 0x04,

  REJECT_FRAGMENT: 0,
  REJECT_HOP_LIMIT: 1,
  REJECT_SOURCE: 2,
  REJECT_CODE: 3,
  REJECT_LENGTH: 4,
  REJECT_OPTION: 5,
  REJECT_CHECKSUM: 6,
  REJECT_POLICY: 7,
  REJECT_NO_IDEV: 8,
  REJECT_COUNT: 9,

  STAT_UNSPEC: 0,
  STAT_PAD: 1,
  STAT_RA_SEEN: 2,
  STAT_RA_ACCEPTED: 3,
  STAT_NOTIFY_SENT: 4,
  STAT_NOTIFY_RATELIMITED: 5,
  STAT_NOTIFY_QUEUE_FULL: 6,
  STAT_NOTIFY_NOMEM: 7,
  STAT_CLIENTS: 8,
  STAT_NOTIFY_PORT_GONE: 9,
  STAT_NOTIFY_REPLAYED: 10,
  STAT_RA_NOT_REMEMBERED: 11,
  STAT_INTERFACES: 12,
  STAT_REJECT_BASE: 0x20,
  STAT_MAX: 0x28,
} as const

/** Names of the RA6MON_REJECT_* reasons, by value. */
export const RA6MON_REJECT_NAMES = [
  'fragment', 'hopLimit', 'source', 'code', 'length', 'option', 'checksum', 'policy', 'noIdev',
] as const

export const NETLINK = {
  NETLINK_ROUTE: 0,
  NLMSG_HDRLEN: 16,
  NLA_HDRLEN: 4,
  NLMSG_NOOP: 1,
  NLMSG_ERROR: 2,
  NLMSG_DONE: 3,
  NLMSG_OVERRUN: 4,
  NLMSG_MIN_TYPE: 0x10,
  NLM_F_REQUEST: 0x01,
  NLM_F_MULTI: 0x02,
  NLM_F_ACK: 0x04,
  NLM_F_ROOT: 0x100,
  NLM_F_MATCH: 0x200,
  NLM_F_DUMP: 0x300,
  NLM_F_CAPPED: 0x100,
  NLM_F_ACK_TLVS: 0x200,
  NLA_F_NESTED: 0x8000,
  NLA_F_NET_BYTEORDER: 0x4000,
  NLMSGERR_ATTR_MSG: 1,
} as const

export const RTNETLINK = {
  RTM_NEWLINK: 16,
  RTM_GETLINK: 18,
  RTM_NEWNDUSEROPT: 68,
  RTNLGRP_IPV6_IFINFO: 12,
  RTNLGRP_ND_USEROPT: 20,
  IFLA_IFNAME: 3,
  IFLA_PROTINFO: 12,
  IFLA_INET6_FLAGS: 1,
  NDUSEROPT_SRCADDR: 1,
  AF_INET6: 10,
  SIZEOF_IFINFOMSG: 16,
  SIZEOF_NDUSEROPTMSG: 16,
  ND_ROUTER_ADVERT: 134,
} as const

/**
 * IPv6 interface flags (IFLA_INET6_FLAGS). Kernel-internal (include/net/if_inet6.h), not uapi, but
 * stable since 2.6: the managed/other bits of the last accepted RA.
 */
export const INET6_IF_FLAGS = {
  IF_RA_OTHERCONF: 0x80,
  IF_RA_MANAGED: 0x40,
  IF_RA_RCVD: 0x20,
  IF_RS_SENT: 0x10,
  IF_READY: 0x80000000,
} as const
