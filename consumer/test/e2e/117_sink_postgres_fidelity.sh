#!/usr/bin/env bash
# 117_sink_postgres_fidelity.sh: the Postgres sink copies values,
# identifiers and changes exactly, whatever the target's session settings,
# against a real cluster (tools/pgsink_apply streaming the output plugin):
#
#   A  a torture table of built-in types (arrays, domains, enums,
#      composites, ranges and multiranges, json/jsonb with unicode escapes,
#      numeric NaN/Infinity and huge scale, float specials and -0,
#      infinity/BC timestamps, timetz, interval, empty and large bytea, bit
#      strings, money, control characters and 4-byte UTF-8, xml, tsvector,
#      inet, macaddr8, uuid, oid types, pg_lsn, geometry) inserted, updated
#      and deleted at the source, applied to a target whose database sets
#      another DateStyle, TimeZone, IntervalStyle, extra_float_digits,
#      bytea_output and a search_path without the table's schema: every
#      value's text equals the source's (EXCEPT both ways).
#   B  identifiers with quotes, spaces, dots, upper case, 63 bytes and
#      reserved words; a target with another column order, extra columns
#      with defaults and its own generated column; an update that leaves a
#      TOAST value unchanged, also under a key move.
#   C  a keyless table under REPLICA IDENTITY FULL with rows equal but not
#      the same (1.0 and 1.00, 0 and -0, '1 day' and '24 hours', jsonb 1 and
#      1.0, timetz in two zones): the row the source changed changes; a
#      key changed to one equal but not the same (1.0 to 1.00, 0 to -0):
#      the target's row takes the new key.
#   D  schema changes mid-stream with create_tables: an added column is
#      added, a dropped one stays (NULL in new rows), a renamed one is a new
#      column; a changed type stops the sink with an error naming the
#      table, the column, both types and what to do.  Without create_tables
#      (keyed and keyless tables): an added column stops the sink with an
#      error naming it, its type and what to do, a dropped one leaves the
#      target's NULL, a changed type as above; after each fix of the
#      target and a restart, every change is there once.
#   E  the driver killed (_exit 9) at several points mid-stream, then run to
#      the end: keyed and keyless targets equal the source.
#   F  money, money[] and a domain over money into a target whose
#      lc_monetary has a decimal comma (de_DE, built with localedef into
#      WORK; skipped with a note when it cannot be): the same amounts; also
#      money and money[] inside a composite, nested, and in an array of
#      composites (read by json_populate_record).
#   G  TRUNCATE ... CASCADE and RESTART IDENTITY: the target's tables and
#      sequence as in the source.
#
# The last line is `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

export PG_CONFIG
build_consumer
build_tool pgsink_apply
# F needs a locale whose monetary decimal point is a comma; the server
# (only: glibc's locale loading leaks under LeakSanitizer in the driver)
# finds it through LOCPATH, without installing it in the system.
mkdir -p "$WORK/loc"
have_de=0
if command -v localedef >/dev/null &&
        localedef -i de_DE -f UTF-8 "$WORK/loc/de_DE.UTF-8" >"$WORK/localedef.log" 2>&1; then
    have_de=1
    chmod -R a+rX "$WORK/loc"
    LOCPATH=$WORK/loc pgc_start
else
    pgc_start
fi
chmod 777 "$WORK"

# stream CASE: apply src_CASE's slot s_CASE to dst_CASE; sets out.
stream() {
    out=$(apply "dst_$1" --create-tables --stats --idle-ms 4000 --slot "s_$1" "${@:2}" \
        --source-dsn "$(tcp_dsn "src_$1")" 2>>"$WORK/c_$1.err") || true
    echo "$out" >>"$WORK/c_$1.out"
}
# slot CASE: the slot s_CASE in src_CASE.
slot() { q "src_$1" "SELECT 'x' FROM pg_create_logical_replication_slot('s_$1', 'tributary')" >/dev/null; }
for c in tor ident near ddl ddln crash money trunc; do
    pgc_psql -c "CREATE DATABASE src_$c" -c "CREATE DATABASE dst_$c" >/dev/null
