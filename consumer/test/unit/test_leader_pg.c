/*
 * test_leader_pg.c: the PostgreSQL pipeline lock against a server that
 * stops answering.
 *
 * A thread plays a minimal PostgreSQL server on 127.0.0.1 (no TLS, trust
 * authentication): it answers the first queries of the lock's session with
 * the values the test gives, one row each, then reads the next query and
 * says nothing, as a frozen backend or a cut network would.  The tests
 * check that the lock's connection carries the keepalive defaults (and the
 * dsn's own values where it sets them) and that a check then ends, within
 * its deadline, as a lost lock instead of hanging.  Each test runs under
 * alarm() so that a hang fails the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "clock.h"
#include "leader.h"
#include "leader_pg.h"

typedef struct fake_pg
{
	int			listen_fd;
	int			port;
	const char *answers[4];		/* one value per query, then silence */
	int			quit[2];		/* a pipe: closed when the test is done */
	pthread_t	thread;
} fake_pg;

static bool
read_full(int fd, void *buf, size_t len)
{
	for (size_t got = 0; got < len;)
	{
		ssize_t		n = read(fd, (char *) buf + got, len - got);

		if (n <= 0)
			return false;
		got += (size_t) n;
	}
	return true;
}

/* Append a message of type t (0: none) with body to out. */
static size_t
put_msg(char *out, char t, const void *body, uint32_t len)
{
	uint32_t	be = htonl(len + 4);

	out[0] = t;
	memcpy(out + 1, &be, 4);
	memcpy(out + 5, body, len);
	return len + 5;
}

/* Read one protocol message (type, then length): false at the end. */
static bool
read_msg(int fd, char *type)
{
	char		hdr[5],
				body[4096];
	uint32_t	len;

	if (!read_full(fd, hdr, 5))
		return false;
	*type = hdr[0];
	memcpy(&len, hdr + 1, 4);
	len = ntohl(len) - 4;
	return len <= sizeof(body) && read_full(fd, body, len);
}

/* Answer one extended-protocol query (up to its Sync) with a row of v. */
static bool
answer(int fd, const char *v)
{
	static const char rowdesc[] = {0, 1, 'x', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 25, -1, -1,
	-1, -1, -1, -1, 0, 0};
	char		out[512],
				row[64],
				type = 0;
	size_t		n = 0;
	uint16_t	nf = htons(1);
	uint32_t	vl = htonl((uint32_t) strlen(v));

	while (type != 'S')
		if (!read_msg(fd, &type))
			return false;
	memcpy(row, &nf, 2);
	memcpy(row + 2, &vl, 4);
	memcpy(row + 6, v, strlen(v));
	n += put_msg(out + n, '1', "", 0);
	n += put_msg(out + n, '2', "", 0);
	n += put_msg(out + n, 'T', rowdesc, sizeof(rowdesc));
	n += put_msg(out + n, 'D', row, 6 + (uint32_t) strlen(v));
	n += put_msg(out + n, 'C', "SELECT 1", 9);
	n += put_msg(out + n, 'Z', "I", 1);
	return write(fd, out, n) == (ssize_t) n;
}

static void *
serve(void *arg)
{
	fake_pg    *s = arg;
	int			fd = accept(s->listen_fd, NULL, NULL);
	char		startup[4096],
				out[256],
				q;
	uint32_t	len,
				zero = 0;
	size_t		n = 0;

	if (fd < 0 || !read_full(fd, &len, 4) || ntohl(len) > sizeof(startup) ||
		!read_full(fd, startup, ntohl(len) - 4))
		return NULL;
	n += put_msg(out + n, 'R', &zero, 4);	/* AuthenticationOk */
	n += put_msg(out + n, 'S', "server_version\0" "15.0", 20);
	n += put_msg(out + n, 'Z', "I", 1);
	if (write(fd, out, n) == (ssize_t) n)
		for (int i = 0; i < 4 && s->answers[i] != NULL; i++)
			if (!answer(fd, s->answers[i]))
				break;
	read(s->quit[0], &q, 1);	/* silent until the test is over */
	close(fd);
	return NULL;
}

