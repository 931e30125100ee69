/*
 * test_leader_mysql.c: the MySQL/MariaDB pipeline lock (GET_LOCK) against
 * a server that stops answering.
 *
 * A thread plays a minimal MariaDB server on 127.0.0.1 (protocol 4.1,
 * mysql_native_password, no TLS, any password accepted): it can stay
 * silent from the start (a frozen server whose kernel still accepts), or
 * greet, accept the login and answer the first prepared statements of the
 * lock's session with the values the test gives, one row of one column
 * each, then read the next command and say nothing, as a frozen server or
 * a cut network would.  The tests check that the lock's queries then end
 * within the lock's deadline (try: not taken; check: lost, connection
 * dropped) instead of waiting for TCP.  Each test runs under alarm() so
 * that a hang fails the test.
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
#include "mysql_leader.h"

typedef struct fake_my
{
	int			listen_fd;
	int			port;
	bool		greet;			/* false: accept, then silence */
	const char *answers[4];		/* one value per execute, then silence */
	int			quit[2];		/* a pipe: closed when the test is done */
	pthread_t	thread;
} fake_my;

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

/* Read one packet's payload into body (*len its length); false at the end. */
static bool
read_pkt(int fd, unsigned char *body, size_t cap, size_t *len)
{
	unsigned char hdr[4];

	if (!read_full(fd, hdr, 4))
		return false;
	*len = (size_t) hdr[0] | (size_t) hdr[1] << 8 | (size_t) hdr[2] << 16;
	return *len <= cap && read_full(fd, body, *len);
}

/* Append a packet (header with sequence number seq, then body) to out. */
static size_t
put_pkt(unsigned char *out, unsigned char seq, const void *body, size_t len)
{
	out[0] = (unsigned char) len;
	out[1] = (unsigned char) (len >> 8);
	out[2] = (unsigned char) (len >> 16);
	out[3] = seq;
	memcpy(out + 4, body, len);
	return len + 4;
}

/* A protocol-4.1 column definition: a string column "x". */
static size_t
put_coldef(unsigned char *out, unsigned char seq)
{
	static const unsigned char def[] = {3, 'd', 'e', 'f', 0, 0, 0, 1, 'x', 0, 0x0c,
		33, 0, 255, 0, 0, 0, 0xfd, 0, 0, 0, 0, 0};

	return put_pkt(out, seq, def, sizeof(def));
}

static size_t
put_eof(unsigned char *out, unsigned char seq)
{
	static const unsigned char eof[] = {0xfe, 0, 0, 2, 0};

	return put_pkt(out, seq, eof, sizeof(eof));
}

/* The greeting, then the OK to the client's login. */
static bool
login(int fd)
{
	static const char version[] = "5.5.5-10.11.0-MariaDB-fake";
	static const char plugin[] = "mysql_native_password";
	/* LONG_PASSWORD, LONG_FLAG, PROTOCOL_41, TRANSACTIONS,
	 * SECURE_CONNECTION, MULTI_RESULTS, PLUGIN_AUTH */
	uint32_t	caps = 0x1 | 0x4 | 0x200 | 0x2000 | 0x8000 | 0x20000 | 0x80000;
	static const unsigned char ok[] = {0, 0, 0, 2, 0, 0, 0};
	unsigned char g[256],
				out[300],
				in[4096];
	size_t		n = 0,
				len;

	g[n++] = 10;
	memcpy(g + n, version, sizeof(version));
	n += sizeof(version);
	memcpy(g + n, "\x07\0\0\0" "abcdefgh", 12);	/* connection 7, salt 1 */
	n += 12;
	g[n++] = 0;
	g[n++] = (unsigned char) caps;
	g[n++] = (unsigned char) (caps >> 8);
	g[n++] = 33;				/* utf8 */
	g[n++] = 2;					/* autocommit */
	g[n++] = 0;
	g[n++] = (unsigned char) (caps >> 16);
	g[n++] = (unsigned char) (caps >> 24);
	g[n++] = 21;
	memset(g + n, 0, 10);
	n += 10;
	memcpy(g + n, "ijklmnopqrst", 13);	/* salt 2 and its NUL */
	n += 13;
	memcpy(g + n, plugin, sizeof(plugin));
	n += sizeof(plugin);
	len = put_pkt(out, 0, g, n);
	if (write(fd, out, len) != (ssize_t) len || !read_pkt(fd, in, sizeof(in), &len))
		return false;
	len = put_pkt(out, 2, ok, sizeof(ok));
	return write(fd, out, len) == (ssize_t) len;
}

/* Answer commands: a prepare with one parameter and one column, an execute
 * with one row of the next answer; the next command after the answers
 * gets no reply. */
