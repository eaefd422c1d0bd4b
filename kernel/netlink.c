// SPDX-License-Identifier: GPL-2.0
/*
 * The private netlink protocol: registration, replay, notifications, stats.
 * Every message is built with nlmsg_new(), nla_put_*() and sent with
 * nlmsg_unicast(), which never blocks (MSG_DONTWAIT): notifications are sent
 * from the netfilter hook, in softirq.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/netlink.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/time.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "compat.h"
#include "internal.h"

static const struct nla_policy ra6mon_policy[RA6MON_A_MAX + 1] = {
	[RA6MON_A_FILTER] = { .type = NLA_NESTED },
};

static size_t event_size(const struct ra6mon_ra *ra)
{
	return nla_total_size(sizeof(u32))		/* ABI_VERSION */
	       + nla_total_size(sizeof(u32))		/* IFINDEX */
	       + nla_total_size(IFNAMSIZ)		/* IFNAME */
	       + 2 * nla_total_size(sizeof(struct in6_addr)) /* ROUTER, DADDR */
	       + 2 * nla_total_size(sizeof(u8))		/* HOP_LIMIT, FLAGS */
	       + nla_total_size(sizeof(u16))		/* ROUTER_LIFETIME */
	       + 2 * nla_total_size(sizeof(u32))	/* REACHABLE_TIME, RETRANS_TIMER */
	       + 2 * nla_total_size_64bit(sizeof(u64))	/* TIMESTAMP_NS, SEQ */
	       + nla_total_size(sizeof(u32))		/* TIMESTAMP_CLOCK */
	       + nla_total_size(0)			/* REPLAYED */
	       + nla_total_size(ra->options_len);	/* ND_OPTIONS */
}

static int event_fill(struct sk_buff *skb, const struct ra6mon_ra *ra,
		      u32 portid, u32 nlseq, bool replayed)
{
	struct nlmsghdr *nlh;

	nlh = nlmsg_put(skb, portid, nlseq, RA6MON_MSG_RA_EVENT, 0, 0);
	if (!nlh)
		return -EMSGSIZE;
	if (nla_put_u32(skb, RA6MON_A_ABI_VERSION, RA6MON_ABI_VERSION) ||
	    nla_put_u32(skb, RA6MON_A_IFINDEX, ra->ifindex) ||
	    nla_put_string(skb, RA6MON_A_IFNAME, ra->ifname) ||
	    nla_put_in6_addr(skb, RA6MON_A_ROUTER, &ra->saddr) ||
	    nla_put_in6_addr(skb, RA6MON_A_DADDR, &ra->daddr) ||
	    nla_put_u8(skb, RA6MON_A_HOP_LIMIT, ra->cur_hop_limit) ||
	    nla_put_u8(skb, RA6MON_A_FLAGS, ra->flags) ||
	    nla_put_u16(skb, RA6MON_A_ROUTER_LIFETIME, ra->router_lifetime) ||
	    nla_put_u32(skb, RA6MON_A_REACHABLE_TIME, ra->reachable_ms) ||
	    nla_put_u32(skb, RA6MON_A_RETRANS_TIMER, ra->retrans_ms) ||
	    nla_put_u64_64bit(skb, RA6MON_A_TIMESTAMP_NS, ra->timestamp_ns, RA6MON_A_PAD) ||
	    nla_put_u32(skb, RA6MON_A_TIMESTAMP_CLOCK, CLOCK_MONOTONIC) ||
	    nla_put_u64_64bit(skb, RA6MON_A_SEQ, ra->seq, RA6MON_A_PAD) ||
	    (replayed && nla_put_flag(skb, RA6MON_A_REPLAYED)) ||
	    nla_put(skb, RA6MON_A_ND_OPTIONS, ra->options_len, ra->options)) {
		nlmsg_cancel(skb, nlh);
		return -EMSGSIZE;
	}
	nlmsg_end(skb, nlh);
	return 0;
}

static int event_send(struct ra6mon_net *rn, const struct ra6mon_ra *ra,
		      u32 portid, u32 nlseq, bool replayed)
{
	struct sk_buff *skb = nlmsg_new(event_size(ra), GFP_ATOMIC);
	int err;

	if (!skb)
		return -ENOMEM;
	err = event_fill(skb, ra, 0, nlseq, replayed);
	if (err) {
		kfree_skb(skb);
		return err;
	}
	return nlmsg_unicast(rn->nlsk, skb, portid);
}

