/*
 * kafka_mock_server: librdkafka's mock Kafka cluster as a process of its own,
 * with a control port for fault injection.
 *
 * Tests and benchmarks that kill or restart the consumer need a broker that
 * outlives it; no real Kafka can be installed here, so this keeps the mock
 * cluster (kafka_mock.c) running until SIGTERM/SIGINT or a `quit` command.
 *
 *   kafka_mock_server [BROKERS]       (default 1, at most 16)
 *
 * Start-up output on stdout, two lines, then nothing more:
 *
 *   127.0.0.1:PORT[,127.0.0.1:PORT...]      the bootstrap servers
 *   control 127.0.0.1:PORT                  the control port
 *
 * Control protocol.  The control port listens on 127.0.0.1 only.  A client
 * connects (several may, one after the other or at once) and sends commands,
 * one per line; every command gets exactly one reply line, `ok` (sometimes
 * followed by a value) or `error: <what is wrong>`, after the change has
 * been applied by the cluster, so a script knows the fault is in place
 * when it has read the reply.  From bash:
 *
 *   exec 3<>/dev/tcp/127.0.0.1/$PORT
 *   echo "down 1" >&3; read -r reply <&3      # reply: ok
 *
 * Commands (BROKER is a broker id 1..BROKERS or `all`; API is a Kafka
 * protocol request by name, e.g. Produce, Metadata, InitProducerId, or by
 * number; ERROR is a librdkafka error name without its RD_KAFKA_RESP_ERR_
 * prefix, e.g. NOT_LEADER_FOR_PARTITION, REQUEST_TIMED_OUT, or a number):
 *
 *   ping                             ok
 *   bootstrap                        ok <bootstrap servers>
 *   down BROKER                      disconnect the broker(s), refuse new
 *                                    connections (no leader change)
 *   up BROKER                        accept connections again
 *   rtt BROKER MS                    delay every response by MS
 *   errors API ERROR [ERROR...]      the next requests of API, from any
 *                                    client, fail with these errors, in
 *                                    order, one request each
 *   clear API                        drop the errors still stacked for API
 *   broker-errors BROKER API ERROR[:MS] [ERROR[:MS]...]
 *                                    the same on one broker's own stack
 *                                    (taking precedence), each response
 *                                    delayed by MS (default 0)
 *   pending BROKER API               ok N: errors of API still stacked on
 *                                    the broker (0: all were served)
 *   topic-error TOPIC ERROR          metadata reports ERROR for TOPIC
 *                                    (NO_ERROR clears it)
 *   create TOPIC PARTITIONS [REPL]   create a topic
 *   leader TOPIC PARTITION BROKER    move a partition's leader
 *   quit                             ok, then stop the cluster and exit 0
 *
 * A quirk of the mock (librdkafka 2.0.2): once a broker has had its own
 * errors for an API (`broker-errors`), its stack for that API exists, even
 * empty, and the cluster-wide errors for that API are never served on that
 * broker again.  Use one kind per API in a test.
 *
 * Unknown commands and bad arguments get an `error:` line naming what is
 * accepted; the connection stays usable.  Nothing is hidden in signals:
 * every fault is an explicit command, and the cluster's state is what the
 * commands sent so far made it.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "kafka_mock.h"

#define MAX_CLIENTS 8
#define LINE_MAX_LEN 1024
#define MAX_ARGS 34
#define MAX_ERRORS 32

typedef struct client
{
	int			fd;				/* -1: free */
	char		buf[LINE_MAX_LEN];
	size_t		len;
} client;

static volatile sig_atomic_t done = 0;

static void
on_signal(int sig)
{
	(void) sig;
	done = 1;
}

