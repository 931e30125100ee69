/*
 * test_erasure.c: the erasure guard and the key rows, without a database.
 *
 * Key rows (erasure_row.c) are checked against a table description: only
 * exactly the table's key columns, each a non-null scalar, make an event,
 * and that event (a delete, or an update whose row is the key and nulls)
 * takes nothing else from the row.  The guard (erasure.c) refuses every
 * `tributary.erasure` message and consumes every catalog event, with or
 * without an erasure section; with one, the refusals are in the audit log
 * (0600, subject as HMAC) and counted.  The source side (requests, key
 * lookups) is covered end to end by e2e 22_erasure and 33_erasure_forged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "erasure.h"
#include "erasure_int.h"
#include "event.h"
#include "metrics.h"
#include "strbuf.h"

/* public.t (id, name, email), key (id); or with key (b, a) over (a, b, c). */
static er_table *
table_of(const char *const *cols, int ncols, const int *key, int nkey)
{
	er_table   *t = trib_xcalloc(1, sizeof(*t));

	t->schema = trib_xstrdup("public");
	t->table = trib_xstrdup("t");
	t->ncols = ncols;
	t->cols = trib_xcalloc((size_t) ncols, sizeof(char *));
	t->types = trib_xcalloc((size_t) ncols, sizeof(char *));
	t->key = trib_xcalloc((size_t) ncols, sizeof(int));
	for (int i = 0; i < ncols; i++)
	{
		t->cols[i] = trib_xstrdup(cols[i]);
		t->types[i] = trib_xstrdup("text");
	}
	for (int i = 0; i < nkey; i++)
		t->key[i] = key[i];
	t->nkey = nkey;
	return t;
}

static er_table *
simple_table(void)
{
	static const char *const cols[] = {"id", "name", "email"};
	static const int key[] = {0};

	return table_of(cols, 3, key, 1);
}

/* An insert of tributary.erasure_keys with this key. */
static trib_event *
key_row_event(const char *schema, const char *table, const char *key)
{
	trib_event *ev = trib_event_new();
	trib_strbuf b = {0};

	trib_strbuf_printf(&b, "{\"id\":9,\"request_id\":4,\"schema_name\":\"%s\","
					   "\"table_name\":\"%s\",\"key\":%s,\"created_at\":\"2026-01-01T00:00:00Z\"}",
					   schema, table, key);
	ev->op = TRIB_OP_CREATE;
	ev->schema = "tributary";
	ev->table = "erasure_keys";
	ev->after = trib_strbuf_finish(&b);
	ev->key = trib_xstrdup("{\"id\":9}");
	ev->pos.commit_lsn = 0x16B3748;
	ev->pos.seq = 2;
	return ev;
}

/* Apply a key row with `key` to t; the reason, or NULL and ev rewritten. */
static const char *
apply(const er_table *t, const char *key, trib_erasure_action action, trib_event **evp)
{
	er_keyrow	row;
	trib_event *ev = key_row_event("public", "t", key);
	const char *why = er_keyrow_read(ev->after, &row);

	if (why == NULL)
		why = er_keyrow_apply(&row, t, action, ev, "public", "t");
	er_keyrow_free(&row);
	*evp = ev;
	return why;
}

static void
a_fitting_key_becomes_a_tombstone_delete(void **state)
{
	er_table   *t = simple_table();
	trib_event *ev;

	(void) state;
	assert_null(apply(t, "{\"id\" : 3}", TRIB_ERASE_DELETE, &ev));
	assert_int_equal(ev->op, TRIB_OP_DELETE);
	assert_string_equal(ev->schema, "public");
	assert_string_equal(ev->table, "t");
	assert_string_equal(ev->key, "{\"id\":3}");
	assert_string_equal(ev->before, "{\"id\":3}");
	assert_null(ev->after);
	assert_null(ev->rel);
	assert_int_equal(ev->flatten, TRIB_FLAT_TOMBSTONE);
	trib_event_free(ev);
	er_table_free(t);
}

static void
anonymize_builds_the_row_from_the_table_not_the_request(void **state)
{
	er_table   *t = simple_table();
	trib_event *ev;

	(void) state;
	assert_null(apply(t, "{\"id\":\"a-7\"}", TRIB_ERASE_ANONYMIZE, &ev));
	assert_int_equal(ev->op, TRIB_OP_UPDATE);
	assert_string_equal(ev->key, "{\"id\":\"a-7\"}");
	assert_string_equal(ev->after, "{\"id\":\"a-7\",\"name\":null,\"email\":null}");
	assert_null(ev->before);
	trib_event_free(ev);
	er_table_free(t);
}