bool ra6mon_client_wants(const struct ra6mon_client *client, int ifindex)
{
	u32 i;

	if (client->filter_len == 0)
		return true;
	for (i = 0; i < client->filter_len; i++)
		if (client->filter[i] == ifindex)
			return true;
	return false;
}

static struct ra6mon_client *client_find(struct ra6mon_net *rn, u32 portid)
{
	struct ra6mon_client *client;

	list_for_each_entry_rcu(client, &rn->clients, node, lockdep_is_held(&rn->lock))
		if (client->portid == portid)
			return client;
	return NULL;
}

/* Returns true if a client was removed. */
static bool client_remove(struct ra6mon_net *rn, u32 portid)
{
	struct ra6mon_client *client;

	spin_lock_bh(&rn->lock);
	client = client_find(rn, portid);
	if (client) {
		list_del_rcu(&client->node);
		rn->nr_clients--;
	}
	spin_unlock_bh(&rn->lock);
	if (client)
		kfree_rcu(client, rcu);
	return client;
}

void ra6mon_client_remove(struct ra6mon_net *rn, u32 portid)
{
	client_remove(rn, portid);
}

void ra6mon_clients_free_all(struct ra6mon_net *rn)
{
	struct ra6mon_client *client, *tmp;

	spin_lock_bh(&rn->lock);
	list_for_each_entry_safe(client, tmp, &rn->clients, node) {
		list_del_rcu(&client->node);
		kfree_rcu(client, rcu);
	}
	rn->nr_clients = 0;
	spin_unlock_bh(&rn->lock);
}

void ra6mon_notify(struct ra6mon_net *rn, int ifindex, const struct ra6mon_ra *ra,
		   bool allowed)
{
	struct ra6mon_client *client;
	int err;

	rcu_read_lock();
	list_for_each_entry_rcu(client, &rn->clients, node) {
		if (!ra6mon_client_wants(client, ifindex))
			continue;
		if (!allowed) {
			ra6mon_count(rn, RA6MON_CNT_RATELIMITED);
			continue;
		}
		err = ra ? event_send(rn, ra, client->portid, 0, false) : -ENOMEM;
		switch (err) {
		case 0:
			ra6mon_count(rn, RA6MON_CNT_SENT);
			break;
		case -ECONNREFUSED:
			/* The port is gone (closed before NETLINK_URELEASE reached us). */
			ra6mon_count(rn, RA6MON_CNT_PORT_GONE);
			client_remove(rn, client->portid);
			break;
		case -ENOMEM:
		case -EMSGSIZE:
			ra6mon_count(rn, RA6MON_CNT_NOMEM);
			break;
		default:
			/* -EAGAIN: its receive queue is full; the client sees ENOBUFS. */
			ra6mon_count(rn, RA6MON_CNT_QUEUE_FULL);
			break;
		}
	}
	rcu_read_unlock();
}

/* Caller holds rcu_read_lock(). Replays are not notifications: they count apart. */
static void replay(struct ra6mon_net *rn, const struct ra6mon_client *client, u32 nlseq)
{
	struct ra6mon_iface *iface;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rn->ifaces); i++) {
		hlist_for_each_entry_rcu(iface, &rn->ifaces[i], node) {
			const struct ra6mon_ra *ra = rcu_dereference(iface->last_ra);

			if (!ra || !ra6mon_client_wants(client, ra->ifindex))
				continue;
			if (event_send(rn, ra, client->portid, nlseq, true) == 0)
				ra6mon_count(rn, RA6MON_CNT_REPLAYED);
		}
	}
}

/* Every byte of the message must belong to a well-formed attribute. */
static int check_no_trailing(const struct nlattr *head, int len,
			     struct netlink_ext_ack *extack)
{
	const struct nlattr *nla;
	int rem;

	nla_for_each_attr(nla, head, len, rem)
		;
	if (rem > 0) {
		NL_SET_ERR_MSG(extack, "ra6mon: truncated or malformed attribute");
		return -EINVAL;
	}
	return 0;
}

static int parse_filter(const struct nlattr *nest, struct ra6mon_client *client,
			struct netlink_ext_ack *extack)
{
	const struct nlattr *nla;
	int rem, err;

