# Makefile: the entry point of tributary.  It only delegates: each part
# (pg_ext/ the PostgreSQL extension and output plugin, consumer/ the daemon,
# schema_registry/, lineage/) has its own Makefile with build, install, clean
# and check targets, and the scripts in scripts/ do the rest.
#
#   make [build]       build every part
#   make install       install every part (pg_ext installs into PostgreSQL)
#   make check         install deps, build and install pg_ext, run all tests;
#                      the last line printed is `N passed, N failed`
#   make demo          the same set-up, then scripts/demo.sh
#   make check-fresh   ./demo and ./check (the README's two commands) in a
#                      bare Debian 12 root, and the docker/ images' RUN steps
#                      (scripts/check-fresh.sh; root, minutes, the archive);
#                      not part of check
#   make bench         every benchmark below but bench-regress, then
#                      bench-summary
#   make bench-e2e     consumer end to end against wal2json | kcat (W1, W2,
#                      W3: one big transaction, many small ones, latency)
#   make bench-w4      consumer memory at 10,000,000 rows in one transaction
#   make bench-summary the at-a-glance table atop docs/BENCHMARKS.md
#   make bench-regress BASE=REV  W1 and W2 of this tree against commit REV
#                      in the same rounds (the no-regression check)
#   make bench-snapshot  snapshot rate into Kafka, bench/snapshot.sh
#   make bench-mysql   the MySQL source (MariaDB) to Kafka against
#                      mariadb-binlog | kcat, bench/mysql.sh
#   make bench-decode  decoding benchmark, bench/decode.sh
#   make bench-lua     ns/event of a Lua filter, bench/lua.sh (no database)
#   make bench-schema  the schema stage: W1 with 3 migration steps against
#                      none (bench/schema_migrate.sh)
#   make bench-mongo   the MongoDB source: 1,000,000 change events through the
#                      test double into Kafka, bench/mongo.sh (our side only)
#   make bench-schema  Kafka value formats json/json_sr/avro on W1, and GET
#                      /schemas/ids/{id} per second on one core, bench/schema.sh
#   make bench-format  ns/event of the Kafka record formats, bench/format.sh
#                      (no database)
#   make bench-lineage tributary.impact() at depth 10 on 100,000 nodes and
#                      300,000 edges, bench/lineage.sh
#   make bench-lineage-record  W1 with the daemon's lineage recording off and
#                      on, same run (bench/e2e.sh w1lin; target <= 2%)
#   make check-asan    each part's tests under AddressSanitizer, where a
#                      part has such a target
#   make deps          scripts/install-deps only
#
# On a machine without make, ./demo and ./check install the packages (make
# among them) and then run make demo / make check.
#   make clean         clean every part (and test/mongo's build/)
#
# PG_CONFIG selects the PostgreSQL installation; it defaults to 15 because
# /usr/bin/pg_config may belong to another major version.
PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
export PG_CONFIG

PARTS = pg_ext consumer schema_registry lineage

.PHONY: all build install clean check check-asan check-fresh demo bench bench-decode \
	deps install-pg_ext valgrind-plugin bench-e2e bench-w4 bench-snapshot bench-lua bench-transforms bench-lineage bench-regress bench-summary bench-schema bench-schema-migrate bench-lineage-record bench-mongo bench-mysql bench-format $(PARTS)

all build: $(PARTS)

$(PARTS):
	$(MAKE) -C $@ build

install:
	@for part in $(PARTS); do \
		$(MAKE) -C $$part install || exit 1; \
	done

clean:
	@for part in $(PARTS); do \
		$(MAKE) -C $$part clean || exit 1; \
	done
	$(MAKE) -C test/mongo clean

deps:
	bash scripts/install-deps

# install-pg_ext: build as the current user, then install into PostgreSQL's
# directories, which needs root: through sudo when we are not root.
install-pg_ext: deps
	$(MAKE) -C pg_ext build
	@if [ "$$(id -u)" = 0 ]; then \
		$(MAKE) -C pg_ext install; \
	elif command -v sudo >/dev/null 2>&1; then \
		echo "make: installing pg_ext with sudo"; \
		sudo $(MAKE) -C pg_ext install PG_CONFIG=$(PG_CONFIG); \
	else \
		echo "make: installing pg_ext into $$($(PG_CONFIG) --pkglibdir) needs root," \
			"and sudo is not available; run make check as root" >&2; \
		exit 1; \
	fi

