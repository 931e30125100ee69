#!/usr/bin/env bash
# 65_reload_refused.sh: reloads that change nothing, and sinks added and
# removed by a reload (issue 16, item 1; docs/OPERATIONS.md).
#
#   - without the token: 401, nothing reloaded; GET: 405;
#   - an invalid file: 422 with FILE:LINE:COLUMN, the pipeline keeps its
#     rules (a later row is still masked), the audit log says invalid;
#   - a slot name change: 409 naming sources.main.slot, nothing changed;
#   - an http change: 409;
#   - a file sink added: it receives the rows written after the reload and
#     none before; removed again: the first sink goes on, exactly once;
#   - `tributary ctl reload` prints the outcome and the changes;
#   - with `lineage:` on, the reloaded file's graph is recorded as a new
#     version with its fingerprint;
# every answer's body checked against docs/openapi.yaml.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
# shellcheck source=reload_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/reload_lib.sh"

RELOAD_LINEAGE=1
# write_config [EXTRA SINK LINE] [EXTRA SOURCE LINE] [LISTEN]: masked.
write_config() { reload_config refused 1 "${1:-}" "${2:-}" "${3:-}"; }

# reload [CURL ARGS...]: POST /api/v1/reload; CODE, BODY.
reload() {
    CODE=$(curl -s -o "$WORK/body" -w '%{http_code}' -X POST "$@" "http://127.0.0.1:$PORT/api/v1/reload")
    BODY=$(cat "$WORK/body")
}
insert() { pgc_psql -d postgres -c "INSERT INTO public.orders VALUES ($1, $1, 'u$1@example.com')" >/dev/null; }

reload_setup
write_config
reload_start refused
insert 1
wait_lines "$WORK/out.jsonl" 1 20 || fail "row 1 reached the sink" "no line"
FP0=$(sha256sum "$WORK/p.yaml" | cut -d' ' -f1)