	err = check_no_trailing(nla_data(nest), nla_len(nest), extack);
	if (err)
		return err;
	nla_for_each_nested(nla, nest, rem) {
		u32 ifindex;

		if (nla_type(nla) != RA6MON_A_IFINDEX || nla_len(nla) != sizeof(u32)) {
			NL_SET_ERR_MSG_ATTR(extack, nla,
					    "ra6mon: a filter holds only u32 RA6MON_A_IFINDEX attributes");
			return -EINVAL;
		}
		ifindex = nla_get_u32(nla);
		if (ifindex == 0 || ifindex > INT_MAX) {
			NL_SET_ERR_MSG_ATTR(extack, nla, "ra6mon: invalid ifindex in filter");
			return -EINVAL;
		}
		if (client->filter_len == RA6MON_FILTER_MAX) {
			NL_SET_ERR_MSG_ATTR(extack, nla,
					    "ra6mon: filter longer than RA6MON_FILTER_MAX interfaces");
			return -E2BIG;
		}
		client->filter[client->filter_len++] = ifindex;
	}
	if (client->filter_len == 0) {
		NL_SET_ERR_MSG_ATTR(extack, nest,
				    "ra6mon: empty filter (omit RA6MON_A_FILTER for every interface)");
		return -EINVAL;
	}
	return 0;
}

static int do_register(struct ra6mon_net *rn, struct sk_buff *skb,
		       const struct nlmsghdr *nlh, struct nlattr **tb,
		       struct netlink_ext_ack *extack)
{
	u32 portid = NETLINK_CB(skb).portid;
	struct ra6mon_client *client, *old;
	int err;

	if (!netlink_net_capable(skb, CAP_NET_ADMIN)) {
		NL_SET_ERR_MSG(extack, "ra6mon: registering needs CAP_NET_ADMIN in the namespace");
		return -EPERM;
	}
	client = kzalloc(sizeof(*client), GFP_KERNEL);
	if (!client)
		return -ENOMEM;
	client->portid = portid;
	if (tb[RA6MON_A_FILTER]) {
		err = parse_filter(tb[RA6MON_A_FILTER], client, extack);
		if (err) {
			kfree(client);
			return err;
		}
	}

	/* Held across the replay so a concurrent re-registration cannot free client. */
	rcu_read_lock();
	spin_lock_bh(&rn->lock);
	old = client_find(rn, portid);
	if (!old && rn->nr_clients >= READ_ONCE(ra6mon_max_clients)) {
		spin_unlock_bh(&rn->lock);
		rcu_read_unlock();
		kfree(client);
		NL_SET_ERR_MSG(extack, "ra6mon: too many clients in this namespace (max_clients)");
		return -ENOSPC;
	}
	if (old) {
		/* Same port again: new filter, and a fresh replay (ENOBUFS recovery). */
		list_replace_rcu(&old->node, &client->node);
	} else {
		list_add_tail_rcu(&client->node, &rn->clients);
		rn->nr_clients++;
	}
	spin_unlock_bh(&rn->lock);
	if (old)
		kfree_rcu(old, rcu);
	/*
	 * Registered before replaying: an RA accepted in between is notified
	 * live too, and the client can tell the two apart by RA6MON_A_SEQ.
	 */
	replay(rn, client, nlh->nlmsg_seq);
	rcu_read_unlock();
	return 0;
}

static int do_unregister(struct ra6mon_net *rn, struct sk_buff *skb,
			 struct netlink_ext_ack *extack)
{
	if (!client_remove(rn, NETLINK_CB(skb).portid)) {
		NL_SET_ERR_MSG(extack, "ra6mon: this socket is not registered");
		return -ENOENT;
	}
	return 0;
}

static const u8 stat_of_counter[RA6MON_CNT_REJECT_BASE] = {
	[RA6MON_CNT_SEEN]		= RA6MON_STAT_RA_SEEN,
	[RA6MON_CNT_ACCEPTED]		= RA6MON_STAT_RA_ACCEPTED,
	[RA6MON_CNT_SENT]		= RA6MON_STAT_NOTIFY_SENT,
	[RA6MON_CNT_RATELIMITED]	= RA6MON_STAT_NOTIFY_RATELIMITED,
	[RA6MON_CNT_QUEUE_FULL]		= RA6MON_STAT_NOTIFY_QUEUE_FULL,
	[RA6MON_CNT_NOMEM]		= RA6MON_STAT_NOTIFY_NOMEM,
	[RA6MON_CNT_PORT_GONE]		= RA6MON_STAT_NOTIFY_PORT_GONE,
	[RA6MON_CNT_REPLAYED]		= RA6MON_STAT_NOTIFY_REPLAYED,
	[RA6MON_CNT_NOT_REMEMBERED]	= RA6MON_STAT_RA_NOT_REMEMBERED,
};

