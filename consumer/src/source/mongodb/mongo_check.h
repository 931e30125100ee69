/*
 * mongo_check.h: `tributary check` for a mongodb source: reach the
 * deployment, and report its preconditions: a replica set or a sharded
 * cluster (hello), the privileges `changeStream` and `find` on the watched
 * scope when access control is on (connectionStatus with
 * showPrivileges), and a change stream that actually opens there.
 */
#ifndef TRIB_MONGO_CHECK_H
#define TRIB_MONGO_CHECK_H

#include "check_report.h"
#include "mongo_source_conf.h"

void		trib_mongo_check(const trib_mongo_source_conf *c, trib_check_report *rep);

#endif							/* TRIB_MONGO_CHECK_H */
