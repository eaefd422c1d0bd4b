// SPDX-License-Identifier: GPL-2.0
/*
 * The netfilter hook: sees every IPv6 packet delivered locally, after the
 * firewall but before ICMPv6 and ndisc look at it, and redoes the checks
 * ndisc_rcv() and ndisc_router_discovery() (net/ipv6/ndisc.c) make, so that
 * only RAs the kernel accepts are notified. It never drops or changes a packet.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/icmpv6.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <net/addrconf.h>
#include <net/ipv6.h>
#include <net/ndisc.h>

#include "compat.h"
#include "internal.h"

/* The fixed part of an RA: ICMPv6 header, reachable time, retrans timer. */
#define RA6MON_RA_FIXED_LEN	16
#define RA6MON_ICMP_HDR_LEN	8
/* Options are sent in one netlink attribute, whose length is a u16. */
#define RA6MON_OPTIONS_MAX	(U16_MAX - NLA_HDRLEN)

static const char * const reject_names[RA6MON_REJECT_COUNT] = {
	[RA6MON_REJECT_FRAGMENT]	= "fragment",
	[RA6MON_REJECT_HOP_LIMIT]	= "hop_limit",
	[RA6MON_REJECT_SOURCE]		= "source",
	[RA6MON_REJECT_CODE]		= "code",
	[RA6MON_REJECT_LENGTH]		= "length",
	[RA6MON_REJECT_OPTION]		= "option",
	[RA6MON_REJECT_CHECKSUM]	= "checksum",
	[RA6MON_REJECT_POLICY]		= "policy",
	[RA6MON_REJECT_NO_IDEV]		= "no_idev",
};

const char *ra6mon_reject_name(unsigned int reason)
{
	return reason < RA6MON_REJECT_COUNT ? reject_names[reason] : "unknown";
}

static unsigned int reject(struct ra6mon_net *rn, const struct sk_buff *skb,
			   enum ra6mon_reject reason)
{
	ra6mon_count(rn, RA6MON_CNT_REJECT_BASE + reason);
	if (unlikely(READ_ONCE(ra6mon_debug)))
		net_info_ratelimited("%s: RA from %pI6c not accepted: %s\n",
				     skb->dev ? skb->dev->name : "?",
				     &ipv6_hdr(skb)->saddr,
				     ra6mon_reject_name(reason));
	return NF_ACCEPT;
}

/* Like icmpv6_rcv(): trust what the device or the local stack vouched for. */
static bool checksum_ok(struct sk_buff *skb, unsigned int thoff, unsigned int len)
{
	const struct ipv6hdr *ip6h = ipv6_hdr(skb);

	if (skb->ip_summed == CHECKSUM_UNNECESSARY ||
	    skb->ip_summed == CHECKSUM_PARTIAL)
		return true;
	/*
	 * Computed in software without touching skb->csum, so the packet
	 * reaches icmpv6_rcv() exactly as it arrived. RAs are rare; the cost
	 * only matters in a flood, where the rate limit bounds everything else.
	 */
	return csum_ipv6_magic(&ip6h->saddr, &ip6h->daddr, len, IPPROTO_ICMPV6,
			       skb_checksum(skb, thoff, len, 0)) == 0;
}

/* ndisc_parse_options(): every option has a non-zero length and fits. */
static bool options_ok(const struct sk_buff *skb, unsigned int off, unsigned int end)
{
	u8 hdr[2];

	while (off < end) {
		unsigned int len;

		if (end - off < sizeof(hdr) ||
		    skb_copy_bits(skb, off, hdr, sizeof(hdr)))
			return false;
		len = hdr[1] << 3;
		if (len == 0 || len > end - off)
			return false;
		off += len;
	}
	return true;
}

struct ra6mon_iface *ra6mon_iface_find(struct ra6mon_net *rn, int ifindex)
{
	struct ra6mon_iface *iface;

	hlist_for_each_entry_rcu(iface, &rn->ifaces[hash_32(ifindex, RA6MON_IFACE_HASH_BITS)],
				 node, lockdep_is_held(&rn->lock))
		if (iface->ifindex == ifindex)
			return iface;
	return NULL;
}

/* Called with rn->lock held. Returns the overflow bucket past max_interfaces. */
static struct ra6mon_iface *iface_get_locked(struct ra6mon_net *rn, int ifindex)
{
	struct ra6mon_iface *iface = ra6mon_iface_find(rn, ifindex);

