/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ra6mon internals shared by the source files. The wire format lives in
 * the uapi header and nowhere else.
 */
#ifndef RA6MON_INTERNAL_H
#define RA6MON_INTERNAL_H

#include <linux/atomic.h>
#include <linux/if.h>
#include <linux/in6.h>
#include <linux/list.h>
#include <linux/netfilter.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <net/net_namespace.h>
#include <uapi/linux/ra6mon.h>

#define RA6MON_IFACE_HASH_BITS	6

/* Module parameters (main.c); read with READ_ONCE, some are writable at runtime. */
extern int ra6mon_protocol;
extern unsigned int ra6mon_rate_limit;
extern unsigned int ra6mon_rate_burst;
extern unsigned int ra6mon_max_clients;
extern unsigned int ra6mon_max_interfaces;
extern bool ra6mon_debug;

/* One accepted RA, as notified and as remembered for replay. Immutable once built. */
struct ra6mon_ra {
	struct rcu_head rcu;
	struct in6_addr saddr;
	struct in6_addr daddr;
	u64 timestamp_ns;		/* CLOCK_MONOTONIC, taken in the hook */
	u64 seq;
	int ifindex;
	u32 reachable_ms;
	u32 retrans_ms;
	u16 router_lifetime;
	u16 options_len;
	u8 cur_hop_limit;
	u8 flags;
	char ifname[IFNAMSIZ];
	u8 options[];
};

/* Per-interface state: the rate-limit bucket and the last accepted RA. */
struct ra6mon_iface {
	struct hlist_node node;		/* in ra6mon_net.ifaces, RCU */
	struct rcu_head rcu;
	int ifindex;
	u64 credit_ns;			/* token bucket, in nanoseconds of credit */
	u64 last_refill_ns;
	struct ra6mon_ra __rcu *last_ra;
};

struct ra6mon_client {
	struct list_head node;		/* in ra6mon_net.clients, RCU */
	struct rcu_head rcu;
	u32 portid;
	u32 filter_len;			/* 0: every interface */
	int filter[RA6MON_FILTER_MAX];
};

enum ra6mon_counter {
	RA6MON_CNT_SEEN,
	RA6MON_CNT_ACCEPTED,
	RA6MON_CNT_SENT,
	RA6MON_CNT_RATELIMITED,
	RA6MON_CNT_QUEUE_FULL,
	RA6MON_CNT_NOMEM,
	RA6MON_CNT_PORT_GONE,
	RA6MON_CNT_REPLAYED,
	RA6MON_CNT_NOT_REMEMBERED,
	RA6MON_CNT_REJECT_BASE,
	RA6MON_CNT_MAX = RA6MON_CNT_REJECT_BASE + RA6MON_REJECT_COUNT,
};

struct ra6mon_net {
	struct net *net;
	struct sock *nlsk;
	struct nf_hook_ops hook_ops;
	bool hook_registered;
	/*
	 * Serialises writers of clients and ifaces, the buckets and last_ra
	 * swaps. Taken with BHs off: the hook runs in softirq.
	 */
	spinlock_t lock;
	struct list_head clients;
	unsigned int nr_clients;
	struct hlist_head ifaces[1 << RA6MON_IFACE_HASH_BITS];
	unsigned int nr_ifaces;
	struct ra6mon_iface overflow;	/* bucket for interfaces past max_interfaces */
	atomic64_t seq;
	atomic64_t counters[RA6MON_CNT_MAX];
};

struct ra6mon_net *ra6mon_pernet(const struct net *net);

static inline void ra6mon_count(struct ra6mon_net *rn, enum ra6mon_counter c)
{
	atomic64_inc(&rn->counters[c]);
}

static inline u64 ra6mon_counter_read(struct ra6mon_net *rn, enum ra6mon_counter c)
{
	return atomic64_read(&rn->counters[c]);
}

/* hook.c */
unsigned int ra6mon_hook(void *priv, struct sk_buff *skb,
			 const struct nf_hook_state *state);
struct ra6mon_iface *ra6mon_iface_find(struct ra6mon_net *rn, int ifindex);
void ra6mon_iface_forget(struct ra6mon_net *rn, int ifindex);
void ra6mon_ifaces_free_all(struct ra6mon_net *rn);
const char *ra6mon_reject_name(unsigned int reason);

/* netlink.c */
void ra6mon_netlink_input(struct sk_buff *skb);
void ra6mon_notify(struct ra6mon_net *rn, int ifindex, const struct ra6mon_ra *ra,
		   bool allowed);
bool ra6mon_client_wants(const struct ra6mon_client *client, int ifindex);
void ra6mon_client_remove(struct ra6mon_net *rn, u32 portid);
void ra6mon_clients_free_all(struct ra6mon_net *rn);

/* proc.c */
int ra6mon_proc_init(struct net *net);
void ra6mon_proc_exit(struct net *net);

#endif /* RA6MON_INTERNAL_H */