/* Kafka protocol request names (ApiKey). */
static const struct
{
	const char *name;
	int16_t		key;
}			api_names[] = {
	{"Produce", 0}, {"Fetch", 1}, {"ListOffsets", 2}, {"Metadata", 3},
	{"OffsetCommit", 8}, {"OffsetFetch", 9}, {"FindCoordinator", 10},
	{"JoinGroup", 11}, {"Heartbeat", 12}, {"LeaveGroup", 13},
	{"SyncGroup", 14}, {"ApiVersions", 18}, {"InitProducerId", 22},
	{"AddPartitionsToTxn", 24}, {"AddOffsetsToTxn", 25}, {"EndTxn", 26},
	{"TxnOffsetCommit", 28},
};

/* A whole-string non-negative integer up to max, or -1. */
static long
parse_num(const char *s, long max)
{
	char	   *end;
	long		v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0 || v > max)
		return -1;
	return v;
}

/* An API by name or number; -1 if unknown. */
static int
parse_api(const char *s)
{
	for (size_t i = 0; i < sizeof(api_names) / sizeof(api_names[0]); i++)
		if (strcasecmp(s, api_names[i].name) == 0)
			return api_names[i].key;
	return (int) parse_num(s, 32767);
}

/* An error by name (with or without RD_KAFKA_RESP_ERR_) or number. */
static bool
parse_error(const char *s, rd_kafka_resp_err_t *out)
{
	const struct rd_kafka_err_desc *descs;
	size_t		n;

	if (strncasecmp(s, "RD_KAFKA_RESP_ERR_", 18) == 0)
		s += 18;
	rd_kafka_get_err_descs(&descs, &n);
	for (size_t i = 0; i < n; i++)
		if (descs[i].name && strcasecmp(descs[i].name, s) == 0)
		{
			*out = descs[i].code;
			return true;
		}
	if (parse_num(s, 10000) >= 0)
	{
		*out = (rd_kafka_resp_err_t) parse_num(s, 10000);
		return true;
	}
	return false;
}

/* Format a reply line into out. */
__attribute__((format(printf, 3, 4)))
static void
reply(char *out, size_t len, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(out, len, fmt, ap);
	va_end(ap);
}

/* BROKER: an id in 1..n, or 0 for all; -1 when invalid. */
static int
parse_broker(const char *s, int n)
{
	long		v;

	if (strcmp(s, "all") == 0)
		return 0;
	v = parse_num(s, n);
	return v >= 1 ? (int) v : -1;
}

/* Apply f to one broker or all of them. */
static rd_kafka_resp_err_t
each_broker(trib_kafka_mock *m, int which,
			rd_kafka_resp_err_t (*f) (rd_kafka_mock_cluster_t *, int32_t))
{
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;

	for (int b = 1; b <= trib_kafka_mock_brokers(m) && !err; b++)
		if (which == 0 || which == b)
			err = f(trib_kafka_mock_cluster(m), b);
	return err;
}

/* `errors API ERROR...`. */
static void
cmd_errors(trib_kafka_mock *m, char **argv, int argc, char *out, size_t len)
{
	rd_kafka_resp_err_t errs[MAX_ERRORS];
	int			api;

	if (argc < 3 || argc - 2 > MAX_ERRORS)
	{
		reply(out, len, "error: usage: errors API ERROR [ERROR...] (1 to %d errors)",
			  MAX_ERRORS);
		return;
	}
	if ((api = parse_api(argv[1])) < 0)
	{
		reply(out, len, "error: unknown API \"%s\" (accepted: a name such as Produce, "
			  "Metadata, InitProducerId, or a number)", argv[1]);
		return;
	}
	for (int i = 2; i < argc; i++)
		if (!parse_error(argv[i], &errs[i - 2]))
		{
			reply(out, len, "error: unknown error \"%s\" (accepted: a librdkafka error "
				  "name such as NOT_LEADER_FOR_PARTITION, or a number)", argv[i]);
			return;
		}
	rd_kafka_mock_push_request_errors_array(trib_kafka_mock_cluster(m), (int16_t) api,
											(size_t) (argc - 2), errs);
	reply(out, len, "ok");
}

