#!/usr/bin/env bash
# 89_schema_check_migrations.sh: `tributary check` under a subject's
# migration (`schemas.migrations`) says what `run` does with the table's
# current shape: `run` checks and registers the table's own shape against
# the subject, then plans the migration from that version to the target
# and stops when the steps do not give exactly the target's fields.
#   1. the daemon registers version 1 (the migration's target);
#   2. check: compatible, no migration rule applies, no problem;
#   3. RENAME note TO memo, with a step mapping memo back to note: under
#      BACKWARD the table's own shape is incompatible, as `run` finds it;
#      under NONE it is compatible, and check names the step (`after
#      migration rules: rename memo -> note`), no problem; the daemon then
#      registers version 2 and keeps running, and check says version 2 is
#      published as version 1;
#   4. ADD COLUMN extra, which no step drops: compatible under NONE, but
#      check reports what `run` stops on (field extra is not in version 1)
#      as a problem, and the daemon does stop there with that message;
#   5. with `schemas.keys` and a step dropping extra (the event run
#      stopped on comes again, then extra is dropped from the table): the
#      daemon registers the key subject's version 1 (id); RENAME id TO ident, with a step
#      mapping ident back to id: check plans the key as `run` does and
#      finds the migrated key (id) compatible, no problem (the table's
#      own key, ident, is not what `run` registers); the daemon then keeps
#      running and registers no second key version;
#   6. a step that also casts the key column id to a string: check finds
#      the migrated key incompatible with version 1 of the key subject,
#      and the row's field id a string where version 1 has an integer, two
#      problems under fail, and the daemon stops: on the row's field
#      id, a string after the steps but an integer in version 1, the
#      version its rows would be stamped with (docs/SCHEMA_REGISTRY.md,
#      section 8), before the key subject.
#   7. a partitioned table public.meas (partitions meas_eu, meas_us),
#      pipelines of their own with `schemas.keys`: with the plugin option
#      publish-via-root the stream names the rows after the root, `run`
#      registers main.public.meas and its key subject, and check plans
#      against the root; without it the stream names the partitions,
#      `run` registers main.public.meas_eu, and check plans against the
#      partitions and not the root, which no event names; then, with
#      publish-via-root and a migration, the root's key column renamed and
#      a step mapping it back: check plans the migrated key on the root's
#      columns (compatible, no problem), and `run` publishes the rows
#      under the old name and registers no second key version.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=schema_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/schema_lib.sh"
e2e_init

orders_start "note text" tributary_chkmig

{
    echo "pipeline: chkmig"
    source_yaml
    printf 'sinks:\n  archive:\n    type: file\n    path: "%s"\n' "$WORK/out.jsonl"
    migration_yaml '        - {rename: memo, to: note}'
} >"$WORK/p.yaml"

# check_to FILE [CONFIG]: run check (of p.yaml) into FILE; CHECK_RC its
# exit status.
check_to() { CHECK_RC=0; "$BIN" check -c "${2:-$WORK/p.yaml}" >"$1" 2>&1 || CHECK_RC=$?; }

# ---- 1: version 1
start_consumer
pgc_psql -d postgres -c "INSERT INTO public.orders VALUES (1, 'one')" >/dev/null
expect_eq "the subject has version 1" 0 "$(wait_version 1 60; echo $?)"
stop_consumer
expect_eq "the daemon exits 0" 0 "$STOP_RC"

# ---- 2: the table's shape is the target
check_to "$WORK/check1.out"
expect_eq "check exits 0" 0 "$CHECK_RC"
expect_grep "check: no problem" "$WORK/check1.out" "^0 problem\(s\) found"
expect_grep "check: compatible" "$WORK/check1.out" \
    "subject $SUBJECT: the table's current shape is compatible"
expect_grep "check: no migration rule applies at the target" "$WORK/check1.out" \
    "subject $SUBJECT: after migration rules: none apply \(the table's shape is the migration's target, version 1\)"

# ---- 3: a rename, mapped back by the migration
pgc_psql -d postgres -c "ALTER TABLE public.orders RENAME COLUMN note TO memo" >/dev/null
check_to "$WORK/check2.out"
expect_grep "check under BACKWARD: the table's own shape is incompatible, as run finds it" \
    "$WORK/check2.out" "subject $SUBJECT: the table's current shape is incompatible \([0-9]+ violation\(s\)\); under on_incompatible: fail"
expect_grep "check under BACKWARD: the migration's step is named too" "$WORK/check2.out" \
    "subject $SUBJECT: after migration rules: rename memo -> note \(the table's shape, version 2 when registered, is published as version 1\)"