static void
answer_commands(fake_my *s, int fd)
{
	static const unsigned char prep[] = {0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0};
	unsigned char in[4096],
				out[1024],
				row[80];
	size_t		len,
				n;
	int			next = 0;

	while (read_pkt(fd, in, sizeof(in), &len) && len > 0)
	{
		n = 0;
		if (in[0] == 0x19)		/* COM_STMT_CLOSE: no reply */
			continue;
		if (in[0] == 0x16 && s->answers[next] != NULL)	/* COM_STMT_PREPARE */
		{
			n += put_pkt(out + n, 1, prep, sizeof(prep));
			n += put_coldef(out + n, 2);
			n += put_eof(out + n, 3);
			n += put_coldef(out + n, 4);
			n += put_eof(out + n, 5);
		}
		else if (in[0] == 0x17 && s->answers[next] != NULL)	/* COM_STMT_EXECUTE */
		{
			size_t		vl = strlen(s->answers[next]);

			n += put_pkt(out + n, 1, "\x01", 1);
			n += put_coldef(out + n, 2);
			n += put_eof(out + n, 3);
			row[0] = 0;			/* a binary row, no NULLs */
			row[1] = 0;
			row[2] = (unsigned char) vl;
			memcpy(row + 3, s->answers[next++], vl);
			n += put_pkt(out + n, 4, row, vl + 3);
			n += put_eof(out + n, 5);
		}
		else
			return;				/* silence from here on */
		if (write(fd, out, n) != (ssize_t) n)
			return;
	}
}

static void *
serve(void *arg)
{
	fake_my    *s = arg;
	int			fd = accept(s->listen_fd, NULL, NULL);
	char		q;

	if (fd < 0)
		return NULL;
	if (s->greet && login(fd))
		answer_commands(s, fd);
	if (read(s->quit[0], &q, 1) < 0)	/* silent until the test is over */
		q = 0;
	close(fd);
	return NULL;
}

static void
fake_start(fake_my *s)
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
fake_stop(fake_my *s)
{
	close(s->quit[1]);
	pthread_join(s->thread, NULL);
	close(s->quit[0]);
	close(s->listen_fd);
}

/* A leader for s's server with a 1 s deadline per lock query. */
static trib_leader *
leader_for(fake_my *s)
{
	trib_my_conn_conf cc = {.host = "127.0.0.1", .port = (unsigned) s->port,
	.user = "t", .password = "secret"};
	trib_leader *ld = trib_my_leader_new(&cc, "p1");

	trib_my_leader_set_timeout(ld, 1);
	return ld;
}

/* The check answers while the server does, then ends as a lost lock within
 * its deadline once the server stops answering; the connection is gone. */
static void
test_silent_server_ends_in_lost_lock(void **state)
{
	fake_my		s = {.greet = true, .answers = {"1", "1"}};
	trib_leader *ld;
	char		eb[512] = "";
	int64_t		t0;

	(void) state;
	alarm(30);
	fake_start(&s);
	ld = leader_for(&s);
	assert_int_equal(trib_leader_try(ld, eb, sizeof(eb)), 1);
	assert_true(trib_leader_check(ld, eb, sizeof(eb)));
	t0 = trib_clock_mono_ms();
	assert_false(trib_leader_check(ld, eb, sizeof(eb)));
	printf("check on a silent server ended after %lld ms: %s\n",
		   (long long) (trib_clock_mono_ms() - t0), eb);
	assert_true(trib_clock_mono_ms() - t0 < 5000);
	assert_true(trib_clock_mono_ms() - t0 >= 900);
	assert_non_null(strstr(eb, "leader: lock lost: its connection to 127.0.0.1:"));
	assert_null(strstr(eb, "secret"));
	assert_false(trib_leader_check(ld, eb, sizeof(eb)));
	assert_non_null(strstr(eb, "not holding the lock"));
	trib_leader_free(ld);
	fake_stop(&s);
	alarm(0);
}

/* A server that logs us in and then does not answer GET_LOCK: the try ends
 * within the deadline as an error worth retrying. */
static void
test_silent_get_lock_fails_try(void **state)
{
	fake_my		s = {.greet = true};
	trib_leader *ld;
	char		eb[512] = "";
	int64_t		t0;

	(void) state;
	alarm(30);
	fake_start(&s);
	ld = leader_for(&s);
	t0 = trib_clock_mono_ms();
	assert_int_equal(trib_leader_try(ld, eb, sizeof(eb)), -1);
	printf("try on a silent server ended after %lld ms: %s\n",
		   (long long) (trib_clock_mono_ms() - t0), eb);
	assert_true(trib_clock_mono_ms() - t0 < 5000);
	assert_non_null(strstr(eb, "GET_LOCK on 127.0.0.1:"));
	trib_leader_free(ld);
	fake_stop(&s);
	alarm(0);
}

/* A server that accepts the connection and never greets: the try (the
 * connect) ends within the deadline as an error worth retrying. */
static void
test_no_greeting_fails_try(void **state)
{
	fake_my		s = {.greet = false};
	trib_leader *ld;
	char		eb[512] = "";
	int64_t		t0;

	(void) state;
	alarm(30);
	fake_start(&s);
	ld = leader_for(&s);
	t0 = trib_clock_mono_ms();
	assert_int_equal(trib_leader_try(ld, eb, sizeof(eb)), -1);
	printf("connect to a silent server ended after %lld ms: %s\n",
		   (long long) (trib_clock_mono_ms() - t0), eb);
	assert_true(trib_clock_mono_ms() - t0 < 5000);
	assert_non_null(strstr(eb, "pipeline lock: connecting to 127.0.0.1:"));
	trib_leader_free(ld);
	fake_stop(&s);
	alarm(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_silent_server_ends_in_lost_lock),
		cmocka_unit_test(test_silent_get_lock_fails_try),
		cmocka_unit_test(test_no_greeting_fails_try),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