done

# ------------------------------------------------ A: every type, other settings
TOR="CREATE TYPE color AS ENUM ('red', 'gr\"een', 'blu e');
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE TYPE pair AS (a int, b text);
CREATE TABLE tor (
 id int PRIMARY KEY,
 b bool, i2 int2, i4 int4, i8 int8, n numeric, n2 numeric(40,20), f4 float4, f8 float8,
 c char(5), vc varchar(10), t text, nm name, ch \"char\",
 by bytea, bt bit(5), vb varbit,
 d date, tm time, ttz timetz, ts timestamp, tstz timestamptz, iv interval,
 j json, jb jsonb, jp jsonpath, x xml,
 ip inet, cd cidr, mac macaddr, mac8 macaddr8, u uuid, mo money,
 o oid, rc regclass, rp regproc, rt regtype, l pg_lsn,
 p point, ln line, ls lseg, bx box, pa path, pg polygon, ci circle,
 tv tsvector, tq tsquery,
 ir int4range, nr numrange, tr tstzrange, dr daterange, imr int4multirange, dmr datemultirange,
 en color, dm posint, cp pair,
 ai int[], at text[], ab bytea[], ad date[], an numeric[], af float8[], aj jsonb[], ae color[],
 atz timestamptz[], ain inet[], aiv interval[], ar int4range[], acp pair[]);"
pgc_psql -d src_tor -q -c "$TOR" >/dev/null
pgc_psql -d dst_tor -q -c "$TOR" >/dev/null
pgc_psql -d postgres -q >/dev/null <<'SQL'
ALTER DATABASE dst_tor SET DateStyle = 'SQL, DMY';
ALTER DATABASE dst_tor SET TimeZone = 'Asia/Kathmandu';
ALTER DATABASE dst_tor SET IntervalStyle = 'sql_standard';
ALTER DATABASE dst_tor SET extra_float_digits = -15;
ALTER DATABASE dst_tor SET bytea_output = 'escape';
ALTER DATABASE dst_tor SET search_path = 'nowhere';
SQL
slot tor
pgc_psql -d src_tor -q >/dev/null 2>&1 <<'SQL'
INSERT INTO tor VALUES
(1, true, -32768, 2147483647, -9223372036854775808, 'NaN', 12345678901234567890.12345678901234567890, 'NaN', '-0',
 'ab', 'x y', E'ctl:\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f end 😀 é \\ " '' ', 'nm"x', 'q',
 '', B'10101', B'', '4713-01-01 BC', '24:00:00', '23:59:59.999999+14:59', '294276-12-31 23:59:59.999999', '-infinity', '-178000000 years -1 microsecond',
 '{"a":"\u00e9\ud83d\ude00\n","b":[1.0e10, 1.00]}', '{"k":"\u00e9", "n": 1.000, "big": 123456789012345678901234567890}', '$.a[*] ? (@ > 1)', '<a x="1">t&amp;</a>',
 '::ffff:1.2.3.4/100', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '-92233720368547758.08',
 4294967295, 'pg_class', 'now', 'int4', 'FFFFFFFF/FFFFFFFF',
 '(1.5,-0)', '{1,-1,0}', '[(0,0),(1e300,1)]', '(1,1),(0,0)', '[(0,0),(1,1),(2,0)]', '((0,0),(1,1),(1,0))', '<(1,1),5>',
 $$'a':1A 'b c' 'd\'e'$$, $$'a' & !('b' | 'c':*)$$,
 '[1,5)', '(,1.5]', '[2024-01-01 00:00+00,infinity)', 'empty', '{[1,3),[5,7)}', '{}',
 'gr"een', 5, ROW(1, 'x,"y"'),
 '{1,NULL,3}', '{"a\"b","NULL",NULL,"","x y","\\\\"}', '{"\\x00ff",""}', '{infinity,2000-01-01,0001-01-01 BC}', '{NaN,Infinity,-Infinity,1e-20}', '{-0,1.7976931348623157e308,5e-324,NaN,Infinity}',
 '{"{\"a\":1}",null,"\"s\""}', '{"blu e",red}', '{2000-01-01 00:00:00.123456+00,-infinity}', '{1.2.3.4,::1}', '{"1 day 2 hours","-1 mon"}', '{"[1,2)",empty}', ARRAY[ROW(1,'a'),NULL,ROW(NULL,NULL)]::pair[]),