static void
keys_follow_the_table_order_and_keep_number_text(void **state)
{
	static const char *const cols[] = {"a", "b", "c"};
	static const int key[] = {1, 0};	/* key (b, a) */
	er_table   *t = table_of(cols, 3, key, 2);
	trib_event *ev;

	(void) state;
	assert_null(apply(t, "{\"a\":1.50,\"b\":12345678901234567890}", TRIB_ERASE_DELETE, &ev));
	assert_string_equal(ev->key, "{\"b\":12345678901234567890,\"a\":1.50}");
	trib_event_free(ev);
	er_table_free(t);
}

static void
keys_that_do_not_fit_are_refused_and_change_nothing(void **state)
{
	static const char *const bad[] = {
		"{\"id\":2,\"name\":\"mallory\"}",	/* a forged column */
		"{\"name\":\"x\"}",		/* not the key */
		"{}",
		"{\"id\":null}",
		"{\"id\":{\"x\":1}}",
		"{\"id\":[1]}",
		"{\"id\":1,\"id\":2}",
	};
	er_table   *t = simple_table();

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		trib_event *ev;
		const char *why = apply(t, bad[i], TRIB_ERASE_ANONYMIZE, &ev);

		if (why == NULL)
			print_message("accepted: %s\n", bad[i]);
		assert_non_null(why);
		assert_int_equal(ev->op, TRIB_OP_CREATE);
		assert_string_equal(ev->table, "erasure_keys");
		trib_event_free(ev);
	}
	er_table_free(t);
}

static void
malformed_key_rows_are_refused(void **state)
{
	static const char *const bad[] = {
		"not json",
		"[1]",
		"{\"request_id\":\"4\",\"schema_name\":\"public\",\"table_name\":\"t\",\"key\":{}}",
		"{\"request_id\":-4,\"schema_name\":\"public\",\"table_name\":\"t\",\"key\":{}}",
		"{\"request_id\":4,\"schema_name\":\"public\",\"key\":{}}",
		"{\"request_id\":4,\"schema_name\":\"public\",\"table_name\":\"t\",\"key\":\"{}\"}",
	};

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		er_keyrow	row;

		assert_non_null(er_keyrow_read(bad[i], &row));
		er_keyrow_free(&row);
	}
}

/* ---- the guard --------------------------------------------------------- */

static char dir[64];

