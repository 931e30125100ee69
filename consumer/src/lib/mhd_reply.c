/*
 * mhd_reply.c: answers queued with the Keep-Alive hint (see mhd_reply.h).
 */
#include "mhd_reply.h"

#include <stdio.h>

/* See mhd_reply.h. */
enum MHD_Result
trib_mhd_queue(struct MHD_Connection *conn, unsigned status, struct MHD_Response *r)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_TIMEOUT);
	enum MHD_Result ret;

	if (info != NULL && info->connection_timeout >= 2)
	{
		char		hint[32];

		snprintf(hint, sizeof(hint), "timeout=%u", info->connection_timeout - 1);
		MHD_add_response_header(r, "Keep-Alive", hint);
	}
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}