(2, false, 0, 0, 0, 'Infinity', '-0.00000000000000000001', 'Infinity', '-Infinity',
 NULL, '', '', '', E'\x01',
 decode(repeat('00ff7f80', 100000), 'hex'), B'00000', B'1', '0001-01-01 BC', '00:00:00.000001', '00:00:00-15:59', '0001-01-01 00:00:00 BC', 'infinity', '1 year 2 mons 3 days 04:05:06.789',
 '"\u0041"', '[]', '$', '<!-- c --><b/>',
 '0.0.0.0/0', '::/0', 'ff:ff:ff:ff:ff:ff', 'ff:ff:ff:ff:ff:ff:ff:ff', '00000000-0000-0000-0000-000000000000', '0',
 0, 'pg_type', 'int4in', 'pg_catalog."char"', '0/0',
 '(1e-300,1e300)', '{0,1,0}', '[(0,0),(0,1)]', '(0,0),(0,0)', '((0,0))', '((0,0))', '<(0,0),0>',
 '', '', 'empty', 'empty', 'empty', '[2000-01-01,2000-01-02)', '{}', '{[2000-01-01,infinity)}',
 'blu e', 1, ROW(NULL, NULL),
 '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}');
INSERT INTO tor (id, n, f4, f8, t, ts, tstz, iv, j, jb, ai) VALUES (3, '-Infinity', '-0', '1e-45', repeat('long ', 100000), '2000-02-29 12:00:00.5', '2000-02-29 12:00:00.000001+05:30', '-1 day +1 second', 'null', 'null', '{{1,2},{3,4}}');
INSERT INTO tor (id, n, f8, t) VALUES (4, 1e-1000, 0.1, 'x');
INSERT INTO tor (id, n) VALUES (5, 123456789012345678901234567890123456789012345678901234567890.0000000000000000000000000000000000000000000000000001000);
UPDATE tor SET i4 = 7, by = by || '\x00'::bytea WHERE id = 2;
UPDATE tor SET t = t || 'y', f4 = '3.4028235e38' WHERE id = 1;
UPDATE tor SET id = 40 WHERE id = 4;
DELETE FROM tor WHERE id = 5;
SQL
expect_eq "A the source rows are in" "1 2 3 40" "$(q src_tor "SELECT string_agg(id::text, ' ' ORDER BY id) FROM tor")"
stream tor
expect_match "A the stream was applied" "^position [0-9A-F]+/[0-9A-F]+:[0-9]+" "$out"
# values DB: "id column md5" of every value (its text read under the same
# settings in both databases; NULL as NULL), one a line.
values() {
    local cols names
    cols=$(q src_tor "SELECT string_agg(format('%I::text', attname), ', ' ORDER BY attnum)
                      FROM pg_attribute WHERE attrelid = 'tor'::regclass AND attnum > 0 AND NOT attisdropped")
    names=$(q src_tor "SELECT string_agg(quote_literal(attname), ', ' ORDER BY attnum)
                       FROM pg_attribute WHERE attrelid = 'tor'::regclass AND attnum > 0 AND NOT attisdropped")
    PGOPTIONS="-c DateStyle=ISO -c TimeZone=UTC -c IntervalStyle=postgres -c extra_float_digits=1 -c bytea_output=hex -c search_path=public" \
        q "$1" "SELECT id || ' ' || u.col || ' ' || coalesce(md5(u.v), 'NULL')
                FROM tor, unnest(ARRAY[$names]::text[], ARRAY[$cols]) AS u(col, v)"
}
values src_tor >"$WORK/tor_src"
values dst_tor >"$WORK/tor_dst" 2>&1 || true
expect_eq "A the source holds every value (4 rows of 69 columns)" 276 "$(wc -l <"$WORK/tor_src")"
expect_eq "A no source value is missing from or different in the target" "" \
    "$(comm -23 <(sort "$WORK/tor_src") <(sort "$WORK/tor_dst") | cut -c1-300)"
expect_eq "A ... and the target holds nothing else" "" \
    "$(comm -13 <(sort "$WORK/tor_src") <(sort "$WORK/tor_dst") | cut -c1-300)"

# ------------------------------------------------ B: identifiers, column order, TOAST
QT='"Sch ""q"".x"."Tab.le ""1"""'
LONG=c23456789012345678901234567890123456789012345678901234567890123
pgc_psql -d src_ident -q >/dev/null <<SQL
CREATE SCHEMA "Sch ""q"".x";
CREATE TABLE $QT ("Id" int PRIMARY KEY, "select" text, "a b" int, "x.y" text, "ééé" text, $LONG text,
                  big text, g int GENERATED ALWAYS AS ("a b" * 2) STORED);
ALTER TABLE $QT ALTER big SET STORAGE EXTERNAL;
SQL
pgc_psql -d dst_ident -q >/dev/null <<SQL
CREATE SCHEMA "Sch ""q"".x";
CREATE TABLE $QT (extra1 text DEFAULT 'dflt', big text, "ééé" text, "x.y" text, "a b" int, "select" text,
                  g int GENERATED ALWAYS AS (coalesce("a b", 0) + 1000) STORED, $LONG text, "Id" int PRIMARY KEY,
                  extra2 int DEFAULT 42);
SQL
slot ident
pgc_psql -d src_ident -q >/dev/null <<SQL
INSERT INTO $QT VALUES (1, 'sel', 2, 'xy', 'é', 'long', repeat('B', 10000)), (2, NULL, NULL, NULL, NULL, NULL, repeat('C', 10000));
UPDATE $QT SET "select" = 'sel2' WHERE "Id" = 1;
UPDATE $QT SET "Id" = 3 WHERE "Id" = 2;
SQL
stream ident
# shape DB: the rows as JSON, big as its md5, the generated column left out.
shape() {
    q "$1" "SELECT string_agg((to_jsonb(t) - 'big' - 'g' - 'extra1' - 'extra2'
                               || jsonb_build_object('big', md5(big)))::text, ' ' ORDER BY \"Id\") FROM $QT t" 2>&1 || true
}
expect_eq "B quoted, dotted, upper-case, 63-byte and reserved names; another column order: equal" \
    "$(shape src_ident)" "$(shape dst_ident)"
expect_eq "B ... the TOAST values kept by the update and the key move" \
    "$(q src_ident "SELECT string_agg(md5(big), ' ' ORDER BY \"Id\") FROM $QT")" \
    "$(q dst_ident "SELECT string_agg(md5(big), ' ' ORDER BY \"Id\") FROM $QT" 2>&1 || true)"
expect_eq "B ... the target's extra columns hold their defaults, its generated column its own value" \
    "dflt 42 1002|dflt 42 1000" \
    "$(q dst_ident "SELECT string_agg(extra1 || ' ' || extra2 || ' ' || g, '|' ORDER BY \"Id\") FROM $QT" 2>&1 || true)"

# ------------------------------------------------ C: keyless, equal but not the same
pgc_psql -d src_near -q >/dev/null <<'SQL'
CREATE TABLE near (n numeric, f float8, iv interval, jb jsonb, tz timetz, an numeric[], v text);
ALTER TABLE near REPLICA IDENTITY FULL;
CREATE TABLE pk (id numeric PRIMARY KEY, v text);
CREATE TABLE pk2 (a float8, b interval, v text, PRIMARY KEY (a, b));
SQL
slot near
pgc_psql -d src_near -q >/dev/null <<'SQL'
INSERT INTO near VALUES (1.0, 0, '1 day', '{"a": 1}', '12:00+01', '{1.0}', 'a'),
                        (1.00, '-0', '24 hours', '{"a": 1.0}', '11:00+00', '{1.00}', 'a');
UPDATE near SET v = 'b' WHERE n::text = '1.00';
INSERT INTO near VALUES (2.0, 1, '1 day', '{}', '12:00+01', '{}', 'c'), (2.00, 1, '1 day', '{}', '12:00+01', '{}', 'c');
DELETE FROM near WHERE n::text = '2.00';
INSERT INTO near VALUES (3, 0, '1 day', '{}', '12:00+01', '{}', 'd'), (3, '-0', '1 day', '{}', '12:00+01', '{}', 'd');
DELETE FROM near WHERE f::text = '-0' AND v = 'd';
INSERT INTO pk VALUES (1.0, 'a'), (2, 'b');
UPDATE pk SET id = 1.00 WHERE id = 1;
INSERT INTO pk2 VALUES (0, '1 day', 'x');
UPDATE pk2 SET a = '-0', b = '24 hours', v = 'y';
SQL
stream near
tuples() { q "$1" "SELECT string_agg(t::text, ' ' ORDER BY t::text) FROM $2 t" 2>&1 || true; }
expect_eq "C keyless rows equal but not the same: the one the source changed or deleted" \
    "$(tuples src_near near)" "$(tuples dst_near near)"
expect_eq "C a key changed to one equal but not the same (1.0 to 1.00): the target has the new key" \
    "$(tuples src_near pk)" "$(tuples dst_near pk)"
expect_eq "C ... (0 to -0, '1 day' to '24 hours' in a two-column key)" "(-0,24:00:00,y)" "$(tuples dst_near pk2)"

# ------------------------------------------------ D: schema changes mid-stream
pgc_psql -d src_ddl -q -c "CREATE TABLE sc (id int PRIMARY KEY, a text, b int, c text)" >/dev/null
slot ddl
pgc_psql -d src_ddl -q >/dev/null <<'SQL'
INSERT INTO sc VALUES (1, 'a', 1, 'c');
ALTER TABLE sc ADD COLUMN d numeric;
INSERT INTO sc VALUES (2, 'a2', 2, 'c2', 2.5);
ALTER TABLE sc DROP COLUMN c;
INSERT INTO sc VALUES (3, 'a3', 3, 3.5);
UPDATE sc SET a = 'a1' WHERE id = 1;
ALTER TABLE sc RENAME COLUMN a TO aa;
INSERT INTO sc VALUES (4, 'a4', 4, 4.5);
SQL
# rows_of DB: id a b c d aa of each row, - for NULL.
rows_of() {
    q "$1" "SELECT string_agg(concat_ws(' ', id, coalesce(a, '-'), coalesce(b::text, '-'), coalesce(c, '-'),
                                        coalesce(d::text, '-'), coalesce(aa, '-')), '|' ORDER BY id) FROM sc" 2>&1 || true
}
stream ddl
expect_eq "D an added column is added, a dropped one stays (NULL in new rows), a renamed one is a new column" \
    '1 a1 1 c - -|2 a2 2 c2 2.5 -|3 a3 3 - 3.5 -|4 - 4 - 4.5 a4' "$(rows_of dst_ddl)"