/* `broker-errors BROKER API ERROR[:MS]...` and `pending BROKER API`. */
static void
cmd_broker_errors(trib_kafka_mock *m, char **argv, int argc, char *out, size_t len)
{
	rd_kafka_mock_cluster_t *mc = trib_kafka_mock_cluster(m);
	bool		pending = strcmp(argv[0], "pending") == 0;
	int			b = argc >= 2 ? parse_broker(argv[1], trib_kafka_mock_brokers(m)) : -1;
	int			api = argc >= 3 ? parse_api(argv[2]) : -1;
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;

	if (b < 1 || api < 0 || (pending ? argc != 3 : argc < 4))
	{
		reply(out, len, "error: usage: %s", pending ? "pending BROKER API" :
			  "broker-errors BROKER API ERROR[:MS] [ERROR[:MS]...] (BROKER: one id)");
		return;
	}
	if (pending)
	{
		size_t		cnt = 0;

		err = rd_kafka_mock_broker_error_stack_cnt(mc, b, (int16_t) api, &cnt);
		if (err)
			reply(out, len, "error: pending: %s", rd_kafka_err2str(err));
		else
			reply(out, len, "ok %zu", cnt);
		return;
	}
	for (int i = 3; i < argc && !err; i++)
	{
		char	   *colon = strchr(argv[i], ':');
		long		ms = 0;
		rd_kafka_resp_err_t e;

		if (colon)
			*colon = '\0';
		if (!parse_error(argv[i], &e) || (colon && (ms = parse_num(colon + 1, 3600000)) < 0))
		{
			reply(out, len, "error: bad ERROR[:MS] \"%s\" (a librdkafka error name, "
				  "then optionally : and a delay in ms)", argv[i]);
			return;
		}
		err = rd_kafka_mock_broker_push_request_error_rtts(mc, b, (int16_t) api, 1,
														   e, (int) ms);
	}
	if (err)
		reply(out, len, "error: broker-errors: %s", rd_kafka_err2str(err));
	else
		reply(out, len, "ok");
}

/* `down`, `up`, `rtt`. */
static void
cmd_broker(trib_kafka_mock *m, char **argv, int argc, char *out, size_t len)
{
	int			b = argc >= 2 ? parse_broker(argv[1], trib_kafka_mock_brokers(m)) : -1;
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
	bool		is_rtt = strcmp(argv[0], "rtt") == 0;

	if (b < 0 || argc != (is_rtt ? 3 : 2))
	{
		reply(out, len, "error: usage: %s BROKER%s (BROKER: 1 to %d, or all)", argv[0],
			  is_rtt ? " MS" : "", trib_kafka_mock_brokers(m));
		return;
	}
	if (strcmp(argv[0], "down") == 0)
		err = each_broker(m, b, rd_kafka_mock_broker_set_down);
	else if (strcmp(argv[0], "up") == 0)
		err = each_broker(m, b, rd_kafka_mock_broker_set_up);
	else
	{
		long		ms = parse_num(argv[2], 3600000);

		if (ms < 0)
		{
			reply(out, len, "error: rtt: MS must be 0 to 3600000");
			return;
		}
		for (int i = 1; i <= trib_kafka_mock_brokers(m) && !err; i++)
			if (b == 0 || b == i)
				err = rd_kafka_mock_broker_set_rtt(trib_kafka_mock_cluster(m), i, (int) ms);
	}
	if (err)
		reply(out, len, "error: %s: %s", argv[0], rd_kafka_err2str(err));
	else
		reply(out, len, "ok");
}