	if (iface)
		return iface;
	if (rn->nr_ifaces >= READ_ONCE(ra6mon_max_interfaces))
		return &rn->overflow;
	iface = kzalloc(sizeof(*iface), GFP_ATOMIC);
	if (!iface)
		return &rn->overflow;
	iface->ifindex = ifindex;
	hlist_add_head_rcu(&iface->node,
			   &rn->ifaces[hash_32(ifindex, RA6MON_IFACE_HASH_BITS)]);
	rn->nr_ifaces++;
	return iface;
}

/* Token bucket; credit is kept in nanoseconds so no fraction is ever lost. */
static bool bucket_take(struct ra6mon_iface *iface, u64 now)
{
	unsigned int rate = READ_ONCE(ra6mon_rate_limit);
	unsigned int burst = max(READ_ONCE(ra6mon_rate_burst), 1U);
	u64 cost, cap;

	if (rate == 0)
		return true;
	cost = div_u64(NSEC_PER_SEC, rate);
	cap = cost * burst;
	if (iface->last_refill_ns == 0)
		iface->credit_ns = cap;
	else if (now > iface->last_refill_ns)	/* now was read before the lock: may trail */
		iface->credit_ns = min(cap, iface->credit_ns + (now - iface->last_refill_ns));
	iface->last_refill_ns = max(now, iface->last_refill_ns);
	if (iface->credit_ns < cost)
		return false;
	iface->credit_ns -= cost;
	return true;
}

static void ra_free_rcu(struct ra6mon_ra *ra)
{
	if (ra)
		kfree_rcu(ra, rcu);
}

static void iface_free(struct ra6mon_iface *iface)
{
	ra_free_rcu(rcu_dereference_protected(iface->last_ra, true));
	kfree_rcu(iface, rcu);
}

void ra6mon_iface_forget(struct ra6mon_net *rn, int ifindex)
{
	struct ra6mon_iface *iface;

	spin_lock_bh(&rn->lock);
	iface = ra6mon_iface_find(rn, ifindex);
	if (iface) {
		hlist_del_rcu(&iface->node);
		rn->nr_ifaces--;
		iface_free(iface);
	}
	spin_unlock_bh(&rn->lock);
}

void ra6mon_ifaces_free_all(struct ra6mon_net *rn)
{
	struct ra6mon_iface *iface;
	struct hlist_node *tmp;
	unsigned int i;

	spin_lock_bh(&rn->lock);
	for (i = 0; i < ARRAY_SIZE(rn->ifaces); i++) {
		hlist_for_each_entry_safe(iface, tmp, &rn->ifaces[i], node) {
			hlist_del_rcu(&iface->node);
			iface_free(iface);
		}
	}
	rn->nr_ifaces = 0;
	spin_unlock_bh(&rn->lock);
}

static struct ra6mon_ra *ra_build(struct ra6mon_net *rn, const struct sk_buff *skb,
				  unsigned int thoff, unsigned int icmp_len, u64 now)
{
	u8 fixed[RA6MON_RA_FIXED_LEN];
	unsigned int options_len = icmp_len - RA6MON_RA_FIXED_LEN;
	struct ra6mon_ra *ra;

	if (options_len > RA6MON_OPTIONS_MAX)
		return NULL;
	ra = kmalloc(struct_size(ra, options, options_len), GFP_ATOMIC);
	if (!ra)
		return NULL;
	if (skb_copy_bits(skb, thoff, fixed, sizeof(fixed)) ||
	    skb_copy_bits(skb, thoff + sizeof(fixed), ra->options, options_len)) {
		kfree(ra);
		return NULL;
	}
	ra->saddr = ipv6_hdr(skb)->saddr;
	ra->daddr = ipv6_hdr(skb)->daddr;
	ra->timestamp_ns = now;
	ra->ifindex = skb->dev->ifindex;
	strscpy(ra->ifname, skb->dev->name, sizeof(ra->ifname));
	ra->cur_hop_limit = fixed[4];
	ra->flags = fixed[5];
	ra->router_lifetime = get_unaligned_be16(&fixed[6]);
	ra->reachable_ms = get_unaligned_be32(&fixed[8]);
	ra->retrans_ms = get_unaligned_be32(&fixed[12]);
	ra->options_len = options_len;
	ra->seq = atomic64_inc_return(&rn->seq);
	return ra;
}