pgc_psql -d src_ddl -q -c "ALTER TABLE sc ALTER b TYPE text" -c "INSERT INTO sc VALUES (5, 'a5', 'five', 5.5)" >/dev/null
stream ddl
expect_match "D a changed type stops the sink with the target's error, naming the type" \
    'upsert of 1 row in "public"."sc": SQLSTATE 22P02: ERROR:  invalid input syntax for type integer' \
    "$(cat "$WORK/c_ddl.err")"
expect_match "D ... naming the target table, the column, the source's and the target's type, and what to do" \
    'invalid input syntax for type integer.* -- in target table "public"."sc", column "b" is text at the source, integer in the target: change the target.s column to the source.s type \(ALTER TABLE \.\.\. ALTER COLUMN \.\.\. TYPE\) and restart; nothing of this batch was applied' \
    "$(cat "$WORK/c_ddl.err")"
expect_eq "D ... nothing of it applied" "4" "$(q dst_ddl "SELECT count(*) FROM sc")"
pgc_psql -d dst_ddl -q -c "ALTER TABLE sc ALTER b TYPE text" >/dev/null
stream ddl
expect_eq "D ... and it goes on once the target's column has the new type" \
    '1 a1 1 c - -|2 a2 2 c2 2.5 -|3 a3 3 - 3.5 -|4 - 4 - 4.5 a4|5 - five - 5.5 a5' "$(rows_of dst_ddl)"