# check builds the consumer first: test/shell/demo.sh runs the binary, and
# the shell suite runs before the parts' own checks.
check: install-pg_ext
	$(MAKE) -C consumer build
	bash scripts/check.sh

demo: install-pg_ext
	$(MAKE) -C consumer build
	bash scripts/demo.sh

# check-fresh: from nothing, in a throwaway root; it installs mmdebstrap on
# the host when missing.
check-fresh:
	bash scripts/check-fresh.sh

bench: bench-decode bench-e2e bench-w4 bench-snapshot bench-transforms bench-lua \
	bench-lineage bench-lineage-record bench-schema bench-mysql bench-mongo bench-format
	$(MAKE) bench-summary

# bench-summary: the table of every target at the top of docs/BENCHMARKS.md,
# collected from the sections' own PASS/MISS lines.
bench-summary:
	python3 bench/lib/summary.py docs/BENCHMARKS.md

# bench-e2e: the consumer against pg_recvlogical+wal2json | kcat (W1-W3).
bench-e2e: install-pg_ext
	bash bench/e2e.sh w1 w2 w3

# bench-regress: this tree against commit BASE in the same rounds (W1, W2),
# the no-regression check of a change: make bench-regress BASE=95b60b6
bench-regress: install-pg_ext
	@test -n "$(BASE)" || { echo "make bench-regress: give BASE=<commit>" >&2; exit 2; }
	bash bench/regress.sh $(BASE)

# bench-lineage-record: W1 with the lineage stage off and on, alternating.
bench-lineage-record: install-pg_ext
	bash bench/e2e.sh w1lin

# bench-w4: the consumer's peak RSS at 10M rows in one transaction (long).
bench-w4: install-pg_ext
	bash bench/e2e.sh w4

# bench-mysql: the MySQL source (MariaDB 10.11) to Kafka against
# mariadb-binlog | kcat (issue 13); needs no extension.
bench-mysql:
	$(MAKE) -C consumer build
	bash bench/mysql.sh

# bench-snapshot: `tributary snapshot` of the W1 table into Kafka.  A copy
# reads tables with plain queries: the plugin is not needed.
bench-snapshot:
	$(MAKE) -C consumer build
	bash bench/snapshot.sh

# valgrind-plugin: the output plugin under valgrind in a real walsender.
valgrind-plugin: install-pg_ext
	bash scripts/valgrind-plugin.sh

bench-decode: install-pg_ext
	bash bench/decode.sh

bench-lua:
	bash bench/lua.sh

# bench-schema-migrate: W1 end to end with 3 migration steps against none,
# in the same run (part of bench-schema, below).
bench-schema-migrate: install-pg_ext
	bash bench/schema_migrate.sh
# bench-mongo: the MongoDB source through the test double into Kafka
# (needs no extension: the lock's PostgreSQL is a throwaway cluster).
bench-mongo:
	bash bench/mongo.sh
# bench-format: ns/event of format: tributary vs debezium (+ schemas.enable).
bench-format:
	bash bench/format.sh

# bench-transforms: W1 end to end with no rules, 5 masking rules, a Lua filter.
bench-transforms: install-pg_ext
	bash bench/transforms.sh

# check-asan: each part that has a check-asan target runs it; the others
# say they have none.  (Found by grep, not make -n: a dry run still runs
# the recursive lines of a part's check-asan.)
check-asan: deps
	@for part in $(PARTS); do \
		if grep -q '^check-asan:' $$part/Makefile; then \
			$(MAKE) -C $$part check-asan || exit 1; \
		else \
			echo "$$part: no check-asan target yet"; \
		fi; \
	done

# bench-schema: the schema stage's benchmarks: the migrations (above), the
# Kafka sink's value formats on W1 (json_sr <= 3% against json) and the
# registry API's GET /schemas/ids/{id} (>= 5,000/s, one core).
bench-schema: bench-schema-migrate install-pg_ext
	bash bench/schema.sh

# bench-lineage: impact() on a generated graph of 100,000 nodes and 300,000
# edges (issue 12: <= 100 ms at depth 10).
bench-lineage: install-pg_ext
	bash bench/lineage.sh