# --- auth and method -----------------------------------------------------------
reload
expect_eq "reload without the token: 401" 401 "$CODE"
expect_fits "401" POST
reload -H "Authorization: Bearer wrong-token-wrong-token"
expect_eq "reload with a wrong token: 401" 401 "$CODE"
CODE=$(curl -s -o "$WORK/body" -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/reload" -H "Authorization: Bearer $TOKEN")
expect_eq "GET /api/v1/reload: 405" 405 "$CODE"
expect_fits "405" GET
reload -H "Authorization: Bearer $TOKEN"
expect_eq "the same file: 200 unchanged" "200 unchanged" "$CODE $(jq -r .result <<<"$BODY")"
expect_fits "unchanged" POST
expect_eq "unchanged: its fingerprint" "$FP0 $FP0" "$(jq -r '"\(.fingerprint) \(.running_fingerprint)"' <<<"$BODY")"

# --- an invalid file -------------------------------------------------------------
write_config
sed -i 's/with: value, value: MASKED/with: sideways/' "$WORK/p.yaml"
LINE=$(grep -n 'with: sideways' "$WORK/p.yaml" | cut -d: -f1)
reload -H "Authorization: Bearer $TOKEN"
expect_eq "an invalid file: 422 invalid" "422 invalid" "$CODE $(jq -r .result <<<"$BODY")"
expect_fits "422" POST
expect_match "the error names FILE:LINE" "p\\.yaml:$LINE:[0-9]+: transforms\\[0\\]\\.with" "$(jq -r .error <<<"$BODY")"
expect_grep "the log has the error with FILE:LINE" "$WORK/run.log" "audit.*config reload of .* invalid: fingerprint none .*p\\.yaml:$LINE:"
insert 2
wait_lines "$WORK/out.jsonl" 2 20 || fail "row 2 reached the sink" "no line"
expect_eq "nothing changed: still masked, not restarted" "MASKED 1" \
    "$(tail -1 "$WORK/out.jsonl" | jq -r .value.after.email) $(starts refused)"

# --- changes that cannot be applied live --------------------------------------------
write_config "" "    slot: another_slot"
LINE=$(grep -n 'slot: another_slot' "$WORK/p.yaml" | cut -d: -f1)
reload -H "Authorization: Bearer $TOKEN"
expect_eq "a slot name change: 409 refused" "409 refused" "$CODE $(jq -r .result <<<"$BODY")"
expect_fits "409" POST
expect_match "the reason names the key and FILE:LINE" "p\\.yaml:$LINE:[0-9]+: sources\\.main\\.slot: changed, which a running pipeline cannot apply" "$(jq -r .error <<<"$BODY")"
expect_grep "the refusal is audited with the fingerprint" "$WORK/run.log" "audit.*refused: fingerprint $(sha256sum "$WORK/p.yaml" | cut -d' ' -f1) \\(running $FP0\\)"
CTL_RC=0
CTL_OUT=$("$BIN" ctl reload --url "http://127.0.0.1:$PORT" --token-file "$WORK/token" 2>&1) || CTL_RC=$?
expect_eq "ctl reload of a refused change exits 1" 1 "$CTL_RC"
expect_match "ctl reload says why" "409 .*sources\\.main\\.slot" "$CTL_OUT"
write_config "" "" "127.0.0.1:$(pgc_free_port)"
reload -H "Authorization: Bearer $TOKEN"
expect_match "an http change: 409 naming http.listen" "^409 refused .*http\\.listen" "$CODE $(jq -r '"\(.result) \(.error)"' <<<"$BODY")"
insert 3
wait_lines "$WORK/out.jsonl" 3 20 || fail "row 3 reached the sink" "no line"
expect_eq "nothing restarted" 1 "$(starts refused)"
expect_eq "the slot is the one it was" "tributary_refused" \
    "$(pgc_psql -d postgres -Atc "SELECT slot_name FROM pg_replication_slots WHERE active")"

# --- a sink added, then removed ----------------------------------------------------------
write_config "  extra: {type: file, path: \"$WORK/extra.jsonl\"}"
CTL_OUT=$("$BIN" ctl reload --url "http://127.0.0.1:$PORT" --token-file "$WORK/token" 2>&1) || true
expect_match "ctl reload: accepted, with the change" "result: +accepted.*sink extra added" "$(tr '\n' ' ' <<<"$CTL_OUT")"
wait_streaming refused 2 || fail "streams after the sink was added" "not ready"
insert 4
insert 5
wait_lines "$WORK/extra.jsonl" 2 20 || fail "the added sink receives rows" "no lines"
expect_eq "the added sink has the rows after the reload, and only them" "4 5" \
    "$(jq -r .value.after.id "$WORK/extra.jsonl" | tr '\n' ' ' | sed 's/ $//')"
FP_EXTRA=$(sha256sum "$WORK/p.yaml" | cut -d' ' -f1)
for _ in $(seq 1 100); do
    [ "$(pgc_psql -d postgres -Atc "SELECT count(*) FROM tributary.lineage_graphs WHERE config_fingerprint = '$FP_EXTRA'")" -gt 0 ] && break
    sleep 0.2
done
expect_eq "lineage recorded a graph version with the reloaded file's fingerprint" 1 \
    "$(pgc_psql -d postgres -Atc "SELECT count(*) FROM tributary.lineage_graphs WHERE config_fingerprint = '$FP_EXTRA'")"
expect_eq "  ... after the one of the first file" 1 \
    "$(pgc_psql -d postgres -Atc "SELECT count(*) FROM tributary.lineage_graphs WHERE config_fingerprint = '$FP0'")"
write_config
reload -H "Authorization: Bearer $TOKEN"
expect_eq "the sink removed: accepted" "200 sink extra removed" "$CODE $(jq -r '.changes | join(",")' <<<"$BODY")"
wait_streaming refused 3 || fail "streams after the sink was removed" "not ready"
insert 6
wait_lines "$WORK/out.jsonl" 6 20 || fail "row 6 reached the first sink" "no line"
expect_eq "the removed sink got nothing more" 2 "$(wc -l < "$WORK/extra.jsonl")"
expect_eq "the first sink: every row once, masked" "1 2 3 4 5 6 MASKED" \
    "$(jq -r .value.after.id "$WORK/out.jsonl" | tr '\n' ' ')$(jq -r .value.after.email "$WORK/out.jsonl" | sort -u)"
stop_consumer
expect_eq "SIGTERM exits 0" 0 "$STOP_RC"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
