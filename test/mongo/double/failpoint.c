/*
 * failpoint.c: the failCommand and failGetMoreAfterCursorCheckout fail
 * points (failpoint.h) and the configureFailPoint command.
 */
#include "failpoint.h"

#include <string.h>

#include "commands.h"
#include "values.h"

typedef struct failpoint {
    const char *name;
    bson_t *data;       /* NULL: off */
    bool always;
    int64_t times;      /* activations left (mode {times: n}) */
    int64_t skip;       /* calls to let through first (mode {skip: n}) */
} failpoint_t;

static failpoint_t points[] = {{"failCommand"}, {"failGetMoreAfterCursorCheckout"}};
#define FAIL_COMMAND (&points[0])
#define AFTER_CHECKOUT (&points[1])

/* clear: the fail point is off. */
static void clear(failpoint_t *fp)
{
    if (fp->data)
        bson_destroy(fp->data);
    fp->data = NULL;
}

void md_failpoint_free(void)
{
    for (size_t i = 0; i < sizeof points / sizeof *points; i++)
        clear(&points[i]);
}

/* fire: the mode lets this call fail (and counts it). */
static bool fire(failpoint_t *fp)
{
    if (!fp->data)
        return false;
    if (fp->skip > 0) {
        fp->skip--;
        return false;
    }
    if (fp->always)
        return true;
    if (fp->times <= 0)
        return false;
    fp->times--;
    return true;
}

/* names_command: data.failCommands contains command. */
static bool names_command(const bson_t *data, const char *command)
{
    bson_iter_t it, e;

    if (!bson_iter_init_find(&it, data, "failCommands") || !BSON_ITER_HOLDS_ARRAY(&it))
        return false;
    bson_iter_recurse(&it, &e);
    while (bson_iter_next(&e))
        if (BSON_ITER_HOLDS_UTF8(&e) && !strcmp(bson_iter_utf8(&e, NULL), command))
            return true;
    return false;
}

bool md_failpoint_take(const char *command, const char *app_name, bson_t **data)
{
    failpoint_t *fp = FAIL_COMMAND;
    bson_iter_t it;

    if (!fp->data || !names_command(fp->data, command))
        return false;
    if (bson_iter_init_find(&it, fp->data, "appName") && BSON_ITER_HOLDS_UTF8(&it) &&
        strcmp(bson_iter_utf8(&it, NULL), app_name))
        return false;
    if (!fire(fp))
        return false;
    *data = bson_copy(fp->data);
    if (!fp->always && fp->times == 0)
        clear(fp);
    return true;
}

bool md_failpoint_after_checkout(int *code)
{
    failpoint_t *fp = AFTER_CHECKOUT;
    bson_iter_t it;

    if (!fire(fp))
        return false;
    *code = bson_iter_init_find(&it, fp->data, "errorCode") && BSON_ITER_HOLDS_NUMBER(&it)
                ? (int)bson_iter_as_int64(&it)
                : 1;
    if (!fp->always && fp->times == 0)
        clear(fp);
    return true;
}

/* parse_mode: "alwaysOn" | "off" | {times: n} | {skip: n} into fp; *off. */
static bool parse_mode(md_ctx_t *ctx, failpoint_t *fp, bool *off)
{
    bson_iter_t it, m;

    *off = false;
    fp->always = false;
    fp->times = fp->skip = 0;
    if (!md_arg(ctx, "mode", &it))
        return false;
    if (BSON_ITER_HOLDS_UTF8(&it)) {
        const char *s = bson_iter_utf8(&it, NULL);

        fp->always = !strcmp(s, "alwaysOn");
        *off = !strcmp(s, "off");
        return fp->always || *off;
    }
    if (!BSON_ITER_HOLDS_DOCUMENT(&it) || !bson_iter_recurse(&it, &m) || !bson_iter_next(&m) ||
        !BSON_ITER_HOLDS_NUMBER(&m))
        return false;
    if (!strcmp(bson_iter_key(&m), "times")) {
        fp->times = bson_iter_as_int64(&m);
        *off = fp->times <= 0;
        return true;
    }
    if (!strcmp(bson_iter_key(&m), "skip")) {
        fp->skip = bson_iter_as_int64(&m);
        fp->always = true;
        return true;
    }
    return false;
}

/* find_point: the fail point the command names. */
static failpoint_t *find_point(md_ctx_t *ctx)
{
    if (BSON_ITER_HOLDS_UTF8(&ctx->arg))
        for (size_t i = 0; i < sizeof points / sizeof *points; i++)
            if (!strcmp(bson_iter_utf8(&ctx->arg, NULL), points[i].name))
                return &points[i];
    return NULL;
}

md_status_t md_cmd_configure_fail_point(md_ctx_t *ctx, bson_t *reply)
{
    failpoint_t *fp = find_point(ctx);
    bson_t data;
    bool off, bad = false;

    if (!fp)
        return md_fail(ctx, MD_BAD_VALUE, "configureFailPoint: the test double has the fail "
                       "points failCommand and failGetMoreAfterCursorCheckout only");
    clear(fp);
    if (!parse_mode(ctx, fp, &off))
        return md_fail(ctx, MD_BAD_VALUE, "configureFailPoint: mode must be \"alwaysOn\", "
                       "\"off\", {times: n} or {skip: n}");
    bson_append_int32(reply, "count", 5, 0);
    if (off)
        return MD_OK;
    if (!md_arg_doc(ctx, "data", &data, &bad))
        return bad ? MD_ERROR : md_fail(ctx, MD_BAD_VALUE, "configureFailPoint %s needs data",
                                        fp->name);
    fp->data = bson_copy(&data);
    md_debug("fail point %s set", fp->name);
    return MD_OK;
}
