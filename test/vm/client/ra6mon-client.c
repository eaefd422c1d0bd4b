// SPDX-License-Identifier: GPL-2.0
/*
 * ra6mon-client: a small netlink client of ra6mon.ko for the VM tests. It prints one JSON object
 * per line on stdout for every message it sends or receives, with every attribute, so the host
 * test can assert on each field.
 *
 *   ra6mon-client [--protocol N] [--as-nobody] COMMAND [options]
 *     listen [--filter IFINDEX]... [--count N] [--timeout-ms T] [--ready FILE] [--register-twice]
 *            [--rcvbuf BYTES] [--no-read-ms T]
 *         register (with NLM_F_ACK), print replayed events and the ack, then live events until
 *         N live events, T ms without one, or SIGTERM. Exit 0 iff the registration was acked 0.
 *     stats              GET_STATS; print the stats (and the ack).
 *     unregister         register, then unregister; print both acks.
 *     send --type T [--flags F] [--hex BYTES]
 *         send one raw message (BYTES: the payload after the nlmsghdr) and print the answer.
 *     passive --portid P --timeout-ms T
 *         bind to port id P without registering; print how many messages arrived.
 *   --as-nobody: become uid/gid 65534 (no capabilities) before opening the socket.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/netlink.h>
#include <linux/ra6mon.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static volatile sig_atomic_t stop;
static int protocol = -1;
static uint32_t seq_counter = 1000;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	printf("{\"type\":\"fatal\",\"what\":\"%s\",\"errno\":%d,\"error\":\"%s\"}\n", what, errno,
	       strerror(errno));
	exit(3);
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int read_protocol(void)
{
	FILE *f = fopen(RA6MON_PROTOCOL_SYSFS_PATH, "r");
	int p = -1;

	if (!f)
		die("open " RA6MON_PROTOCOL_SYSFS_PATH);
	if (fscanf(f, "%d", &p) != 1)
		die("read protocol");
	fclose(f);
	return p;
}

static int open_socket(uint32_t portid, int rcvbuf)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_pid = portid };
	int one = 1;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);

	if (fd < 0)
		die("socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind");
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		die("SO_RCVBUFFORCE");
	return fd;
}

struct msgbuf {
	union {
		struct nlmsghdr nlh;
		char bytes[8192];
	};
};

static void put_attr(struct nlmsghdr *nlh, uint16_t type, const void *data, uint16_t len)
{
	struct nlattr *nla = (struct nlattr *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));

	nla->nla_type = type;
	nla->nla_len = NLA_HDRLEN + len;
	if (len)
		memcpy((char *)nla + NLA_HDRLEN, data, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(nla->nla_len);
}

static uint32_t send_msg(int fd, struct nlmsghdr *nlh)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	nlh->nlmsg_seq = ++seq_counter;
	if (sendto(fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		die("sendto");
	return nlh->nlmsg_seq;
}

static void print_hex(const unsigned char *p, size_t len)
{
	size_t i;

	putchar('"');
	for (i = 0; i < len; i++)
		printf("%02x", p[i]);
	putchar('"');
}

static void print_json_string(const char *s, size_t max)
{
	size_t i;

	putchar('"');
	for (i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static uint64_t get_u64(const struct nlattr *nla)
{
	uint64_t v;

	memcpy(&v, (const char *)nla + NLA_HDRLEN, sizeof(v));
	return v;
}

static uint32_t get_u32(const struct nlattr *nla)
{
	uint32_t v;

	memcpy(&v, (const char *)nla + NLA_HDRLEN, sizeof(v));
	return v;
}

#define for_each_attr(nla, head, len) \
	for (nla = (const struct nlattr *)(head); \
	     (len) >= (int)NLA_HDRLEN && nla->nla_len >= NLA_HDRLEN && nla->nla_len <= (len); \
	     len -= NLA_ALIGN(nla->nla_len), nla = (const struct nlattr *)((const char *)nla + NLA_ALIGN(nla->nla_len)))

static void print_event(const struct nlmsghdr *nlh)
{
	static const char * const names[] = {
		[RA6MON_A_ABI_VERSION] = "abi_version", [RA6MON_A_IFINDEX] = "ifindex",
		[RA6MON_A_ROUTER_LIFETIME] = "router_lifetime",
		[RA6MON_A_REACHABLE_TIME] = "reachable_time", [RA6MON_A_RETRANS_TIMER] = "retrans_timer",
		[RA6MON_A_TIMESTAMP_CLOCK] = "timestamp_clock",
		[RA6MON_A_HOP_LIMIT] = "hop_limit", [RA6MON_A_FLAGS] = "flags",
	};
	uint64_t now = monotonic_ns();
	const struct nlattr *nla;
	int len = (int)nlh->nlmsg_len - NLMSG_HDRLEN;
	char addr[INET6_ADDRSTRLEN];

	bool replayed = false;
	int scan = len;

	for_each_attr(nla, NLMSG_DATA(nlh), scan)
		if ((nla->nla_type & NLA_TYPE_MASK) == RA6MON_A_REPLAYED)
			replayed = true;
	printf("{\"type\":\"event\",\"nlmsg_seq\":%u,\"nlmsg_pid\":%u,\"recv_mono_ns\":%llu,\"replayed\":%s",
	       nlh->nlmsg_seq, nlh->nlmsg_pid, (unsigned long long)now, replayed ? "true" : "false");
	for_each_attr(nla, NLMSG_DATA(nlh), len) {
		int type = nla->nla_type & NLA_TYPE_MASK;
		const void *data = (const char *)nla + NLA_HDRLEN;
		int alen = nla->nla_len - NLA_HDRLEN;

		switch (type) {
		case RA6MON_A_ABI_VERSION:
		case RA6MON_A_IFINDEX:
		case RA6MON_A_REACHABLE_TIME:
		case RA6MON_A_RETRANS_TIMER:
		case RA6MON_A_TIMESTAMP_CLOCK:
			printf(",\"%s\":%u", names[type], get_u32(nla));
			break;
		case RA6MON_A_HOP_LIMIT:
		case RA6MON_A_FLAGS:
			printf(",\"%s\":%u", names[type], *(const uint8_t *)data);
			break;
		case RA6MON_A_ROUTER_LIFETIME:
			printf(",\"%s\":%u", names[type], *(const uint16_t *)data);
			break;
		case RA6MON_A_IFNAME:
			printf(",\"ifname\":");
			print_json_string(data, alen);
			break;
		case RA6MON_A_ROUTER:
		case RA6MON_A_DADDR:
			inet_ntop(AF_INET6, data, addr, sizeof(addr));
			printf(",\"%s\":\"%s\"", type == RA6MON_A_ROUTER ? "router" : "daddr", addr);
			break;
		case RA6MON_A_TIMESTAMP_NS:
			printf(",\"timestamp_ns\":%llu", (unsigned long long)get_u64(nla));
			break;
		case RA6MON_A_SEQ:
			printf(",\"seq\":%llu", (unsigned long long)get_u64(nla));
			break;
		case RA6MON_A_REPLAYED:
			printf(",\"replayed_attr_len\":%d", alen);
			break;
		case RA6MON_A_ND_OPTIONS:
			printf(",\"nd_options\":");
			print_hex(data, alen);
			break;
		case RA6MON_A_PAD:
			break;
		default:
			printf(",\"attr_%d\":", type);
			print_hex(data, alen);
		}
	}
	printf("}\n");
}

static const char *stat_name(int type)
{
	static char buf[32];
	static const char * const reject[RA6MON_REJECT_COUNT] = {
		"fragment", "hop_limit", "source", "code", "length", "option", "checksum", "policy",
		"no_idev",
	};

	switch (type) {
	case RA6MON_STAT_RA_SEEN: return "ra_seen";
	case RA6MON_STAT_RA_ACCEPTED: return "ra_accepted";
	case RA6MON_STAT_NOTIFY_SENT: return "notify_sent";
	case RA6MON_STAT_NOTIFY_RATELIMITED: return "notify_ratelimited";
	case RA6MON_STAT_NOTIFY_QUEUE_FULL: return "notify_queue_full";
	case RA6MON_STAT_NOTIFY_NOMEM: return "notify_nomem";
	case RA6MON_STAT_CLIENTS: return "clients";
	case RA6MON_STAT_NOTIFY_PORT_GONE: return "notify_port_gone";
	case RA6MON_STAT_NOTIFY_REPLAYED: return "notify_replayed";
	case RA6MON_STAT_RA_NOT_REMEMBERED: return "ra_not_remembered";
	case RA6MON_STAT_INTERFACES: return "interfaces";
	}
	if (type >= RA6MON_STAT_REJECT_BASE && type < RA6MON_STAT_REJECT_BASE + RA6MON_REJECT_COUNT) {
		snprintf(buf, sizeof(buf), "reject_%s", reject[type - RA6MON_STAT_REJECT_BASE]);
		return buf;
	}
	snprintf(buf, sizeof(buf), "stat_%d", type);
	return buf;
}

static void print_stats(const struct nlmsghdr *nlh)
{
	const struct nlattr *nla, *inner;
	int len = (int)nlh->nlmsg_len - NLMSG_HDRLEN;

	printf("{\"type\":\"stats\",\"nlmsg_seq\":%u", nlh->nlmsg_seq);
	for_each_attr(nla, NLMSG_DATA(nlh), len) {
		int type = nla->nla_type & NLA_TYPE_MASK;

		if (type == RA6MON_A_ABI_VERSION) {
			printf(",\"abi_version\":%u", get_u32(nla));
		} else if (type == RA6MON_A_STATS) {
			int ilen = nla->nla_len - NLA_HDRLEN;

			printf(",\"nested_flag\":%s", nla->nla_type & NLA_F_NESTED ? "true" : "false");
			for_each_attr(inner, (const char *)nla + NLA_HDRLEN, ilen) {
				int itype = inner->nla_type & NLA_TYPE_MASK;

				if (itype == RA6MON_STAT_PAD)
					continue;
				if (inner->nla_len - NLA_HDRLEN == 8)
					printf(",\"%s\":%llu", stat_name(itype), (unsigned long long)get_u64(inner));
				else
					printf(",\"%s\":%u", stat_name(itype), get_u32(inner));
			}
		}
	}
	printf("}\n");
}

/* Prints an ack; returns its error code (0 or a negative errno). */
static int print_ack(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *err = NLMSG_DATA(nlh);
	const char *msg = NULL;

	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		size_t off = sizeof(*err);
		const struct nlattr *nla;
		int len;

		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += err->msg.nlmsg_len - NLMSG_HDRLEN;
		len = (int)nlh->nlmsg_len - NLMSG_HDRLEN - (int)off;
		for_each_attr(nla, (const char *)err + off, len)
			if ((nla->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG)
				msg = (const char *)nla + NLA_HDRLEN;
	}
	printf("{\"type\":\"ack\",\"nlmsg_seq\":%u,\"error\":%d,\"errno_name\":\"%s\",\"msg\":",
	       nlh->nlmsg_seq, err->error, err->error ? strerrorname_np(-err->error) : "");
	if (msg)
		print_json_string(msg, 256);
	else
		printf("null");
	printf("}\n");
	return err->error;
}