/* `create`, `leader`, `topic-error`, `clear`. */
static void
cmd_topic(trib_kafka_mock *m, char **argv, int argc, char *out, size_t len)
{
	rd_kafka_mock_cluster_t *mc = trib_kafka_mock_cluster(m);
	char		e[256];

	if (strcmp(argv[0], "create") == 0)
	{
		long		parts = argc >= 3 ? parse_num(argv[2], 10000) : -1;
		long		repl = argc == 4 ? parse_num(argv[3], 16) : 1;

		if (argc < 3 || argc > 4 || parts < 1 || repl < 1)
			reply(out, len, "error: usage: create TOPIC PARTITIONS [REPLICATION]");
		else if (!trib_kafka_mock_create_topic(m, argv[1], (int) parts, (int) repl,
											   e, sizeof(e)))
			reply(out, len, "error: %s", e);
		else
			reply(out, len, "ok");
	}
	else if (strcmp(argv[0], "leader") == 0)
	{
		long		part = argc == 4 ? parse_num(argv[2], 100000) : -1;
		int			b = argc == 4 ? parse_broker(argv[3], trib_kafka_mock_brokers(m)) : -1;
		rd_kafka_resp_err_t err;

		if (part < 0 || b < 1)
		{
			reply(out, len, "error: usage: leader TOPIC PARTITION BROKER");
			return;
		}
		err = rd_kafka_mock_partition_set_leader(mc, argv[1], (int32_t) part, b);
		if (err)
			reply(out, len, "error: leader: %s", rd_kafka_err2str(err));
		else
			reply(out, len, "ok");
	}
	else if (strcmp(argv[0], "topic-error") == 0)
	{
		rd_kafka_resp_err_t err;

		if (argc != 3 || !parse_error(argv[2], &err))
			reply(out, len, "error: usage: topic-error TOPIC ERROR (ERROR: a librdkafka "
				  "error name, NO_ERROR clears)");
		else
		{
			rd_kafka_mock_topic_set_error(mc, argv[1], err);
			reply(out, len, "ok");
		}
	}
	else
	{
		int			api = argc == 2 ? parse_api(argv[1]) : -1;

		if (api < 0)
			reply(out, len, "error: usage: clear API");
		else
		{
			rd_kafka_mock_clear_request_errors(mc, (int16_t) api);
			reply(out, len, "ok");
		}
	}
}

/* Run one command line; the reply goes to out (no newline). */
static void
run_command(trib_kafka_mock *m, char *line, char *out, size_t len)
{
	char	   *argv[MAX_ARGS];
	int			argc = 0;
	char	   *save = NULL;

	for (char *t = strtok_r(line, " \t\r", &save); t && argc < MAX_ARGS;
		 t = strtok_r(NULL, " \t\r", &save))
		argv[argc++] = t;
	if (argc == 0)
		reply(out, len, "error: empty command");
	else if (strcmp(argv[0], "ping") == 0)
		reply(out, len, "ok");
	else if (strcmp(argv[0], "bootstrap") == 0)
		reply(out, len, "ok %s", trib_kafka_mock_bootstraps(m));
	else if (strcmp(argv[0], "down") == 0 || strcmp(argv[0], "up") == 0 ||
			 strcmp(argv[0], "rtt") == 0)
		cmd_broker(m, argv, argc, out, len);
	else if (strcmp(argv[0], "errors") == 0)
		cmd_errors(m, argv, argc, out, len);
	else if (strcmp(argv[0], "broker-errors") == 0 || strcmp(argv[0], "pending") == 0)
		cmd_broker_errors(m, argv, argc, out, len);
	else if (strcmp(argv[0], "create") == 0 || strcmp(argv[0], "leader") == 0 ||
			 strcmp(argv[0], "topic-error") == 0 || strcmp(argv[0], "clear") == 0)
		cmd_topic(m, argv, argc, out, len);
	else if (strcmp(argv[0], "quit") == 0)
	{
		reply(out, len, "ok");
		done = 1;
	}
	else
		reply(out, len, "error: unknown command \"%s\" (accepted: ping, bootstrap, down, "
			  "up, rtt, errors, broker-errors, pending, clear, topic-error, create, leader, "
			  "quit)", argv[0]);
}

