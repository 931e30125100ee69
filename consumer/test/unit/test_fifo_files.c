/*
 * test_fifo_files.c: configured files that are FIFOs are refused, not
 * waited on.
 *
 * Opening a FIFO for reading blocks until a writer comes, so a TLS PEM
 * file, a fake-value dictionary, the lineage config fingerprint's config
 * file, the lineage export's in-flight journal and export file, and a file
 * sink's ids sidecar that were FIFOs would hang the consumer at start.
 * Each test makes such a FIFO (no writer ever opens it) and checks the
 * clear error naming the file; each runs under alarm() so that a
 * regression fails instead of hanging.  The regular-file case of each
 * reader is covered by the readers' own tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fileio.h"
#include "http.h"
#include "lineage.h"
#include "lineage_int.h"
#include "mask_fake.h"
#include "sink_file_ids.h"

static char dir[64];

static int
setup(void **state)
{
	(void) state;
	snprintf(dir, sizeof(dir), "/tmp/trib_fifo_XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	alarm(20);
	return 0;
}

static int
teardown(void **state)
{
	char		cmd[128];

	(void) state;
	alarm(0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* dir/name made a FIFO; its path in a static buffer. */
static const char *
fifo(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(mkfifo(path, 0600), 0);
	return path;
}

static void
assert_contains(const char *s, const char *part)
{
	if (strstr(s, part) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", s, part);
}

static void
test_fileio_refuses_fifo(void **state)
{
	const char *p = fifo("f");
	char		msg[128] = "";
	size_t		len;

	(void) state;
	assert_null(trib_fileio_fopen_read(p, msg, sizeof(msg)));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(msg, "not a regular file");
	assert_null(trib_fileio_fopen_read(dir, msg, sizeof(msg)));
	assert_string_equal(msg, "not a regular file");
	assert_null(trib_fileio_read_small(p, 1024, &len, msg, sizeof(msg)));
	assert_string_equal(msg, "not a regular file");
}

static void
test_fileio_fopen_read_regular(void **state)
{
	char		path[128],
				msg[128] = "",
				line[16] = "";
	FILE	   *f;

	(void) state;
	snprintf(path, sizeof(path), "%s/r", dir);
	assert_null(trib_fileio_fopen_read(path, msg, sizeof(msg)));
	assert_int_equal(errno, ENOENT);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("abc\n", f);
	fclose(f);
	f = trib_fileio_fopen_read(path, msg, sizeof(msg));
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "abc\n");
	fclose(f);
}

static void
test_http_tls_pem_fifo(void **state)
{
	trib_http_opts o;
	char		err[512] = "";
	const char *cert = fifo("cert.pem");

	(void) state;
	trib_http_opts_init(&o);
	o.host = "127.0.0.1";
	o.tls_cert_file = cert;
	o.tls_key_file = cert;
	assert_null(trib_http_start(&o, err, sizeof(err)));
	assert_contains(err, "cannot read the TLS certificate");
	assert_contains(err, cert);
	assert_contains(err, "not a regular file");
}

static void
test_fake_dictionary_fifo(void **state)
{
	char		err[512] = "";

	(void) state;
	fifo("first_names.txt");
	assert_null(trib_fake_dicts_load(dir, err, sizeof(err)));
	assert_contains(err, "first_names.txt: not a regular file");
}

static void
test_lineage_fingerprint_fifo(void **state)
{
	const char *p = fifo("tributary.yaml");
	char		out[65],
				err[512] = "";

	(void) state;
	assert_false(trib_lineage_config_fingerprint(p, out, err, sizeof(err)));
	assert_contains(err, p);
	assert_contains(err, "not a regular file");
}

static void
test_lineage_journal_fifo(void **state)
{
	const char *p = fifo("state.inflight");
	lx_inflight j = {.event = (char *) "{}"};
	char		err[512] = "";

	(void) state;
	assert_false(lx_journal_read(p, &j));	/* ignored (logged), no wait */
	p = fifo("export.jsonl");
	j.event = (char *) "{}";
	assert_int_equal(lx_journal_settle_file(p, &j, err, sizeof(err)), -1);
	assert_contains(err, "export.jsonl: not a regular file");
}

static void
test_sink_file_ids_fifo(void **state)
{
	const char *p = fifo("out.jsonl.ids");
	trib_fsids x = {0};
	char		err[512] = "";

	(void) state;
	assert_false(trib_fsids_load(&x, p, 0600, false, true, 1, 1, err, sizeof(err)));
	assert_contains(err, "ids sidecar");
	assert_contains(err, p);
	assert_contains(err, "not a regular file");
	trib_fsids_clear(&x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fileio_refuses_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fileio_fopen_read_regular, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_tls_pem_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_dictionary_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lineage_fingerprint_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lineage_journal_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sink_file_ids_fifo, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
