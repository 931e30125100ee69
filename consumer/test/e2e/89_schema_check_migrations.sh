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
#      one problem under fail, and the daemon stops on the key subject.
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
expect_grep "check: the refused key counts as a problem" "$WORK/check7.out" \
    "^1 problem\(s\) found \(the configuration itself is valid\)"
start_consumer "$WORK/keys2.yaml"
pgc_psql -d postgres -c "INSERT INTO public.orders VALUES (6, 'six')" >/dev/null
wait_exit
expect_eq "run stops on the key (exit 1)" 1 "$EXIT_RC"
expect_grep "run names the key subject" "$WORK/run.log" \
    "subject $SUBJECT-key: the new shape of table public.orders at event .* is incompatible"
expect_eq "run registers no second key version" 1 "$(key_versions)"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