/*
 * Receives until `until_seq` is acked (or, with until_seq 0, until a timeout of timeout_ms
 * without any message). Returns the ack's error, 1 on timeout; counts live events in *events.
 */
static int receive(int fd, uint32_t until_seq, int timeout_ms, long *events, long max_events)
{
	struct msgbuf buf;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct nlmsghdr *nlh;
		ssize_t n;
		int r;

		if (stop)
			return 1;
		r = poll(&pfd, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 1;
		n = recv(fd, buf.bytes, sizeof(buf.bytes), 0);
		if (n < 0) {
			if (errno == ENOBUFS) {
				printf("{\"type\":\"enobufs\"}\n");
				continue;
			}
			die("recv");
		}
		for (nlh = &buf.nlh; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				int e = print_ack(nlh);

				if (nlh->nlmsg_seq == until_seq)
					return e;
			} else if (nlh->nlmsg_type == RA6MON_MSG_RA_EVENT) {
				print_event(nlh);
				if (events && nlh->nlmsg_seq == 0 && ++*events >= max_events && max_events > 0)
					return 1;
			} else if (nlh->nlmsg_type == RA6MON_MSG_STATS) {
				print_stats(nlh);
			} else {
				printf("{\"type\":\"unexpected\",\"nlmsg_type\":%u}\n", nlh->nlmsg_type);
			}
		}
		fflush(stdout);
	}
}