q postgres "SELECT tributary.set_compatibility('$SUBJECT', 'NONE')" >/dev/null
check_to "$WORK/check3.out"
expect_grep "check under NONE: no problem" "$WORK/check3.out" "^0 problem\(s\) found"
expect_grep "check under NONE: compatible" "$WORK/check3.out" \
    "subject $SUBJECT: the table's current shape is compatible"
expect_grep "check under NONE: after migration rules, with the step" "$WORK/check3.out" \
    "subject $SUBJECT: after migration rules: rename memo -> note \(the table's shape, version 2 when registered, is published as version 1\)"
start_consumer
pgc_psql -d postgres -c "INSERT INTO public.orders VALUES (2, 'two')" >/dev/null
expect_eq "run registers version 2" 0 "$(wait_version 2 60; echo $?)"
for _ in $(seq 1 100); do grep -q '"two"' "$WORK/out.jsonl" 2>/dev/null && break; sleep 0.1; done
expect_grep "run publishes the renamed column as version 1's note" "$WORK/out.jsonl" '"note":"two"'
stop_consumer
expect_eq "the daemon exits 0 after the rename" 0 "$STOP_RC"
check_to "$WORK/check4.out"
expect_grep "check after run: version 2 is published as version 1" "$WORK/check4.out" \
    "subject $SUBJECT: after migration rules: rename memo -> note \(the table's shape, version 2, is published as version 1\)"
expect_grep "check after run: no problem" "$WORK/check4.out" "^0 problem\(s\) found"

# ---- 4: a column no step handles: what run stops on
pgc_psql -d postgres -c "ALTER TABLE public.orders ADD COLUMN extra int" >/dev/null
check_to "$WORK/check5.out"
expect_eq "check exits 0 (the configuration is valid)" 0 "$CHECK_RC"
expect_grep "check: the table's own shape is compatible under NONE" "$WORK/check5.out" \
    "subject $SUBJECT: the table's current shape is compatible"
expect_grep "check: the refused migration, as run words it" "$WORK/check5.out" \
    "subject $SUBJECT: after migration rules: migration of subject $SUBJECT from version 3 to 1: field extra is not in version 1 \(accepted: a step that drops or renames it\); \`run\` stops"
expect_grep "check: it counts as a problem" "$WORK/check5.out" \
    "^1 problem\(s\) found \(the configuration itself is valid\)"
start_consumer
pgc_psql -d postgres -c "INSERT INTO public.orders VALUES (3, 'three', 3)" >/dev/null
wait_exit
expect_eq "run stops on it (exit 1)" 1 "$EXIT_RC"
expect_grep "run names the same field" "$WORK/run.log" \
    "migration of subject $SUBJECT from version 3 to 1: field extra is not in version 1"

# ---- 5: schemas.keys: a key column renamed, a step mapping it back
# keys_yaml STEPS: the pipeline of p.yaml with schemas.keys and STEPS.
keys_yaml() {
    echo "pipeline: chkmig"
    source_yaml
    printf 'sinks:\n  archive:\n    type: file\n    path: "%s"\n' "$WORK/out.jsonl"
    migration_yaml "$1" | sed 's/^  enabled: true$/&\n  keys: true/'
}
key_versions() { q postgres "SELECT count(*) FROM tributary.schema_versions WHERE subject = '$SUBJECT-key'"; }
keys_yaml '        - {rename: memo, to: note}
        - {drop: extra}
        - {rename: ident, to: id}' >"$WORK/keys.yaml"
pgc_psql -d postgres -c "ALTER TABLE public.orders DROP COLUMN extra" >/dev/null
start_consumer "$WORK/keys.yaml"
pgc_psql -d postgres -c "INSERT INTO public.orders VALUES (4, 'four')" >/dev/null
for _ in $(seq 1 200); do [ "$(key_versions)" -ge 1 ] && break; sleep 0.1; done
expect_eq "run registers the key subject's version 1" 1 "$(key_versions)"
stop_consumer
expect_eq "the daemon exits 0 with keys" 0 "$STOP_RC"
pgc_psql -d postgres -c "ALTER TABLE public.orders RENAME COLUMN id TO ident" >/dev/null
check_to "$WORK/check6.out" "$WORK/keys.yaml"
expect_grep "check: the value's plan names both renames" "$WORK/check6.out" \
    "subject $SUBJECT: after migration rules: rename memo -> note, drop extra, rename ident -> id \(the table's shape, version 4 when registered, is published as version 1\)"
expect_grep "check: the migrated key (id) is compatible" "$WORK/check6.out" \
    "subject $SUBJECT-key: after migration rules, the migrated table's key is compatible"
