/*
 * ctl.c: `tributary ctl`; see ctl.h.
 *
 * Design.  One GET (pause and resume: one POST without a body) with
 * libcurl into a buffer, then either the body as
 * it is (--json) or the JSON document (yajl's tree) written as text: a
 * scalar member as `key: value`, an array of objects as `key:` and one
 * indented line per object with its scalar members, an array of scalars
 * on one line.  The documents are small, so nothing is streamed.
 */
#include "ctl.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "config.h"
#include "fileio.h"
#include "jsondoc.h"
#include "strbuf.h"

#define CTL_EXIT_FAIL 1
#define CTL_EXIT_USAGE 2
#define CTL_TIMEOUT_S 10L
#define CTL_MAX_TOKEN 4096

const char	trib_ctl_usage[] =
"tributary ctl status|pipeline|rules|reload [-c FILE | --url URL] [--token-file F]\n"
"                                    [--cacert PEM] [--json]\n"
"tributary ctl pause|resume source|sink NAME [the same options]\n"
"  Ask a running daemon (docs/API.md): status (/status), pipeline\n"
"  (/api/v1/pipeline: sources, sinks, positions, state), rules\n"
"  (/api/v1/rules, without secrets); reload (POST /api/v1/reload, with the\n"
"  token): the daemon re-reads its file and says accepted, unchanged,\n"
"  invalid (FILE:LINE errors) or refused (why).  The address is --url, else FILE's\n"
"  http.listen, whose http.token_file also gives the token; --token-file F\n"
"  sends the token in F; --cacert PEM trusts that CA for https.  pause and\n"
"  resume a source or a sink (POST /api/v1/sources|sinks/NAME/pause|resume,\n"
"  with the token).  Readable text, or the JSON as received with\n"
"  --json.  Exit 1 when the daemon does not answer 200.\n";

/* The command's path. */
static const char *
command_path(const char *cmd)
{
	static const char *const paths[][2] = {
		{"status", "/status"}, {"pipeline", "/api/v1/pipeline"}, {"rules", "/api/v1/rules"},
		{"reload", "/api/v1/reload"},
		{NULL, NULL}
	};

	for (int i = 0; paths[i][0] != NULL; i++)
		if (strcmp(paths[i][0], cmd) == 0)
			return paths[i][1];
	return NULL;
}

/* The token in `path`, without a trailing newline (malloc'd), or NULL
 * with a message (a FIFO or a device is refused without waiting on it). */
static char *
read_token(const char *path, FILE *err)
{
	char		msg[256];
	size_t		n;
	char	   *tok = trib_fileio_read_small(path, CTL_MAX_TOKEN, &n, msg, sizeof(msg));

	if (tok == NULL)
	{
		fprintf(err, "tributary ctl: the token file %s: %s\n", path, msg);
		return NULL;
	}
	while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r'))
		tok[--n] = '\0';
	if (n == 0 || strlen(tok) != n)
	{
		fprintf(err, "tributary ctl: the token file %s is empty or not text\n", path);
		explicit_bzero(tok, n);
		free(tok);
		return NULL;
	}
	return tok;
}

/* The base URL and token from a config file; false with a message. */
static bool
from_config(const char *file, char **url, char **token, FILE *err)
{
	trib_config *cfg = NULL;
	char		e[1024];
	trib_strbuf b = {0};
	bool		v6;

	if (!trib_config_load(file, &cfg, e, sizeof(e)))
	{
		fprintf(err, "tributary ctl: %s\n", e);
		return false;
	}
	if (!cfg->http.enabled || cfg->http.port == 0)
	{
		fprintf(err, "tributary ctl: %s: http %s; pass --url\n", file,
				!cfg->http.enabled ? "is disabled" : "listens on port 0 (any free port)");
		trib_config_free(cfg);
		return false;
	}
	v6 = strchr(cfg->http.host, ':') != NULL;
	trib_strbuf_printf(&b, "%s://%s%s%s:%d", cfg->http.tls_cert_file ? "https" : "http",
					   v6 ? "[" : "",
					   strcmp(cfg->http.host, "0.0.0.0") == 0 ? "127.0.0.1"
					   : strcmp(cfg->http.host, "::") == 0 ? "::1" : cfg->http.host,
					   v6 ? "]" : "", cfg->http.port);
	*url = trib_strbuf_finish(&b);
	if (*token == NULL && cfg->http.token != NULL)
		*token = strdup(cfg->http.token);
	trib_config_free(cfg);
	return true;
}

/* libcurl's write callback: append to a strbuf. */
static size_t
on_data(char *data, size_t size, size_t n, void *arg)
{
	trib_strbuf_add(arg, data, size * n);
	return size * n;
}

/*
 * The URL as messages show it (malloc'd): a password in its user part
 * (`https://user:secret@host/`) becomes `***`, which is what curl would
 * have sent and a terminal or a CI log must not keep.
 */
