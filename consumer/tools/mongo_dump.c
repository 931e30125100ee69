/*
 * mongo_dump.c: print the documents of a MongoDB collection, sorted by
 * _id, one canonical Extended JSON document per line (every BSON type
 * spelled out: {"$numberInt": "1"}, {"$numberDecimal": "12.50"}, {"$date":
 * {"$numberLong": ...}}, {"$binary": ...}), read with libmongoc.  The
 * MongoDB sink's end-to-end test (test/e2e/44_sink_mongodb.sh) compares
 * what the sink wrote into the test double (test/mongo/) with the source
 * rows through it.
 *
 * Usage: build/tools/mongo_dump URI DATABASE COLLECTION
 * Exit status 0, or 1 with the error on stderr.
 */
#include <stdio.h>

#include <mongoc/mongoc.h>

int
main(int argc, char **argv)
{
	mongoc_client_t *client;
	mongoc_collection_t *coll;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_t		filter = BSON_INITIALIZER,
				opts = BSON_INITIALIZER,
				sort;
	bson_error_t err;
	int			rc = 0;

	if (argc != 4)
	{
		fprintf(stderr, "usage: mongo_dump URI DATABASE COLLECTION\n");
		return 2;
	}
	mongoc_init();
	client = mongoc_client_new(argv[1]);
	if (client == NULL)
	{
		fprintf(stderr, "mongo_dump: not a valid URI\n");
		return 1;
	}
	coll = mongoc_client_get_collection(client, argv[2], argv[3]);
	bson_append_document_begin(&opts, "sort", 4, &sort);
	BSON_APPEND_INT32(&sort, "_id", 1);
	bson_append_document_end(&opts, &sort);
	cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
	while (mongoc_cursor_next(cur, &doc))
	{
		char	   *s = bson_as_canonical_extended_json(doc, NULL);

		puts(s);
		bson_free(s);
	}
	if (mongoc_cursor_error(cur, &err))
	{
		fprintf(stderr, "mongo_dump: %s\n", err.message);
		rc = 1;
	}
	mongoc_cursor_destroy(cur);
	bson_destroy(&opts);
	bson_destroy(&filter);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(client);
	mongoc_cleanup();
	return rc;
}