static void init_msg(struct msgbuf *m, uint16_t type, uint16_t flags)
{
	memset(m, 0, sizeof(*m));
	m->nlh.nlmsg_len = NLMSG_HDRLEN;
	m->nlh.nlmsg_type = type;
	m->nlh.nlmsg_flags = flags;
}

static int do_register(int fd, const uint32_t *filter, int nfilter)
{
	struct msgbuf m;
	int i;

	init_msg(&m, RA6MON_MSG_REGISTER, NLM_F_REQUEST | NLM_F_ACK);
	if (nfilter > 0) {
		struct nlattr *nest = (struct nlattr *)((char *)&m.nlh + NLMSG_ALIGN(m.nlh.nlmsg_len));
		uint32_t start = m.nlh.nlmsg_len;

		put_attr(&m.nlh, RA6MON_A_FILTER | NLA_F_NESTED, NULL, 0);
		for (i = 0; i < nfilter; i++)
			put_attr(&m.nlh, RA6MON_A_IFINDEX, &filter[i], sizeof(filter[i]));
		nest->nla_len = m.nlh.nlmsg_len - start;
	}
	return receive(fd, send_msg(fd, &m.nlh), 5000, NULL, 0);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void drop_to_nobody(void)
{
	if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
	    setresuid(65534, 65534, 65534) < 0)
		die("drop privileges");
}