static int
setup(void **state)
{
	(void) state;
	snprintf(dir, sizeof(dir), "/tmp/test_erasure.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char		p[128];

	(void) state;
	snprintf(p, sizeof(p), "%s/audit.jsonl", dir);
	unlink(p);
	return rmdir(dir);
}

/* A logical message event with this prefix. */
static trib_event *
message(const char *prefix, bool transactional)
{
	trib_event *ev = trib_event_new();
	trib_strbuf b = {0};

	trib_strbuf_printf(&b, "{\"transactional\":%s,\"prefix\":\"%s\",\"encoding\":\"utf8\","
					   "\"content\":\"{\\\"schema\\\":\\\"public\\\",\\\"table\\\":\\\"t\\\","
					   "\\\"key\\\":{\\\"id\\\":1}}\"}", transactional ? "true" : "false", prefix);
	ev->op = TRIB_OP_MESSAGE;
	ev->extra = trib_strbuf_finish(&b);
	ev->pos.commit_lsn = 0x2000;
	return ev;
}

/* The counter of kind in the rendered metrics, as text. */
static char *
counter(trib_metrics *m, const char *family, const char *kind)
{
	trib_strbuf out = {0};
	char		want[128];
	char	   *p,
			   *end;
	char	   *v;

	trib_metrics_render(m, &out);
	snprintf(want, sizeof(want), "%s{kind=\"%s\"} ", family, kind);
	p = strstr(out.data, want);
	assert_non_null(p);
	p += strlen(want);
	end = strchr(p, '\n');
	v = trib_xstrndup(p, (size_t) (end - p));
	trib_strbuf_free(&out);
	return v;
}

static void
without_erasure_messages_are_refused_and_the_catalog_is_never_data(void **state)
{
	trib_config cfg;
	trib_metrics *m = trib_metrics_new();
	char		err[256];
	trib_erasure *er;
	trib_event *ev;
	char	   *v;

	(void) state;
	memset(&cfg, 0, sizeof(cfg));
	er = trib_erasure_new(&cfg, m, err, sizeof(err));
	assert_non_null(er);
	assert_false(trib_erasure_enabled(er));

	ev = message("tributary.erasure", true);
	assert_int_equal(trib_erasure_take(er, ev, err, sizeof(err)), TRIB_ERASURE_CONSUMED);
	trib_event_free(ev);
	ev = message("tributary.erasure", false);
	assert_int_equal(trib_erasure_take(er, ev, err, sizeof(err)), TRIB_ERASURE_CONSUMED);
	trib_event_free(ev);
	/* other messages are data, even one that merely mentions the prefix */
	ev = message("app.tributary.erasure", true);
	assert_int_equal(trib_erasure_take(er, ev, err, sizeof(err)), TRIB_ERASURE_NOT_OURS);
	trib_event_free(ev);
	/* a key row is consumed, not applied, without an erasure section */
	ev = key_row_event("public", "t", "{\"id\":1}");
	assert_int_equal(trib_erasure_take(er, ev, err, sizeof(err)), TRIB_ERASURE_CONSUMED);
	assert_int_equal(ev->op, TRIB_OP_CREATE);
	trib_event_free(ev);
	/* an ordinary change is not ours */
	ev = key_row_event("public", "t", "{\"id\":1}");
	ev->schema = "public";
	assert_int_equal(trib_erasure_take(er, ev, err, sizeof(err)), TRIB_ERASURE_NOT_OURS);
	trib_event_free(ev);

	v = counter(m, "tributary_erasure_refused_total", "message");
	assert_string_equal(v, "2");
	free(v);
	trib_erasure_free(er);
	trib_metrics_free(m);
}

/* The process umask (umask(2) can only be read by setting it). */
static mode_t
current_umask(void)
{
	mode_t		m = umask(022);

	umask(m);
	return m;
}

/* Read the whole audit log. */
static char *
audit_text(void)
{
	char		p[128];
	FILE	   *f;
	trib_strbuf b = {0};
	char		buf[1024];
	size_t		n;

	snprintf(p, sizeof(p), "%s/audit.jsonl", dir);
	f = fopen(p, "r");
	assert_non_null(f);
	trib_strbuf_add(&b, "", 0);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		trib_strbuf_add(&b, buf, n);
	fclose(f);
	return trib_strbuf_finish(&b);
}

/* An erasure section: target public.accounts.id, the audit log in dir. */
static void
configure(trib_config *cfg, char **targets, char *path, size_t pathlen)
{
	snprintf(path, pathlen, "%s/audit.jsonl", dir);
	memset(cfg, 0, sizeof(*cfg));
	targets[0] = "public.accounts.id";
	cfg->erasure.targets.items = targets;
	cfg->erasure.targets.count = 1;
	cfg->erasure.audit_log = path;
	cfg->erasure.subject_key = "test-subject-key-0123456789";
	cfg->erasure.subject_key_format = TRIB_RKEY_RAW;
}

static void
with_erasure_every_refusal_is_audited_and_counted(void **state)
{
	char	   *targets[1];
	char		path[128];
	trib_config cfg;
	trib_metrics *m = trib_metrics_new();
	char		err[256];
	trib_erasure *er;
	trib_event *ev;
	char	   *text,
			   *v;
	struct stat st;

	(void) state;
	configure(&cfg, targets, path, sizeof(path));
	cfg.erasure.dsn = "host=/nonexistent/socket/dir dbname=x";
	er = trib_erasure_new(&cfg, m, err, sizeof(err));
	assert_non_null(er);
	assert_true(trib_erasure_enabled(er));

	ev = message("tributary.erasure", false);
	assert_int_equal(trib_erasure_take(er, ev, err, sizeof(err)), TRIB_ERASURE_CONSUMED);
	trib_event_free(ev);
	/* a table that is not a target: refused before any lookup */
	ev = key_row_event("public", "only_in_target", "{\"id\":1}");
	assert_int_equal(trib_erasure_take(er, ev, err, sizeof(err)), TRIB_ERASURE_CONSUMED);
	assert_int_equal(ev->op, TRIB_OP_CREATE);
	trib_event_free(ev);
	/* a malformed key row */
	ev = key_row_event("public", "accounts", "\"1\"");
	assert_int_equal(trib_erasure_take(er, ev, err, sizeof(err)), TRIB_ERASURE_CONSUMED);
	trib_event_free(ev);
	/* a target, but the source cannot be reached: the pipeline stops */
	ev = key_row_event("public", "accounts", "{\"id\":1}");
	assert_int_equal(trib_erasure_take(er, ev, err, sizeof(err)), TRIB_ERASURE_FAILED);
	assert_non_null(strstr(err, "cannot connect"));
	trib_event_free(ev);

	text = audit_text();
	assert_non_null(strstr(text, "\"event\":\"message\",\"position\":\"0/2000:0\","
						   "\"prefix\":\"tributary.erasure\",\"transactional\":false,"
						   "\"result\":\"refused\",\"reason\":\"a logical message carries no authority"));
	assert_non_null(strstr(text, "\"event\":\"key\",\"position\":\"0/16B3748:2\",\"request_id\":4,"
						   "\"table\":\"public.only_in_target\",\"result\":\"refused\","
						   "\"reason\":\"the table is not an erasure target of this pipeline\"}\n"));
	assert_non_null(strstr(text, "\"event\":\"key\",\"position\":\"0/16B3748:2\",\"request_id\":4,"
						   "\"table\":\"public.accounts\",\"result\":\"refused\","
						   "\"reason\":\"the key row's key is not a JSON object\"}\n"));
	free(text);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	v = counter(m, "tributary_erasure_refused_total", "key");
	assert_string_equal(v, "2");
	free(v);
	v = counter(m, "tributary_erasure_refused_total", "message");
	assert_string_equal(v, "1");
	free(v);
	trib_erasure_free(er);
	trib_metrics_free(m);
}

static void
a_request_without_subject_is_refused(void **state)
{
	char	   *targets[1];
	char		path[128];
	trib_config cfg;
	char		err[256];
	trib_erasure *er;
	trib_event *ev = trib_event_new();
	char	   *text;
	struct stat st;

	(void) state;
	configure(&cfg, targets, path, sizeof(path));
	cfg.erasure.audit_log_mode = "0640";
	er = trib_erasure_new(&cfg, NULL, err, sizeof(err));
	assert_non_null(er);
	ev->op = TRIB_OP_CREATE;
	ev->schema = "tributary";
	ev->table = "erasure_requests";
	ev->after = trib_xstrdup("{\"id\":5,\"subject\":null}");
	assert_int_equal(trib_erasure_take(er, ev, err, sizeof(err)), TRIB_ERASURE_CONSUMED);
	text = audit_text();
	assert_non_null(strstr(text, "\"event\":\"request\",\"position\":\"0/0:0\",\"request_id\":5,"
						   "\"result\":\"refused\",\"reason\":\"the request has no id or no subject\"}"));
	free(text);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640 & ~current_umask());
	trib_event_free(ev);
	trib_erasure_free(er);
}

static void
a_short_subject_key_is_refused(void **state)
{
	char	   *targets[1];
	char		path[128];
	trib_config cfg;
	char		err[256];

	(void) state;
	configure(&cfg, targets, path, sizeof(path));
	cfg.erasure.subject_key = "short";
	assert_null(trib_erasure_new(&cfg, NULL, err, sizeof(err)));
	assert_null(strstr(err, "short"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_fitting_key_becomes_a_tombstone_delete),
		cmocka_unit_test(anonymize_builds_the_row_from_the_table_not_the_request),
		cmocka_unit_test(keys_follow_the_table_order_and_keep_number_text),
		cmocka_unit_test(keys_that_do_not_fit_are_refused_and_change_nothing),
		cmocka_unit_test(malformed_key_rows_are_refused),
		cmocka_unit_test(without_erasure_messages_are_refused_and_the_catalog_is_never_data),
		cmocka_unit_test_setup_teardown(with_erasure_every_refusal_is_audited_and_counted,
										setup, teardown),
		cmocka_unit_test_setup_teardown(a_request_without_subject_is_refused, setup, teardown),
		cmocka_unit_test(a_short_subject_key_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