expect_no_grep "check: the table's own key (ident) is not checked" "$WORK/check6.out" \
    "subject $SUBJECT-key: the table's current shape"
expect_grep "check: no problem with the migrated key" "$WORK/check6.out" "^0 problem\(s\) found"
start_consumer "$WORK/keys.yaml"
pgc_psql -d postgres -c "INSERT INTO public.orders VALUES (5, 'five')" >/dev/null
expect_eq "run registers the renamed shape as version 4" 0 "$(wait_version 4 60; echo $?)"
for _ in $(seq 1 100); do grep -q '"five"' "$WORK/out.jsonl" 2>/dev/null && break; sleep 0.1; done
expect_grep "run publishes the row of the renamed key" "$WORK/out.jsonl" '"note":"five"'
stop_consumer
expect_eq "the daemon exits 0 after the key's rename" 0 "$STOP_RC"
expect_eq "run registers no second key version (the migrated key is version 1)" 1 "$(key_versions)"

# ---- 6: the key column also cast to a string: run refuses the key
keys_yaml '        - {rename: memo, to: note}
        - {drop: extra}
        - {rename: ident, to: id}
        - {cast: id, as: string}' >"$WORK/keys2.yaml"
check_to "$WORK/check7.out" "$WORK/keys2.yaml"
expect_eq "check exits 0 (the configuration is valid)" 0 "$CHECK_RC"
expect_grep "check: the migrated key is incompatible, run stops on it" "$WORK/check7.out" \
    "subject $SUBJECT-key: after migration rules, the migrated table's key is incompatible \([0-9]+ violation\(s\)\); under on_incompatible: fail \`run\` stops"
expect_grep "check: the row's field id, a string after the steps, is not version 1's" "$WORK/check7.out" \
    "subject $SUBJECT: after migration rules, field id is [^ ]*\"string\"[^ ]*, required but [^ ]*\"integer\"[^ ]*, required in version 1; \`run\` stops before the first event of this shape"
expect_grep "check: each refusal counts as a problem" "$WORK/check7.out" \
    "^2 problem\(s\) found \(the configuration itself is valid\)"
start_consumer "$WORK/keys2.yaml"
pgc_psql -d postgres -c "INSERT INTO public.orders VALUES (6, 'six')" >/dev/null
wait_exit
expect_eq "run stops on the key (exit 1)" 1 "$EXIT_RC"
# the cast makes id a string in the migrated rows too, which version 1
# (their stamp) has as an integer: run stops on the row's field before
# it registers the key
expect_grep "run names the subject, the key field and both of its schemas" "$WORK/run.log" \
    "migration of subject $SUBJECT from version [0-9]+ to 1: after the steps, field id is [^ ]*\"string\"[^ ]*, required but [^ ]*\"integer\"[^ ]*, required in version 1"
expect_eq "run registers no second key version" 1 "$(key_versions)"

# ---- 7: a partitioned table, with and without publish-via-root
pgc_psql -d postgres \
    -c "CREATE TABLE public.meas (id int, region text, v text, PRIMARY KEY (id, region)) PARTITION BY LIST (region)" \
    -c "CREATE TABLE public.meas_eu PARTITION OF public.meas FOR VALUES IN ('eu')" \
    -c "CREATE TABLE public.meas_us PARTITION OF public.meas FOR VALUES IN ('us')" >/dev/null
# part_yaml NAME [OPTION]: pipeline NAME over public.meas* with schemas.keys
# and, when given, the plugin option OPTION: "true".
part_yaml() {
    echo "pipeline: $1"
    source_yaml
    printf '    include_tables: ["public.meas*"]\n'
    [ -n "${2:-}" ] && printf '    plugin_options:\n      %s: "true"\n' "$2"
    printf 'sinks:\n  archive:\n    type: file\n    path: "%s"\n' "$WORK/$1.jsonl"
    printf 'schemas:\n  enabled: true\n  keys: true\n'
    printf 'checkpoint:\n  store: catalog\nhttp:\n  enabled: false\n'
}
subject_versions() { q postgres "SELECT count(*) FROM tributary.schema_versions WHERE subject = '$1'"; }
# part_run NAME CONFIG SUBJECT N: run CONFIG, insert row N in each
# partition, wait for SUBJECT's key subject, stop.
part_run() {
    pgc_psql -d postgres -c "SELECT 's' FROM pg_create_logical_replication_slot('tributary_$1', 'tributary')" >/dev/null
    start_consumer "$2"
    pgc_psql -d postgres -c "INSERT INTO public.meas VALUES ($4, 'eu', 'a'), ($4, 'us', 'b')" >/dev/null
    for _ in $(seq 1 200); do [ "$(subject_versions "$3-key")" -ge 1 ] && break; sleep 0.1; done
    stop_consumer
}
part_yaml chkroot publish-via-root >"$WORK/root.yaml"
part_run chkroot "$WORK/root.yaml" main.public.meas 1
expect_eq "publish-via-root: run registers the root's subject" 1 "$(subject_versions main.public.meas)"
expect_eq "publish-via-root: run registers the root's key subject" 1 "$(subject_versions main.public.meas-key)"
expect_eq "publish-via-root: run registers no partition's subject" 0 \
    "$(q postgres "SELECT count(*) FROM tributary.schema_versions WHERE subject LIKE 'main.public.meas\\_%'")"