static char *
url_shown(const char *url)
{
	const char *scheme = strstr(url, "://");
	const char *host = scheme != NULL ? scheme + 3 : url;
	size_t		hostlen = strcspn(host, "/?#");
	const char *at = NULL;
	trib_strbuf b = {0};

	for (size_t i = 0; i < hostlen; i++)
		if (host[i] == '@')
			at = host + i;		/* the last one ends the user part */
	if (at == NULL)
		return trib_xstrdup(url);
	trib_strbuf_printf(&b, "%.*s***%s", (int) (host - url), url, at);
	return trib_strbuf_finish(&b);
}

/* GET url (POST without a body when `post`); *status (0: no answer) and
 * the body into b.  False with a message, where the URL is `shown`, when
 * there was no answer. */
static bool
http_get(const char *url, const char *shown, bool post, const char *token, const char *cacert,
		 long *status, trib_strbuf *b, FILE *err)
{
	CURL	   *c = curl_easy_init();
	struct curl_slist *h = NULL;
	trib_strbuf auth = {0};
	CURLcode	rc;

	if (c == NULL)
		return false;
	if (token != NULL)
	{
		trib_strbuf_printf(&auth, "Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth.data);
		OPENSSL_cleanse(auth.data, auth.len);
		trib_strbuf_free(&auth);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (post)
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	if (post)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	if (cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, cacert);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, CTL_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	rc = curl_easy_perform(c);
	*status = 0;
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	else
		fprintf(err, "tributary ctl: %s %s: %s\n", post ? "POST" : "GET", shown,
				curl_easy_strerror(rc));
	curl_slist_free_all(h);			/* the header's copy: libcurl's */
	curl_easy_cleanup(c);
	return rc == CURLE_OK;
}

/* A scalar as text ("null" for null). */
static const char *
scalar(yajl_val v)
{
	const char *t = trib_jdoc_scalar_text(v);

	return t != NULL ? t : "null";
}

/* One object of a list on one line: its scalar members. */
static void
print_item(FILE *out, yajl_val o)
{
	fputs(" ", out);
	if (!YAJL_IS_OBJECT(o))
		fprintf(out, "  %s", scalar(o));	/* a list of words (changes) */
	for (size_t i = 0; YAJL_IS_OBJECT(o) && i < o->u.object.len; i++)
	{
		yajl_val	v = o->u.object.values[i];
		const char *k = o->u.object.keys[i];

		if (YAJL_IS_ARRAY(v))
		{
			fprintf(out, "  %s=", k);
			for (size_t j = 0; j < v->u.array.len; j++)
				fprintf(out, "%s%s", j ? "," : "", scalar(v->u.array.values[j]));
		}
		else if (strcmp(k, "name") == 0 || strcmp(k, "type") == 0)
			fprintf(out, "  %-14s", scalar(v));
		else
			fprintf(out, "  %s=%s", k, scalar(v));
	}
	fputc('\n', out);
}

/* The document as text. */
static void
print_text(FILE *out, yajl_val doc)
{
	for (size_t i = 0; i < doc->u.object.len; i++)
	{
		yajl_val	v = doc->u.object.values[i];

		fprintf(out, "%s:%*s", doc->u.object.keys[i],
				(int) (15 - strlen(doc->u.object.keys[i])), "");
		if (!YAJL_IS_ARRAY(v))
		{
			fprintf(out, "%s\n", YAJL_IS_OBJECT(v) ? "{...}" : scalar(v));
			continue;
		}
		fprintf(out, "%zu\n", v->u.array.len);
		for (size_t j = 0; j < v->u.array.len; j++)
			print_item(out, v->u.array.values[j]);
	}
}

/* Print the answer; the exit status. */
static int
report(const char *url, bool post, long status, const trib_strbuf *b, bool json, FILE *out,
	   FILE *err)
{
	char		e[256];
	yajl_val	doc = b->len ? trib_jdoc_parse(b->data, e, sizeof(e)) : NULL;
	yajl_val   *msg = doc && YAJL_IS_OBJECT(doc) ? trib_jdoc_get_slot(doc, "error") : NULL;
	int			rc = 0;

	if (status != 200)
	{
		fprintf(err, "tributary ctl: %s %s: %ld %s\n", post ? "POST" : "GET", url, status,
				msg != NULL && YAJL_IS_STRING(*msg) ? (*msg)->u.string : "(no message)");
		rc = CTL_EXIT_FAIL;
	}
	else if (json)
		fwrite(b->data, 1, b->len, out);
	else if (doc == NULL || !YAJL_IS_OBJECT(doc))
	{
		fprintf(err, "tributary ctl: %s %s: the answer is not a JSON object\n",
				post ? "POST" : "GET", url);
		rc = CTL_EXIT_FAIL;
	}
	else
		print_text(out, doc);
	yajl_tree_free(doc);
	return rc;
}

typedef struct ctl_args
{
	const char *config;
	const char *url;
	const char *token_file;
	const char *cacert;
	bool		json;
} ctl_args;

/* Parse the options after the command; false on bad usage. */
static bool
parse_args(int argc, char **argv, ctl_args *a, FILE *err)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"url", required_argument, NULL, 'u'},
		{"token-file", required_argument, NULL, 't'}, {"json", no_argument, NULL, 'j'},
		{"cacert", required_argument, NULL, 'a'},
		{NULL, 0, NULL, 0}
	};
	int			o;

	memset(a, 0, sizeof(*a));
	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":c:", opts, NULL)) != -1)
	{
		if (o == ':')
		{
			fprintf(err, "tributary ctl: %s needs a value\n%s", argv[optind - 1],
					trib_ctl_usage);
			return false;
		}
		if (o == 'c')
			a->config = optarg;
		else if (o == 'u')
			a->url = optarg;
		else if (o == 't')
			a->token_file = optarg;
		else if (o == 'j')
			a->json = true;
		else if (o == 'a')
			a->cacert = optarg;
		else
		{
			fprintf(err, "tributary ctl: unknown option \"%s\"\n%s", argv[optind - 1],
					trib_ctl_usage);
			return false;
		}
	}
	if (optind != argc || (a->config == NULL) == (a->url == NULL))
	{
		fprintf(err, "tributary ctl: give one command and either -c FILE or --url URL\n%s",
				trib_ctl_usage);
		return false;
	}
	return true;
}