# D without create_tables: the operator changes the target after each stop.
for db in src_ddln dst_ddln; do
    pgc_psql -d "$db" -q -c "CREATE TABLE w (id int PRIMARY KEY, a int, b text)" \
        -c "CREATE TABLE wl (a int, b text)" -c "ALTER TABLE wl REPLICA IDENTITY FULL" >/dev/null
done
slot ddln
# streamn: as stream ddln, without --create-tables.
streamn() {
    : >"$WORK/c_ddln.err"
    apply dst_ddln --stats --idle-ms 4000 --slot s_ddln --source-dsn "$(tcp_dsn src_ddln)" \
        >>"$WORK/c_ddln.out" 2>>"$WORK/c_ddln.err" || true
}
# same_ddln WHAT: both tables equal the source's (keyless: as multisets).
same_ddln() {
    expect_eq "$1 (keyed)" "$(table_digest src_ddln w)" "$(table_digest dst_ddln w 2>&1 || true)"
    expect_eq "$1 (keyless, each row once)" "$(table_digest src_ddln wl)" "$(table_digest dst_ddln wl 2>&1 || true)"
}
pgc_psql -d src_ddln -q >/dev/null <<'SQL'
INSERT INTO w VALUES (1, 1, 'x'); INSERT INTO wl VALUES (1, 'x'), (1, 'x');
ALTER TABLE w ADD COLUMN c numeric; ALTER TABLE wl ADD COLUMN c numeric;
INSERT INTO w VALUES (2, 2, 'y', 2.5); INSERT INTO wl VALUES (2, 'y', 2.5), (1, 'x', NULL);
UPDATE w SET c = 3.5 WHERE id = 1; DELETE FROM wl WHERE ctid = (SELECT ctid FROM wl WHERE a = 1 LIMIT 1);
SQL
streamn
# shellcheck disable=SC2016  # the backquotes are the message's
expect_match "D without create_tables: an added column stops the sink, naming it, its type and what to do" \
    'column "c" \(numeric at the source\) is not in target table "public"."wl?" \(create_tables is off\): add it there or leave it out with a `drop` transform rule, then restart' \
    "$(cat "$WORK/c_ddln.err")"
