#!/usr/bin/env bash
# 62_mongodb_schema_infer.sh: schemas inferred per collection by the
# MongoDB source (`infer_schema: true`, source/mongodb/mongo_infer.c) and
# registered by the schema stage (`schemas:`) -- AGAINST THE PROJECT'S
# WIRE-PROTOCOL TEST DOUBLE (test/mongo/, mongo_double), not a real mongod.
#
#  A  a collection copied by the snapshot gets its first version from
#     the copied documents;
#  B  a streamed collection: a first version from its first document, none
#     for documents of the same shape or with a null field, a new one for
#     a new field, another for a new type of a field (integer, then
#     string); the registered JSON Schema names the fields;
#  C  nested documents: the registered JSON Schema has the subdocuments'
#     properties and the arrays' item types (subdocuments in arrays
#     too); a new field inside a subdocument or an array's documents is a
#     new version, the same nested shape none;
#  D  a restart: a collection's documents {_id,a,b,c} registered, the
#     daemon restarted, then a document with only {_id,a}: no new version
#     (the collection starts from its subject's latest version, not from
#     nothing), then one with a new field d: exactly one new version,
#     with _id, a, b, c and d.
#
# The last line is `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mongo_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mongo_lib.sh"
# the cluster (pgc_start) also holds the registry
mongo_init -- inf
pgc_psql -d postgres -c "CREATE EXTENSION tributary" >/dev/null

# versions SUBJECT: how many versions it has
versions() { q postgres "SELECT coalesce(max(versions), 0) FROM tributary.subjects WHERE subject = '$1'"; }
wait_versions() {
    for _ in $(seq 1 100); do [ "$(versions "$1")" -ge "$2" ] && return 0; sleep 0.1; done
    return 1
}

echo 'inf {"insert": "pre", "documents": [{"_id": 1, "x": 1, "tags": ["a"]}, {"_id": 2, "x": 2}]}' | drive

cat >"$WORK/p.yaml" <<YAML
pipeline: p
sources:
  shop:
    type: mongodb
    uri: "$URI"
    database: inf
    snapshot: initial
    infer_schema: true
    max_await_ms: 200
    lock_dsn: "$(pg_dsn)"
sinks:
  out:
    type: file
    path: "$WORK/out.jsonl"
$(tail_yaml schemas)
YAML
start_consumer "$WORK/p.yaml" "$WORK/run.log"
wait_log "$WORK/run.log" "change stream open on inf" 15 || true

# ---------------------------------------------------------------- A: snapshot
wait_versions shop.inf.pre 1 || true
expect_eq "A: the copied collection has one version" "1" "$(versions shop.inf.pre)"

# ---------------------------------------------------------------- B: stream
echo 'inf {"insert": "people", "documents": [{"_id": 1, "name": "a"}]}' | drive
wait_versions shop.inf.people 1 || true
expect_eq "B: a first version from the first document" "1" "$(versions shop.inf.people)"
drive <<'CMDS'
inf {"insert": "people", "documents": [{"_id": 2, "name": "b"}]}
inf {"insert": "people", "documents": [{"_id": 3, "name": null}]}
CMDS
wait_lines "$WORK/out.jsonl" 5 10 || true
expect_eq "B: the same shape, or a null field: no new version" "1" "$(versions shop.inf.people)"
echo 'inf {"insert": "people", "documents": [{"_id": 4, "name": "d", "age": 5}]}' | drive
wait_versions shop.inf.people 2 || true
expect_eq "B: a new field: version 2" "2" "$(versions shop.inf.people)"
echo 'inf {"insert": "people", "documents": [{"_id": 5, "name": "e", "age": "old"}]}' | drive
wait_versions shop.inf.people 3 || true
expect_eq "B: a new type of a field: version 3" "3" "$(versions shop.inf.people)"
echo 'inf {"insert": "people", "documents": [{"_id": 6, "name": "f", "age": 7}]}' | drive
wait_lines "$WORK/out.jsonl" 8 10 || true
expect_eq "B: a type already seen: no new version" "3" "$(versions shop.inf.people)"
v2=$(q postgres "SELECT schema::text FROM tributary.schema_versions WHERE subject = 'shop.inf.people' AND version = 2")
v3=$(q postgres "SELECT schema::text FROM tributary.schema_versions WHERE subject = 'shop.inf.people' AND version = 3")
echo "# v2: $v2"
echo "# v3: $v3"
types() {
    python3 -c 'import json,sys
p = json.loads(sys.argv[1])["properties"]
def t(v):
    ts = [o.get("type") for o in v.get("oneOf", [v])]
    return "/".join(x for x in ts if x and x != "null") or "any"
print(" ".join("%s:%s" % (k, t(p[k])) for k in sorted(p)))' "$1"
}
expect_eq "B: version 2's JSON Schema: _id, name, age an integer" \
    "_id:integer age:integer name:string" "$(types "$v2")"
