/*
 * failpoint.c: the failCommand fail point (failpoint.h).
 */
#include "failpoint.h"

#include <string.h>

#include "commands.h"
#include "values.h"

static bson_t *fp_data;        /* NULL: off */
static bool fp_always;
static int64_t fp_times;       /* remaining activations (mode {times}) */
static int64_t fp_skip;        /* calls to let through first (mode {skip}) */

void md_failpoint_free(void)
{
    if (fp_data)
        bson_destroy(fp_data);
    fp_data = NULL;
}

/* names_command: data.failCommands contains command. */
static bool names_command(const char *command)
{
    bson_iter_t it, e;
    bson_t arr;

    if (!bson_iter_init_find(&it, fp_data, "failCommands") || !BSON_ITER_HOLDS_ARRAY(&it))
        return false;
    md_value_doc(bson_iter_value(&it), &arr);
    bson_iter_init(&e, &arr);
    while (bson_iter_next(&e))
        if (BSON_ITER_HOLDS_UTF8(&e) && !strcmp(bson_iter_utf8(&e, NULL), command))
            return true;
    return false;
}

bool md_failpoint_take(const char *command, const char *app_name, bson_t **data)
{
    bson_iter_t it;

    if (!fp_data || !names_command(command))
        return false;
    if (bson_iter_init_find(&it, fp_data, "appName") && BSON_ITER_HOLDS_UTF8(&it) &&
        strcmp(bson_iter_utf8(&it, NULL), app_name))
        return false;
    if (fp_skip > 0) {
        fp_skip--;
        return false;
    }
    if (!fp_always && fp_times-- <= 0)
        return false;
    *data = bson_copy(fp_data);
    if (!fp_always && fp_times == 0)
        md_failpoint_free();
    return true;
}

/* parse_mode: mode "alwaysOn" | "off" | {times: n} | {skip: n}. */
static bool parse_mode(md_ctx_t *ctx, bool *off)
{
    bson_iter_t it, m;
    bson_t spec;

    *off = false;
    fp_always = false;
    fp_times = fp_skip = 0;
    if (!md_arg(ctx, "mode", &it))
        return md_fail(ctx, MD_BAD_VALUE, "configureFailPoint: missing mode") == MD_OK;
    if (BSON_ITER_HOLDS_UTF8(&it)) {
        const char *s = bson_iter_utf8(&it, NULL);

        if (!strcmp(s, "alwaysOn"))
            fp_always = true;
        else if (!strcmp(s, "off"))
            *off = true;
        else
            return md_fail(ctx, MD_BAD_VALUE, "configureFailPoint: mode '%s' (accepted: "
                           "alwaysOn, off, {times: n}, {skip: n})", s) == MD_OK;
        return true;
    }
    if (BSON_ITER_HOLDS_DOCUMENT(&it) && md_value_doc(bson_iter_value(&it), &spec) &&
        bson_iter_init(&m, &spec) && bson_iter_next(&m) && BSON_ITER_HOLDS_NUMBER(&m)) {
        if (!strcmp(bson_iter_key(&m), "times")) {
            fp_times = bson_iter_as_int64(&m);
            *off = fp_times <= 0;
            return true;
        }
        if (!strcmp(bson_iter_key(&m), "skip")) {
            fp_skip = bson_iter_as_int64(&m);
            fp_always = true;
            return true;
        }
    }
    return md_fail(ctx, MD_BAD_VALUE, "configureFailPoint: mode must be alwaysOn, off, "
                   "{times: n} or {skip: n}") == MD_OK;
}

md_status_t md_cmd_configure_fail_point(md_ctx_t *ctx, bson_t *reply)
{
    bson_t data;
    bool off, bad = false;

    (void)reply;
    if (!BSON_ITER_HOLDS_UTF8(&ctx->arg) || strcmp(bson_iter_utf8(&ctx->arg, NULL), "failCommand"))
        return md_fail(ctx, MD_BAD_VALUE, "configureFailPoint: the test double only has the "
                       "'failCommand' fail point");
    md_failpoint_free();
    if (!parse_mode(ctx, &off))
        return MD_ERROR;
    if (off)
        return MD_OK;
    if (!md_arg_doc(ctx, "data", &data, &bad)) {
        md_fail(ctx, MD_BAD_VALUE, "configureFailPoint: failCommand needs data.failCommands");
        return MD_ERROR;
    }
    fp_data = bson_copy(&data);
    bson_append_int32(reply, "count", 5, 0);
    md_debug("failCommand set");
    return MD_OK;
}
