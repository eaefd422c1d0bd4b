// SPDX-License-Identifier: GPL-2.0
/*
 * ra6mon: tells registered userspace clients about every ICMPv6 Router
 * Advertisement the kernel accepts, per network namespace, over a private
 * netlink protocol (include/uapi/linux/ra6mon.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/netfilter_ipv6.h>
#include <linux/netlink.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock.h>

#include "compat.h"
#include "internal.h"

#define RA6MON_VERSION "0.1.0"

int ra6mon_protocol = RA6MON_PROTOCOL_DEFAULT;
module_param_named(protocol, ra6mon_protocol, int, 0444);
MODULE_PARM_DESC(protocol, "netlink protocol number (default 31; 23..31 are unnamed, 30 is used by gdm724x)");

unsigned int ra6mon_rate_limit = 20;
module_param_named(rate_limit, ra6mon_rate_limit, uint, 0644);
MODULE_PARM_DESC(rate_limit, "notifications per second per interface, 0 for no limit (default 20)");

unsigned int ra6mon_rate_burst = 40;
module_param_named(rate_burst, ra6mon_rate_burst, uint, 0644);
MODULE_PARM_DESC(rate_burst, "notifications an interface may send at once before rate_limit applies (default 40)");

unsigned int ra6mon_max_clients = 64;
module_param_named(max_clients, ra6mon_max_clients, uint, 0644);
MODULE_PARM_DESC(max_clients, "registered clients per namespace; more are refused with ENOSPC (default 64)");

unsigned int ra6mon_max_interfaces = 1024;
module_param_named(max_interfaces, ra6mon_max_interfaces, uint, 0644);
MODULE_PARM_DESC(max_interfaces, "interfaces per namespace whose last RA is kept for replay (default 1024)");

bool ra6mon_debug;
module_param_named(debug, ra6mon_debug, bool, 0644);
MODULE_PARM_DESC(debug, "log why RAs are not accepted, rate-limited (default off)");

static unsigned int ra6mon_net_id __read_mostly;

struct ra6mon_net *ra6mon_pernet(const struct net *net)
{
	return net_generic(net, ra6mon_net_id);
}

static int __net_init ra6mon_net_init(struct net *net)
{
	struct ra6mon_net *rn = ra6mon_pernet(net);
	struct netlink_kernel_cfg cfg = {
		.input = ra6mon_netlink_input,
	};
	int err;

	rn->net = net;
	spin_lock_init(&rn->lock);
	INIT_LIST_HEAD(&rn->clients);

	rn->nlsk = netlink_kernel_create(net, ra6mon_protocol, &cfg);
	if (!rn->nlsk) {
		pr_err("netlink protocol %d is already in use; load the module with protocol=N, a free number (see /proc/net/netlink)\n",
		       ra6mon_protocol);
		return -EADDRINUSE;
	}
	err = ra6mon_proc_init(net);
	if (err)
		goto err_release;

	rn->hook_ops.hook = ra6mon_hook;
	rn->hook_ops.pf = NFPROTO_IPV6;
	rn->hook_ops.hooknum = NF_INET_LOCAL_IN;
	rn->hook_ops.priority = NF_IP6_PRI_LAST;
	rn->hook_ops.priv = rn;
	err = nf_register_net_hook(net, &rn->hook_ops);
	if (err) {
		pr_err("cannot register the netfilter hook: %d\n", err);
		goto err_proc;
	}
	return 0;

err_proc:
	ra6mon_proc_exit(net);
err_release:
	netlink_kernel_release(rn->nlsk);
	rn->nlsk = NULL;
	return err;
}

static void __net_exit ra6mon_net_exit(struct net *net)
{
	struct ra6mon_net *rn = ra6mon_pernet(net);

	/* Waits for running hooks, so nothing below races with one. */
	nf_unregister_net_hook(net, &rn->hook_ops);
	ra6mon_proc_exit(net);
	netlink_kernel_release(rn->nlsk);
	ra6mon_clients_free_all(rn);
	ra6mon_ifaces_free_all(rn);
}

static struct pernet_operations ra6mon_net_ops = {
	.init = ra6mon_net_init,
	.exit = ra6mon_net_exit,
	.id = &ra6mon_net_id,
	.size = sizeof(struct ra6mon_net),
};

/* A departing interface's remembered RA and bucket go with it. */
static int ra6mon_netdev_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	if (event == NETDEV_UNREGISTER)
		ra6mon_iface_forget(ra6mon_pernet(dev_net(dev)), dev->ifindex);
	return NOTIFY_DONE;
}

static struct notifier_block ra6mon_netdev_notifier = {
	.notifier_call = ra6mon_netdev_event,
};

/* A client socket closed (or its process died) without unregistering. */
static int ra6mon_netlink_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct netlink_notify *n = ptr;

	if (event == NETLINK_URELEASE && n->protocol == ra6mon_protocol && n->portid)
		ra6mon_client_remove(ra6mon_pernet(n->net), n->portid);
	return NOTIFY_DONE;
}

static struct notifier_block ra6mon_netlink_notifier = {
	.notifier_call = ra6mon_netlink_event,
};

static int __init ra6mon_init(void)
{
	int err;

	if (ra6mon_protocol < 0 || ra6mon_protocol >= MAX_LINKS) {
		pr_err("protocol=%d is out of range: use a netlink protocol number from 0 to %d (default %d)\n",
		       ra6mon_protocol, MAX_LINKS - 1, RA6MON_PROTOCOL_DEFAULT);
		return -EINVAL;
	}
	err = register_pernet_subsys(&ra6mon_net_ops);
	if (err)
		return err;
	err = register_netdevice_notifier(&ra6mon_netdev_notifier);
	if (err)
		goto err_pernet;
	err = netlink_register_notifier(&ra6mon_netlink_notifier);
	if (err)
		goto err_netdev;
	pr_info("version %s loaded, netlink protocol %d\n", RA6MON_VERSION, ra6mon_protocol);
	return 0;

err_netdev:
	unregister_netdevice_notifier(&ra6mon_netdev_notifier);
err_pernet:
	unregister_pernet_subsys(&ra6mon_net_ops);
	return err;
}

static void __exit ra6mon_exit(void)
{
	netlink_unregister_notifier(&ra6mon_netlink_notifier);
	unregister_netdevice_notifier(&ra6mon_netdev_notifier);
	unregister_pernet_subsys(&ra6mon_net_ops);
	/* Let pending kfree_rcu() callbacks finish before the module goes. */
	rcu_barrier();
}

module_init(ra6mon_init);
module_exit(ra6mon_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The ra6dhcp authors");
MODULE_DESCRIPTION("Notifies userspace of every ICMPv6 Router Advertisement the kernel accepts");
MODULE_VERSION(RA6MON_VERSION);