pgc_psql -d dst_ddln -q -c "ALTER TABLE w ADD COLUMN c numeric" -c "ALTER TABLE wl ADD COLUMN c numeric" >/dev/null
streamn
same_ddln "D ... added to the target, then restarted: every change there once"
pgc_psql -d src_ddln -q >/dev/null <<'SQL'
ALTER TABLE w DROP COLUMN b; ALTER TABLE wl DROP COLUMN b;
INSERT INTO w VALUES (3, 3, 4.5); INSERT INTO wl VALUES (3, 4.5), (3, 4.5);
UPDATE w SET a = 10 WHERE id = 2; DELETE FROM wl WHERE ctid = (SELECT ctid FROM wl WHERE a = 3 LIMIT 1);
SQL
streamn
expect_eq "D ... a dropped column: the target's stays, NULL in new rows" \
    '1 1 x 3.5|2 10 y 2.5|3 3 - 4.5' \
    "$(q dst_ddln "SELECT string_agg(concat_ws(' ', id, a, coalesce(b, '-'), c), '|' ORDER BY id) FROM w" 2>&1 || true)"
pgc_psql -d dst_ddln -q -c "ALTER TABLE w DROP COLUMN b" -c "ALTER TABLE wl DROP COLUMN b" >/dev/null
same_ddln "D ... the rest as in the source"
pgc_psql -d src_ddln -q -c "ALTER TABLE w ALTER a TYPE text" -c "INSERT INTO w VALUES (4, 'four', 5)" >/dev/null
streamn
expect_match "D ... a changed type: the error names the table, the column, both types and what to do" \
    'invalid input syntax for type integer.* -- in target table "public"."w", column "a" is text at the source, integer in the target: change' \
    "$(cat "$WORK/c_ddln.err")"