static void usage(void)
{
	fprintf(stderr, "usage: ra6mon-client [--protocol N] [--as-nobody] listen|stats|unregister|send|passive ...\n");
	exit(64);
}

int main(int argc, char **argv)
{
	uint32_t filter[64];
	int nfilter = 0, i = 1, timeout_ms = 2000, rcvbuf = 0, no_read_ms = 0;
	long count = 0, events = 0;
	const char *cmd, *ready = NULL, *hex = "";
	bool twice = false;
	unsigned int type = 0, flags = NLM_F_REQUEST | NLM_F_ACK, portid = 0;
	struct sigaction sa = { .sa_handler = on_signal };
	int fd, err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--protocol") && i + 1 < argc)
			protocol = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--as-nobody"))
			drop_to_nobody();
		else
			usage();
	}
	if (i >= argc)
		usage();
	cmd = argv[i++];
	for (; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--register-twice")) {
			twice = true;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--filter") && nfilter < 64)
			filter[nfilter++] = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--count"))
			count = atol(v);
		else if (!strcmp(a, "--timeout-ms"))
			timeout_ms = atoi(v);
		else if (!strcmp(a, "--ready"))
			ready = v;
		else if (!strcmp(a, "--rcvbuf"))
			rcvbuf = atoi(v);
		else if (!strcmp(a, "--no-read-ms"))
			no_read_ms = atoi(v);
		else if (!strcmp(a, "--type"))
			type = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--flags"))
			flags = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--hex"))
			hex = v;
		else if (!strcmp(a, "--portid"))
			portid = strtoul(v, NULL, 0);
		else
			usage();
	}
	if (protocol < 0)
		protocol = read_protocol();

	if (!strcmp(cmd, "listen")) {
		fd = open_socket(0, rcvbuf);
		err = do_register(fd, filter, nfilter);
		if (!err && twice)
			err = do_register(fd, filter, nfilter);
		if (err)
			return 2;
		if (ready) {
			int rfd = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);

			if (rfd < 0)
				die("open ready file");
			close(rfd);
		}
		if (no_read_ms > 0)
			usleep(no_read_ms * 1000);
		receive(fd, 0, timeout_ms, &events, count);
		printf("{\"type\":\"end\",\"live_events\":%ld}\n", events);
		return 0;
	}
	if (!strcmp(cmd, "stats")) {
		struct msgbuf m;

		fd = open_socket(0, 0);
		init_msg(&m, RA6MON_MSG_GET_STATS, NLM_F_REQUEST | NLM_F_ACK);
		return receive(fd, send_msg(fd, &m.nlh), 5000, NULL, 0) ? 2 : 0;
	}
	if (!strcmp(cmd, "unregister")) {
		struct msgbuf m;

		fd = open_socket(0, 0);
		if (do_register(fd, NULL, 0))
			return 2;
		init_msg(&m, RA6MON_MSG_UNREGISTER, NLM_F_REQUEST | NLM_F_ACK);
		if (receive(fd, send_msg(fd, &m.nlh), 5000, NULL, 0))
			return 2;
		/* A second unregister must be refused: the socket is no longer registered. */
		init_msg(&m, RA6MON_MSG_UNREGISTER, NLM_F_REQUEST | NLM_F_ACK);
		return receive(fd, send_msg(fd, &m.nlh), 5000, NULL, 0) == -ENOENT ? 0 : 2;
	}
	if (!strcmp(cmd, "send")) {
		struct msgbuf m;
		size_t n = strlen(hex) / 2, k;
		struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
		size_t total;

		fd = open_socket(0, 0);
		init_msg(&m, type, flags);
		if (n > sizeof(m.bytes) - NLMSG_HDRLEN)
			usage();
		for (k = 0; k < n; k++) {
			int hi = hexval(hex[2 * k]), lo = hexval(hex[2 * k + 1]);

			if (hi < 0 || lo < 0)
				usage();
			m.bytes[NLMSG_HDRLEN + k] = (char)(hi << 4 | lo);
		}
		/* type 0xffff: a datagram shorter than a netlink header (n bytes in all). */
		total = type == 0xffff ? n : NLMSG_HDRLEN + n;
		if (type == 0xffff)
			memmove(m.bytes, m.bytes + NLMSG_HDRLEN, n);
		else
			m.nlh.nlmsg_len = total;
		m.nlh.nlmsg_seq = ++seq_counter;
		if (sendto(fd, m.bytes, total, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
			die("sendto");
		err = receive(fd, type == 0xffff ? 0 : m.nlh.nlmsg_seq, 1000, NULL, 0);
		if (err == 1)
			printf("{\"type\":\"noreply\"}\n");
		return 0;
	}
	if (!strcmp(cmd, "passive")) {
		long received = 0;
		struct msgbuf buf;

		fd = open_socket(portid, 0);
		printf("{\"type\":\"bound\",\"portid\":%u}\n", portid);
		if (ready) {
			int rfd = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);

			if (rfd < 0)
				die("open ready file");
			close(rfd);
		}
		for (;;) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			int r = poll(&pfd, 1, timeout_ms);

			if (r < 0 && errno == EINTR && !stop)
				continue;
			if (r <= 0 || stop)
				break;
			if (recv(fd, buf.bytes, sizeof(buf.bytes), 0) >= 0 || errno == ENOBUFS)
				received++;
		}
		printf("{\"type\":\"passive\",\"portid\":%u,\"received\":%ld}\n", portid, received);
		return 0;
	}
	usage();
	return 64;
}
