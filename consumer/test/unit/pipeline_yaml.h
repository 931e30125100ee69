/*
 * pipeline_yaml.h: config texts the unit tests that build pipelines
 * (trib_pipeline_new, connecting nothing) share: a MongoDB source whose
 * servers cannot be reached, and the file checkpoint without the HTTP
 * server.
 */
#ifndef TEST_PIPELINE_YAML_H
#define TEST_PIPELINE_YAML_H

/* `pipeline:` and a mongodb source `m`; its own keys may follow. */
#define TEST_MONGO_SOURCE \
	"pipeline: shop\n" \
	"sources:\n" \
	"  m:\n" \
	"    type: mongodb\n" \
	"    uri: \"mongodb://127.0.0.1:1/?replicaSet=rs0\"\n" \
	"    database: shop\n" \
	"    lock_dsn: \"host=127.0.0.1 port=1 dbname=x\"\n"

/* A file checkpoint nowhere and no HTTP server. */
#define TEST_FILE_CHECKPOINT_NO_HTTP \
	"checkpoint:\n" \
	"  store: file\n" \
	"  path: /nonexistent/t.ckpt\n" \
	"http:\n" \
	"  enabled: false\n"

#endif							/* TEST_PIPELINE_YAML_H */