pgc_psql -d dst_ddln -q -c "ALTER TABLE w ALTER a TYPE text" >/dev/null
streamn
same_ddln "D ... the type changed in the target, then restarted: every change there once"

# ------------------------------------------------ E: killed mid-stream
pgc_psql -d src_crash -q -c "CREATE TABLE k (id int PRIMARY KEY, v text)" \
    -c "CREATE TABLE nk (id int, v text)" -c "ALTER TABLE nk REPLICA IDENTITY FULL" >/dev/null
slot crash
pgc_psql -d src_crash -q >/dev/null <<'SQL'
BEGIN; INSERT INTO k SELECT g, 'v' || g FROM generate_series(1, 300) g;
       INSERT INTO nk SELECT g % 50, 'v' FROM generate_series(1, 300) g; COMMIT;
BEGIN; UPDATE nk SET v = 'w' WHERE ctid IN (SELECT ctid FROM nk WHERE id = 7 LIMIT 2); DELETE FROM k WHERE id < 50; COMMIT;
INSERT INTO nk VALUES (1, 'x'); INSERT INTO nk VALUES (1, 'x'); INSERT INTO k VALUES (1000, 'z');
BEGIN; INSERT INTO nk SELECT 1, 'y' FROM generate_series(1, 100); UPDATE k SET v = 'u'; COMMIT;
SQL
rcs=
for n in 1 150 301 400; do
    rc=0
    apply dst_crash --create-tables --batch-size 64 --crash-after "$n" --idle-ms 4000 --slot s_crash \
        --source-dsn "$(tcp_dsn src_crash)" >/dev/null 2>>"$WORK/c_crash.err" || rc=$?
    rcs+=" $rc"
done
expect_eq "E the driver was killed (_exit 9) at each of 4 points" " 9 9 9 9" "$rcs"
stream crash
expect_eq "E killed at 4 points mid-stream, then run to the end: the keyed table equals the source" \
    "$(table_digest src_crash k)" "$(table_digest dst_crash k 2>&1 || true)"
expect_eq "E ... and the keyless one (no row lost, none twice)" \
    "$(table_digest src_crash nk)" "$(table_digest dst_crash nk 2>&1 || true)"

# ------------------------------------------------ G: TRUNCATE
for db in src_trunc dst_trunc; do
    pgc_psql -d "$db" -q -c "CREATE TABLE par (id serial PRIMARY KEY, v text)" \
        -c "CREATE TABLE chi (id int PRIMARY KEY, p int REFERENCES par)" -c 'CREATE TABLE "we ird" (a int)' >/dev/null