/* Write all of s and a newline; false when the client is gone. */
static bool
send_line(int fd, const char *s)
{
	size_t		n = strlen(s);
	char		nl = '\n';

	while (n > 0)
	{
		ssize_t		w = send(fd, s, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		s += w;
		n -= (size_t) w;
	}
	return send(fd, &nl, 1, MSG_NOSIGNAL) == 1;
}

/* Read what a client sent and answer each complete line; false at EOF. */
static bool
serve_client(trib_kafka_mock *m, client *c)
{
	ssize_t		r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
	char	   *nl;

	if (r < 0 && errno == EINTR)
		return true;
	if (r <= 0)
		return false;
	c->len += (size_t) r;
	c->buf[c->len] = '\0';
	while ((nl = strchr(c->buf, '\n')) != NULL)
	{
		char		out[512];

		*nl = '\0';
		run_command(m, c->buf, out, sizeof(out));
		if (!send_line(c->fd, out))
			return false;
		c->len -= (size_t) (nl + 1 - c->buf);
		memmove(c->buf, nl + 1, c->len + 1);
	}
	if (c->len == sizeof(c->buf) - 1)
	{
		send_line(c->fd, "error: line too long");
		return false;
	}
	return true;
}

/* A listening socket on 127.0.0.1, any free port; -1 on error. */
static int
control_listen(int *port)
{
	struct sockaddr_in a;
	socklen_t	alen = sizeof(a);
	int			fd = socket(AF_INET, SOCK_STREAM, 0);
	int			one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = 0;
	if (bind(fd, (struct sockaddr *) &a, sizeof(a)) != 0 || listen(fd, 8) != 0 ||
		getsockname(fd, (struct sockaddr *) &a, &alen) != 0)
	{
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* Serve the control port until done. */
static void
control_loop(trib_kafka_mock *m, int lfd)
{
	client		cl[MAX_CLIENTS];
	struct pollfd pfd[MAX_CLIENTS + 1];

	for (int i = 0; i < MAX_CLIENTS; i++)
		cl[i].fd = -1;
	while (!done)
	{
		int			n = 0;

		pfd[n].fd = lfd;
		pfd[n++].events = POLLIN;
		for (int i = 0; i < MAX_CLIENTS; i++)
		{
			pfd[n].fd = cl[i].fd;	/* negative fds are ignored */
			pfd[n++].events = POLLIN;
		}
		if (poll(pfd, (nfds_t) n, 500) <= 0)
			continue;
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (cl[i].fd >= 0 && (pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) &&
				!serve_client(m, &cl[i]))
			{
				close(cl[i].fd);
				cl[i].fd = -1;
			}
		if (pfd[0].revents & POLLIN)
		{
			int			fd = accept(lfd, NULL, NULL);
			int			i;

			for (i = 0; fd >= 0 && i < MAX_CLIENTS && cl[i].fd >= 0; i++)
				;
			if (fd >= 0 && i == MAX_CLIENTS)
			{
				send_line(fd, "error: too many control connections");
				close(fd);
			}
			else if (fd >= 0)
			{
				cl[i].fd = fd;
				cl[i].len = 0;
			}
		}
	}
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (cl[i].fd >= 0)
			close(cl[i].fd);
}

int
main(int argc, char **argv)
{
	char		err[512];
	long		brokers = argc > 1 ? parse_num(argv[1], 16) : 1;
	trib_kafka_mock *m;
	struct sigaction sa;
	int			lfd,
				port = 0;

	if (argc > 2 || brokers < 1)
	{
		fprintf(stderr, "usage: kafka_mock_server [BROKERS]  (BROKERS: 1 to 16)\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: poll() returns at once */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((lfd = control_listen(&port)) < 0)
	{
		fprintf(stderr, "kafka_mock_server: control port: %s\n", strerror(errno));
		return 1;
	}
	m = trib_kafka_mock_start((int) brokers, err, sizeof(err));
	if (m == NULL)
	{
		fprintf(stderr, "kafka_mock_server: %s\n", err);
		close(lfd);
		return 1;
	}
	printf("%s\ncontrol 127.0.0.1:%d\n", trib_kafka_mock_bootstraps(m), port);
	fflush(stdout);
	control_loop(m, lfd);
	close(lfd);
	trib_kafka_mock_stop(m);
	return 0;
}