check_to "$WORK/check8.out" "$WORK/root.yaml"
expect_grep "publish-via-root: check lists the root" "$WORK/check8.out" \
    "public\.meas \(partitioned\): primary key \(id, region\)"
expect_grep "publish-via-root: check plans the root's subject" "$WORK/check8.out" \
    "subject main\.public\.meas: the table's current shape is compatible"
expect_grep "publish-via-root: check plans the root's key subject" "$WORK/check8.out" \
    "subject main\.public\.meas-key: the table's current shape is compatible"
expect_no_grep "publish-via-root: check names no partition" "$WORK/check8.out" "meas_(eu|us)"
expect_grep "publish-via-root: no problem" "$WORK/check8.out" "^0 problem\(s\) found"
part_yaml chkleaf >"$WORK/leaf.yaml"
part_run chkleaf "$WORK/leaf.yaml" main.public.meas_eu 2
expect_eq "without it: run registers the partition's subject" 1 "$(subject_versions main.public.meas_eu)"
expect_eq "without it: run registers the partition's key subject" 1 "$(subject_versions main.public.meas_eu-key)"
check_to "$WORK/check9.out" "$WORK/leaf.yaml"
for part in eu us; do
    expect_grep "without it: check plans partition meas_$part's subject" "$WORK/check9.out" \
        "subject main\.public\.meas_$part: the table's current shape is compatible"
    expect_grep "without it: check plans partition meas_$part's key subject" "$WORK/check9.out" \
        "subject main\.public\.meas_$part-key: the table's current shape is compatible"
done
expect_no_grep "without it: check plans no subject of the root, which no event names" \
    "$WORK/check9.out" "subject main\.public\.meas[:-]"
expect_grep "without it: no problem" "$WORK/check9.out" "^0 problem\(s\) found"
# with publish-via-root, the root's key column renamed, a step mapping it
# back: the migrated key is the root's, planned on the root's columns
part_yaml chkroot publish-via-root |
    sed 's/^  keys: true$/&\n  migrations:\n    - subject: main.public.meas\n      target: 1\n      steps:\n        - {rename: ident, to: id}/' \
    >"$WORK/rootmig.yaml"
pgc_psql -d postgres -c "ALTER TABLE public.meas RENAME COLUMN id TO ident" >/dev/null
q postgres "SELECT tributary.set_compatibility('main.public.meas', 'NONE')" >/dev/null
check_to "$WORK/check10.out" "$WORK/rootmig.yaml"
expect_grep "publish-via-root, migration: the root's plan" "$WORK/check10.out" \
    "subject main\.public\.meas: after migration rules: rename ident -> id \(the table's shape, version 2 when registered, is published as version 1\)"
expect_grep "publish-via-root, migration: the root's migrated key is compatible" "$WORK/check10.out" \
    "subject main\.public\.meas-key: after migration rules, the migrated table's key is compatible"
expect_grep "publish-via-root, migration: no problem" "$WORK/check10.out" "^0 problem\(s\) found"
start_consumer "$WORK/rootmig.yaml"
pgc_psql -d postgres -c "INSERT INTO public.meas VALUES (3, 'eu', 'c')" >/dev/null
for _ in $(seq 1 200); do [ "$(subject_versions main.public.meas)" -ge 2 ] && break; sleep 0.1; done
for _ in $(seq 1 100); do grep -q '"c"' "$WORK/chkroot.jsonl" 2>/dev/null && break; sleep 0.1; done
stop_consumer
expect_eq "publish-via-root, migration: the daemon exits 0" 0 "$STOP_RC"
expect_eq "publish-via-root, migration: run registers the root's renamed shape" 2 \
    "$(subject_versions main.public.meas)"
expect_grep "publish-via-root, migration: run publishes the row under id" "$WORK/chkroot.jsonl" \
    '"id":3,"region":"eu","v":"c"'
expect_eq "publish-via-root, migration: run registers no second key version" 1 \
    "$(subject_versions main.public.meas-key)"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