expect_eq "B: version 3's: age of any type now" "_id:integer age:any name:string" "$(types "$v3")"
expect_eq "B: every change arrived" "8" "$(wc -l <"$WORK/out.jsonl")"

# ---------------------------------------------------------------- C: nested documents
echo 'inf {"insert": "orders", "documents": [{"_id": 1, "addr": {"city": "x", "zip": 7}, "tags": ["a"], "lines": [{"sku": "s", "qty": 1}]}]}' | drive
wait_versions shop.inf.orders 1 || true
drive <<'CMDS'
inf {"insert": "orders", "documents": [{"_id": 2, "addr": {"city": "y"}, "tags": [], "lines": [{"qty": 2}]}]}
CMDS
wait_lines "$WORK/out.jsonl" 10 10 || true
expect_eq "C: nested documents of a known shape: one version" "1" "$(versions shop.inf.orders)"
echo 'inf {"insert": "orders", "documents": [{"_id": 3, "addr": {"geo": {"lat": 1.5}}, "lines": [{"note": "n"}]}]}' | drive
wait_versions shop.inf.orders 2 || true
expect_eq "C: a new field inside a subdocument and inside an array's documents: version 2" \
    "2" "$(versions shop.inf.orders)"
o2=$(q postgres "SELECT schema::text FROM tributary.schema_versions WHERE subject = 'shop.inf.orders' AND version = 2")
echo "# orders v2: $o2"
nested() {
    python3 -c 'import json,sys
def one(v):
    for o in v.get("oneOf", [v]):
        if o.get("type") != "null":
            return o
    return {}
def walk(v):
    v = one(v)
    if v.get("type") == "object" and "properties" in v:
        return "{" + ",".join("%s:%s" % (k, walk(v["properties"][k])) for k in sorted(v["properties"])) + "}"
    if v.get("type") == "array":
        return "[" + walk(v.get("items", {})) + "]"
    return v.get("type", "any")
print(walk(json.loads(sys.argv[1])))' "$1"
}
expect_eq "C: version 2's JSON Schema: the subdocuments' properties and the arrays' items" \
    "{_id:integer,addr:{city:string,geo:{lat:number},zip:integer},lines:[{note:string,qty:integer,sku:string}],tags:[string]}" \
    "$(nested "$o2")"

# ---------------------------------------------------------------- D: a restart
# kept_ids: the _ids of inf.kept's records in the file, in order.
kept_ids() { jq -r 'select(.topic == "p.inf.kept") | .key._id' "$WORK/out.jsonl" | paste -sd' '; }
# wait_kept IDS: wait up to 10 s for kept_ids to be IDS.
wait_kept() { for _ in $(seq 1 100); do [ "$(kept_ids)" = "$1" ] && return 0; sleep 0.1; done; return 1; }
echo 'inf {"insert": "kept", "documents": [{"_id": 1, "a": 1, "b": "x", "c": true}]}' | drive
wait_versions shop.inf.kept 1 || true
expect_eq "D: a first version with _id, a, b, c" "1" "$(versions shop.inf.kept)"
# the version is registered before the event reaches the sink: wait for it
wait_kept 1 || true
stop_consumer
start_consumer "$WORK/p.yaml" "$WORK/run2.log"
wait_log "$WORK/run2.log" "change stream open on inf" 15 || true
echo 'inf {"insert": "kept", "documents": [{"_id": 2, "a": 2}]}' | drive
wait_kept "1 2" || true
expect_eq "D: after the restart, a document with only _id and a arrived (each once)" \
    "1 2" "$(kept_ids)"
expect_eq "D: ... and registered no new version" "1" "$(versions shop.inf.kept)"
echo 'inf {"insert": "kept", "documents": [{"_id": 3, "a": 3, "d": "y"}]}' | drive
wait_versions shop.inf.kept 2 || true
wait_kept "1 2 3" || true
expect_eq "D: a new field d: exactly one new version" "2" "$(versions shop.inf.kept)"
expect_eq "D: every document of kept arrived once" "1 2 3" "$(kept_ids)"
k2=$(q postgres "SELECT schema::text FROM tributary.schema_versions WHERE subject = 'shop.inf.kept' AND version = 2")
echo "# kept v2: $k2"
expect_eq "D: version 2 has _id, a, b, c and d" "_id:integer a:integer b:string c:boolean d:string" \
    "$(types "$k2")"
expect_eq "D: the log says where the collection's schema started" "1" \
    "$(grep -c "collection inf.kept: the inferred schema starts from the registered one" "$WORK/run2.log")"
stop_consumer

expect_no_sanitizer "no sanitizer report from the consumer" "$WORK"/*.log
e2e_finish