static void ra_accepted(struct ra6mon_net *rn, const struct sk_buff *skb,
			unsigned int thoff, unsigned int icmp_len, u64 now)
{
	struct ra6mon_iface *iface;
	struct ra6mon_ra *ra, *old = NULL;
	bool allowed, remembered = false;

	ra6mon_count(rn, RA6MON_CNT_ACCEPTED);
	ra = ra_build(rn, skb, thoff, icmp_len, now);

	spin_lock_bh(&rn->lock);
	iface = iface_get_locked(rn, skb->dev->ifindex);
	allowed = bucket_take(iface, now);
	if (ra && iface != &rn->overflow) {
		old = rcu_dereference_protected(iface->last_ra, lockdep_is_held(&rn->lock));
		rcu_assign_pointer(iface->last_ra, ra);
		remembered = true;
	}
	spin_unlock_bh(&rn->lock);

	if (ra && !remembered)
		ra6mon_count(rn, RA6MON_CNT_NOT_REMEMBERED);
	/* With ra NULL (no memory), every client that would have been told counts it lost. */
	ra6mon_notify(rn, skb->dev->ifindex, ra, allowed);
	if (!ra)
		return;
	ra_free_rcu(old);
	if (!remembered)
		kfree(ra);
}

unsigned int ra6mon_hook(void *priv, struct sk_buff *skb,
			 const struct nf_hook_state *state)
{
	struct ra6mon_net *rn = priv;
	const struct ipv6hdr *ip6h = ipv6_hdr(skb);
	unsigned int thoff = skb_network_offset(skb) + sizeof(*ip6h), icmp_len;
	bool fragment = false;
	struct inet6_dev *idev;
	u8 type_code[2];
	u64 now;

	/* The one peek every packet pays: is it ICMPv6, possibly behind extension headers? */
	if (likely(ip6h->nexthdr != IPPROTO_ICMPV6)) {
		int fh_flags = 0;

		if (!ipv6_ext_hdr(ip6h->nexthdr))
			return NF_ACCEPT;
		thoff = 0;	/* ipv6_find_hdr() starts from the IPv6 header only when 0 */
		if (ipv6_find_hdr(skb, &thoff, IPPROTO_ICMPV6, NULL, &fh_flags) != IPPROTO_ICMPV6)
			return NF_ACCEPT;	/* not ICMPv6, or a non-first fragment */
		fragment = fh_flags & IP6_FH_F_FRAG;
	}
	/* The sender's own copy of a multicast RA, looped back in its namespace. */
	if (skb->pkt_type == PACKET_LOOPBACK)
		return NF_ACCEPT;
	if (skb->len < thoff + sizeof(type_code) ||
	    skb_copy_bits(skb, thoff, type_code, sizeof(type_code)) ||
	    type_code[0] != NDISC_ROUTER_ADVERTISEMENT)
		return NF_ACCEPT;

	now = ktime_get_ns();
	ra6mon_count(rn, RA6MON_CNT_SEEN);
	icmp_len = skb->len - thoff;

	/* In the kernel's order, so a packet with several faults counts where ndisc drops it. */
	if (fragment)
		return reject(rn, skb, RA6MON_REJECT_FRAGMENT);	/* never reaches ndisc whole here */
	if (!checksum_ok(skb, thoff, icmp_len))
		return reject(rn, skb, RA6MON_REJECT_CHECKSUM);
	if (icmp_len < RA6MON_ICMP_HDR_LEN)
		return reject(rn, skb, RA6MON_REJECT_LENGTH);
	idev = __in6_dev_get(skb->dev);
	if (!idev)
		return reject(rn, skb, RA6MON_REJECT_NO_IDEV);
	/* Reassembled by nf_defrag_ipv6: ndisc_suppress_frag_ndisc(). */
	if ((IP6CB(skb)->flags & IP6SKB_FRAGMENTED) &&
	    READ_ONCE(idev->cnf.suppress_frag_ndisc))
		return reject(rn, skb, RA6MON_REJECT_FRAGMENT);
	if (ip6h->hop_limit != 255)
		return reject(rn, skb, RA6MON_REJECT_HOP_LIMIT);
	if (type_code[1] != 0)
		return reject(rn, skb, RA6MON_REJECT_CODE);
	if (!(ipv6_addr_type(&ip6h->saddr) & IPV6_ADDR_LINKLOCAL))
		return reject(rn, skb, RA6MON_REJECT_SOURCE);
	if (icmp_len < RA6MON_RA_FIXED_LEN)
		return reject(rn, skb, RA6MON_REJECT_LENGTH);
#ifdef CONFIG_IPV6_NDISC_NODETYPE
	/* The link layer said the sender is a host ("from host or unauthorized router"). */
	if (skb->ndisc_nodetype == NDISC_NODETYPE_HOST)
		return reject(rn, skb, RA6MON_REJECT_SOURCE);
#endif
	if (!options_ok(skb, thoff + RA6MON_RA_FIXED_LEN, skb->len))
		return reject(rn, skb, RA6MON_REJECT_OPTION);
	if (!ra6mon_accept_ra(idev))
		return reject(rn, skb, RA6MON_REJECT_POLICY);

	ra_accepted(rn, skb, thoff, icmp_len, now);
	return NF_ACCEPT;
}