static int stats_fill(struct sk_buff *skb, struct ra6mon_net *rn, u32 portid, u32 nlseq)
{
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	unsigned int i;

	nlh = nlmsg_put(skb, portid, nlseq, RA6MON_MSG_STATS, 0, 0);
	if (!nlh)
		return -EMSGSIZE;
	if (nla_put_u32(skb, RA6MON_A_ABI_VERSION, RA6MON_ABI_VERSION))
		goto cancel;
	nest = nla_nest_start(skb, RA6MON_A_STATS);
	if (!nest)
		goto cancel;
	for (i = 0; i < RA6MON_CNT_REJECT_BASE; i++)
		if (nla_put_u64_64bit(skb, stat_of_counter[i], ra6mon_counter_read(rn, i),
				      RA6MON_STAT_PAD))
			goto cancel;
	for (i = 0; i < RA6MON_REJECT_COUNT; i++)
		if (nla_put_u64_64bit(skb, RA6MON_STAT_REJECT_BASE + i,
				      ra6mon_counter_read(rn, RA6MON_CNT_REJECT_BASE + i),
				      RA6MON_STAT_PAD))
			goto cancel;
	if (nla_put_u32(skb, RA6MON_STAT_CLIENTS, READ_ONCE(rn->nr_clients)) ||
	    nla_put_u32(skb, RA6MON_STAT_INTERFACES, READ_ONCE(rn->nr_ifaces)))
		goto cancel;
	nla_nest_end(skb, nest);
	nlmsg_end(skb, nlh);
	return 0;
cancel:
	nlmsg_cancel(skb, nlh);
	return -EMSGSIZE;
}

static int do_get_stats(struct ra6mon_net *rn, struct sk_buff *in_skb,
			const struct nlmsghdr *nlh)
{
	size_t size = nla_total_size(sizeof(u32)) + nla_total_size(0) +
		      (RA6MON_CNT_MAX) * nla_total_size_64bit(sizeof(u64)) +
		      2 * nla_total_size(sizeof(u32));
	u32 portid = NETLINK_CB(in_skb).portid;
	struct sk_buff *skb = nlmsg_new(size, GFP_KERNEL);
	int err;

	if (!skb)
		return -ENOMEM;
	err = stats_fill(skb, rn, portid, nlh->nlmsg_seq);
	if (err) {
		kfree_skb(skb);
		return err;
	}
	return nlmsg_unicast(rn->nlsk, skb, portid);
}

static int ra6mon_rcv_msg(struct sk_buff *skb, struct nlmsghdr *nlh,
			  struct netlink_ext_ack *extack)
{
	struct ra6mon_net *rn = ra6mon_pernet(sock_net(skb->sk));
	struct nlattr *tb[RA6MON_A_MAX + 1];
	int err;

	switch (nlh->nlmsg_type) {
	case RA6MON_MSG_REGISTER:
	case RA6MON_MSG_UNREGISTER:
	case RA6MON_MSG_GET_STATS:
		break;
	default:
		NL_SET_ERR_MSG(extack, "ra6mon: unknown message type");
		return -EOPNOTSUPP;
	}
	err = check_no_trailing(nlmsg_attrdata(nlh, 0), nlmsg_attrlen(nlh, 0), extack);
	if (err)
		return err;
	/* Liberal: unknown attributes are ignored, as the ABI promises. */
	/* One answer for every malformed attribute (the policy code may say -ERANGE). */
	if (ra6mon_nlmsg_parse(nlh, tb, RA6MON_A_MAX, ra6mon_policy, extack))
		return -EINVAL;

	switch (nlh->nlmsg_type) {
	case RA6MON_MSG_REGISTER:
		return do_register(rn, skb, nlh, tb, extack);
	case RA6MON_MSG_UNREGISTER:
		return do_unregister(rn, skb, extack);
	default:
		return do_get_stats(rn, skb, nlh);
	}
}

void ra6mon_netlink_input(struct sk_buff *skb)
{
	netlink_rcv_skb(skb, ra6mon_rcv_msg);
}