/*
 * pause|resume source|sink NAME: the path into *path (malloc'd); how many
 * arguments the command took (3), or 0 after a message on bad usage.
 */
static int
pause_path(int argc, char **argv, char **path, FILE *err)
{
	trib_strbuf b = {0};
	char	   *name;

	if (argc < 4 || (strcmp(argv[2], "source") != 0 && strcmp(argv[2], "sink") != 0) ||
		argv[3][0] == '\0' || argv[3][0] == '-')
	{
		fprintf(err, "tributary ctl: %s takes source|sink NAME\n%s", argv[1], trib_ctl_usage);
		return 0;
	}
	name = curl_easy_escape(NULL, argv[3], 0);
	trib_strbuf_printf(&b, "/api/v1/%ss/%s/%s", argv[2], name, argv[1]);
	curl_free(name);
	*path = trib_strbuf_finish(&b);
	return 3;
}

/* See ctl.h. */
int
trib_ctl_main(int argc, char **argv, FILE *out, FILE *err)
{
	bool		pause = argc > 1 && (strcmp(argv[1], "pause") == 0 ||
									 strcmp(argv[1], "resume") == 0);
	bool		post = pause || (argc > 1 && strcmp(argv[1], "reload") == 0);
	char	   *own_path = NULL;
	int			took = pause ? pause_path(argc, argv, &own_path, err) : 1;
	const char *path = pause ? own_path : argc > 1 ? command_path(argv[1]) : NULL;
	ctl_args	a;
	char	   *base = NULL,
			   *token = NULL;
	trib_strbuf url = {0},
				body = {0};
	long		status;
	int			rc = CTL_EXIT_FAIL;

	if (pause && took == 0)
		return CTL_EXIT_USAGE;
	if (path == NULL)
	{
		if (argc > 1)
			fprintf(err, "tributary ctl: unknown command \"%s\" (accepted: status, pipeline, "
					"rules, reload, pause, resume)\n%s", argv[1], trib_ctl_usage);
		else
			fprintf(err, "tributary ctl: missing command (accepted: status, pipeline, rules, "
					"reload, pause, resume)\n%s", trib_ctl_usage);
		return CTL_EXIT_USAGE;
	}
	if (!parse_args(argc - took, argv + took, &a, err) ||
		(a.token_file != NULL && (token = read_token(a.token_file, err)) == NULL))
	{
		free(own_path);
		return CTL_EXIT_USAGE;
	}
	if (a.config != NULL && !from_config(a.config, &base, &token, err))
		rc = CTL_EXIT_USAGE;
	else
	{
		const char *b = base != NULL ? base : a.url;
		size_t		n = strlen(b);
		char	   *shown;

		trib_strbuf_printf(&url, "%.*s%s", (int) (n - (n > 0 && b[n - 1] == '/')), b, path);
		shown = url_shown(url.data);
		if (http_get(url.data, shown, post, token, a.cacert, &status, &body, err))
			rc = report(shown, post, status, &body, a.json, out, err);
		free(shown);
	}
	if (token != NULL)
		OPENSSL_cleanse(token, strlen(token));
	free(token);
	free(base);
	free(own_path);
	trib_strbuf_free(&url);
	trib_strbuf_free(&body);
	return rc;
}