done
slot trunc
pgc_psql -d src_trunc -q >/dev/null 2>&1 <<'SQL'
INSERT INTO par (v) VALUES ('a'), ('b'); INSERT INTO chi VALUES (1, 1); INSERT INTO "we ird" VALUES (1);
TRUNCATE par CASCADE;
INSERT INTO par (v) VALUES ('c');
TRUNCATE par, chi, "we ird" RESTART IDENTITY;
INSERT INTO par (v) VALUES ('d'); INSERT INTO "we ird" VALUES (2);
SQL
stream trunc
trunc_state() {
    q "$1" "SELECT (SELECT string_agg(id || ' ' || v, ',') FROM par) || '|' || (SELECT count(*) FROM chi) || '|' ||
                   (SELECT string_agg(a::text, ',') FROM \"we ird\") || '|' || (SELECT last_value FROM par_id_seq)" 2>&1 || true
}
expect_eq "G TRUNCATE ... CASCADE and RESTART IDENTITY: the tables and the sequence as in the source" \
    "$(trunc_state src_trunc)" "$(trunc_state dst_trunc)"

# ------------------------------------------------ F: money under another lc_monetary
if [ "$have_de" = 1 ]; then
    pgc_psql -q -c "ALTER DATABASE dst_money SET lc_monetary = 'de_DE.UTF-8'" >/dev/null
    for db in src_money dst_money; do
        pgc_psql -d "$db" -q -c "CREATE DOMAIN price AS money" \
            -c "CREATE TYPE cm AS (mo money, ma money[], pd price, t text)" \
            -c "CREATE TYPE cn AS (inner_ cm, n int)" \
            -c "CREATE TABLE m (id int PRIMARY KEY, mo money, ma money[], pd price)" \
            -c "CREATE TABLE mc (id int PRIMARY KEY, c cm, cs cm[], n cn)" \
            -c "CREATE TABLE mk (mo money, v text)" -c "ALTER TABLE mk REPLICA IDENTITY FULL" >/dev/null
    done
    slot money
    pgc_psql -d src_money -q >/dev/null <<'SQL'
INSERT INTO m VALUES (1, 12.34, '{1.5,-2.25}', 0.01), (2, -1234567.89, NULL, NULL);
UPDATE m SET mo = 99.99 WHERE id = 2;
INSERT INTO mk VALUES (12.34, 'a'), (1234, 'b');
DELETE FROM mk WHERE v = 'a';
INSERT INTO mc VALUES (1, ROW(12.34, '{1.5,-2.25}', 0.01, 'x'),
                       ARRAY[ROW(7.5, '{3.25}', 1, 'y')::cm, ROW(-1234567.89, NULL, NULL, NULL)::cm],
                       ROW(ROW(99.99, '{0.5}', 2.5, 'z'), 1));
SQL
    stream money
    amounts() {
        q "$1" "SELECT string_agg(concat_ws(' ', id, mo::numeric, ma::numeric[], pd::numeric), '|' ORDER BY id) FROM m" 2>&1 || true
    }
    expect_eq "F money, money[] and a domain over money: the same amounts under the target's lc_monetary de_DE" \
        "$(amounts src_money)" "$(amounts dst_money)"
    expect_eq "F ... and a keyless table's delete finds the row by its amount" "1234.00 b" \
        "$(q dst_money "SELECT string_agg(mo::numeric || ' ' || v, '|') FROM mk" 2>&1 || true)"
    # the amounts of mc as numeric text, whatever the database's lc_monetary
    camounts() {
        q "$1" "SELECT string_agg(concat_ws(' ', id, (c).mo::numeric, (c).ma::numeric[], (c).pd::numeric,
                  (SELECT string_agg(concat_ws(':', x.mo::numeric, x.ma::numeric[], x.pd::numeric), ',')
                     FROM unnest(cs) x),
                  ((n).inner_).mo::numeric, ((n).inner_).ma::numeric[], ((n).inner_).pd::numeric), '|' ORDER BY id)
                FROM mc" 2>&1 || true
    }
    expect_eq "F ... money, money[] and a domain over money in a composite, an array of them and a nested one" \
        "$(camounts src_money)" "$(camounts dst_money)"
else
    echo "# F skipped: no de_DE locale could be built ($(tail -1 "$WORK/localedef.log" 2>/dev/null))"
fi

expect_no_sanitizer "no sanitizer report from the sink's driver" "$WORK"/*.err
e2e_finish