static void
fake_start(fake_pg *s)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t	al = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->listen_fd >= 0);
	assert_int_equal(bind(s->listen_fd, (struct sockaddr *) &a, sizeof(a)), 0);
	assert_int_equal(listen(s->listen_fd, 1), 0);
	assert_int_equal(getsockname(s->listen_fd, (struct sockaddr *) &a, &al), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pipe(s->quit), 0);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void
fake_stop(fake_pg *s)
{
	close(s->quit[1]);
	pthread_join(s->thread, NULL);
	close(s->quit[0]);
	close(s->listen_fd);
}

/* A leader connected to s with extra dsn settings; the lock taken. */
static trib_leader *
take(fake_pg *s, const char *extra)
{
	char		dsn[256],
				eb[512] = "";
	trib_leader *ld;

	snprintf(dsn, sizeof(dsn), "host=127.0.0.1 port=%d user=t dbname=t sslmode=disable "
			 "gssencmode=disable %s", s->port, extra);
	ld = trib_leader_pg_new(dsn, "p1");
	trib_leader_pg_set_query_timeout(ld, 300);
	assert_int_equal(trib_leader_try(ld, eb, sizeof(eb)), 1);
	return ld;
}

static void
assert_option(trib_leader *ld, const char *kw, const char *want)
{
	char		v[64] = "";

	assert_true(trib_leader_pg_conn_option(ld, kw, v, sizeof(v)));
	assert_string_equal(v, want);
}

/* The check answers while the server does, then ends as a lost lock within
 * its deadline once the server stops answering. */
static void
test_silent_server_ends_in_lost_lock(void **state)
{
	fake_pg		s = {.answers = {"t", "1"}};
	trib_leader *ld;
	char		eb[512] = "";
	int64_t		t0;

	(void) state;
	alarm(20);
	fake_start(&s);
	ld = take(&s, "");
	assert_option(ld, "keepalives", "1");
	assert_option(ld, "keepalives_idle", TRIB_LEADER_KEEPALIVES_IDLE_S);
	assert_option(ld, "keepalives_interval", TRIB_LEADER_KEEPALIVES_INTERVAL_S);
	assert_option(ld, "keepalives_count", TRIB_LEADER_KEEPALIVES_COUNT);
	assert_option(ld, "tcp_user_timeout", TRIB_LEADER_TCP_USER_TIMEOUT_MS);
	assert_true(trib_leader_check(ld, eb, sizeof(eb)));
	t0 = trib_clock_mono_ms();
	assert_false(trib_leader_check(ld, eb, sizeof(eb)));
	assert_true(trib_clock_mono_ms() - t0 < 5000);
	assert_true(trib_clock_mono_ms() - t0 >= 290);
	assert_non_null(strstr(eb, "leader: lock lost: the lock server did not answer within 300 ms"));
	/* the connection is dropped: the lock is not held any more */
	assert_false(trib_leader_check(ld, eb, sizeof(eb)));
	assert_non_null(strstr(eb, "not holding the lock"));
	trib_leader_free(ld);
	fake_stop(&s);
	alarm(0);
}

/* Settings the dsn names win over the defaults. */
static void
test_dsn_settings_win(void **state)
{
	fake_pg		s = {.answers = {"t"}};
	trib_leader *ld;

	(void) state;
	alarm(20);
	fake_start(&s);
	ld = take(&s, "keepalives_idle=7 tcp_user_timeout=0 connect_timeout=3");
	assert_option(ld, "keepalives_idle", "7");
	assert_option(ld, "tcp_user_timeout", "0");
	assert_option(ld, "connect_timeout", "3");
	assert_option(ld, "keepalives_count", TRIB_LEADER_KEEPALIVES_COUNT);
	trib_leader_free(ld);
	fake_stop(&s);
	alarm(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_silent_server_ends_in_lost_lock),
		cmocka_unit_test(test_dsn_settings_win),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
