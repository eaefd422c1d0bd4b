// SPDX-License-Identifier: GPL-2.0
/* /proc/net/ra6mon: one "name value" line per counter, then interfaces and clients. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>

#include "compat.h"
#include "internal.h"

static const char * const counter_names[RA6MON_CNT_REJECT_BASE] = {
	[RA6MON_CNT_SEEN]		= "ra_seen",
	[RA6MON_CNT_ACCEPTED]		= "ra_accepted",
	[RA6MON_CNT_SENT]		= "notify_sent",
	[RA6MON_CNT_RATELIMITED]	= "notify_ratelimited",
	[RA6MON_CNT_QUEUE_FULL]		= "notify_queue_full",
	[RA6MON_CNT_NOMEM]		= "notify_nomem",
	[RA6MON_CNT_PORT_GONE]		= "notify_port_gone",
	[RA6MON_CNT_REPLAYED]		= "notify_replayed",
	[RA6MON_CNT_NOT_REMEMBERED]	= "ra_not_remembered",
};

static int ra6mon_proc_show(struct seq_file *m, void *v)
{
	struct ra6mon_net *rn = ra6mon_pernet(seq_file_single_net(m));
	const struct ra6mon_client *client;
	const struct ra6mon_iface *iface;
	unsigned int i, j;

	seq_printf(m, "abi_version %u\nprotocol %d\n", RA6MON_ABI_VERSION, ra6mon_protocol);
	for (i = 0; i < RA6MON_CNT_REJECT_BASE; i++)
		seq_printf(m, "%s %llu\n", counter_names[i], ra6mon_counter_read(rn, i));
	for (i = 0; i < RA6MON_REJECT_COUNT; i++)
		seq_printf(m, "reject_%s %llu\n", ra6mon_reject_name(i),
			   ra6mon_counter_read(rn, RA6MON_CNT_REJECT_BASE + i));

	rcu_read_lock();
	seq_printf(m, "interfaces %u\n", READ_ONCE(rn->nr_ifaces));
	for (i = 0; i < ARRAY_SIZE(rn->ifaces); i++) {
		hlist_for_each_entry_rcu(iface, &rn->ifaces[i], node) {
			const struct ra6mon_ra *ra = rcu_dereference(iface->last_ra);

			seq_printf(m, "interface ifindex=%d", iface->ifindex);
			if (ra)
				seq_printf(m, " name=%s last_seq=%llu router=%pI6c flags=0x%02x",
					   ra->ifname, ra->seq, &ra->saddr, ra->flags);
			seq_putc(m, '\n');
		}
	}
	seq_printf(m, "clients %u\n", READ_ONCE(rn->nr_clients));
	list_for_each_entry_rcu(client, &rn->clients, node) {
		seq_printf(m, "client portid=%u filter=", client->portid);
		if (client->filter_len == 0)
			seq_puts(m, "all");
		for (j = 0; j < client->filter_len; j++)
			seq_printf(m, "%s%d", j ? "," : "", client->filter[j]);
		seq_putc(m, '\n');
	}
	rcu_read_unlock();
	return 0;
}

int ra6mon_proc_init(struct net *net)
{
	if (!proc_create_net_single("ra6mon", 0444, net->proc_net, ra6mon_proc_show, NULL))
		return -ENOMEM;
	return 0;
}

void ra6mon_proc_exit(struct net *net)
{
	remove_proc_entry("ra6mon", net->proc_net);
}
