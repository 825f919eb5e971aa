-- SQL helpers of the loader's validation statement (msdw/ingest/sql/rules.sql.j2).
-- Idempotent: `create or replace`, re-grants. Owned by the ingestion engine.
--
-- Every function is LANGUAGE sql, IMMUTABLE and written as one expression so
-- the planner inlines it into the set-based validation statement (no per-row
-- function-call overhead, no exception blocks). None of them raises on bad
-- input: an unparseable value returns NULL, and the caller turns
-- "present but NULL after parsing" into the R rule `parse`.
--
-- The parsers work in two steps (canonical text, then typed value) because the
-- validation statement materialises the canonical text once per row; an
-- argument referenced several times inside an inlined function would
-- otherwise be re-evaluated each time.
create schema if not exists msdw_fn;
comment on schema msdw_fn is 'Pure SQL helpers of the loader (parsing, code check digits); see plugins/msdw/contracts/RULES.md';

-- ---------------------------------------------------------------------------
-- normalisation: NFKC + trim, empty -> NULL (codes additionally upper-cased)
-- ASCII-only values are already NFKC (the cheap length test skips normalize()).
create or replace function msdw_fn.norm_text(v text) returns text
language sql immutable parallel safe as $$
  select nullif(btrim(case when octet_length(v) = length(v) then v else normalize(v, NFKC) end, E' \t\r\n\v\f'), '')
$$;

create or replace function msdw_fn.norm_code(v text) returns text
language sql immutable parallel safe as $$
  select upper(msdw_fn.norm_text(v))
$$;

-- ---------------------------------------------------------------------------
-- dates: YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD, YYYY年M月D日 (month/day 1 or 2 digits)
-- canonical form: the integer YYYYMMDD (integer arithmetic is much cheaper
-- than string splitting); validity (month length, leap years) in date_from_int.
-- (earlier text-based versions, replaced)
drop function if exists msdw_fn.date_from_canon(text);
drop function if exists msdw_fn.ts_from_canon(text);
drop function if exists msdw_fn.date_canon(text);
drop function if exists msdw_fn.ts_canon(text);
drop function if exists msdw_fn.time_canon(text);

-- The common forms are recognised by their shape (every ASCII digit mapped to 0 by one
-- translate(): '0000-00-00' iff the value matches ^[0-9]{4}-[0-9]{2}-[0-9]{2}$), cheaper
-- than the regexes; the rarer forms by the regex. Pinned against an oracle of the contract's
-- forms by tests/integration/test_ingest_codes.py::test_date_and_time_parsing_follows_the_contract_forms.
create or replace function msdw_fn.date_int(v text) returns integer
language sql immutable parallel safe as $$
  select case translate(v, '0123456789', '0000000000')
    when '0000-00-00' then substr(v, 1, 4)::integer * 10000 + substr(v, 6, 2)::integer * 100 + substr(v, 9, 2)::integer
    when '0000/00/00' then substr(v, 1, 4)::integer * 10000 + substr(v, 6, 2)::integer * 100 + substr(v, 9, 2)::integer
    when '00000000' then v::integer
    else case when v ~ '^[0-9]{4}(-[0-9]{1,2}-[0-9]{1,2}|/[0-9]{1,2}/[0-9]{1,2}|年[0-9]{1,2}月[0-9]{1,2}日)$'
      then split_part(translate(v, '/年月日', '---'), '-', 1)::integer * 10000
         + split_part(translate(v, '/年月日', '---'), '-', 2)::integer * 100
         + split_part(translate(v, '/年月日', '---'), '-', 3)::integer
    end
  end
$$;

create or replace function msdw_fn.ymd_ok(y integer, m integer, d integer) returns boolean
language sql immutable parallel safe as $$
  select y between 1 and 9999 and m between 1 and 12
     and d between 1 and case
       when m = 2 then 28 + case when (y % 4 = 0 and y % 100 <> 0) or y % 400 = 0 then 1 else 0 end
       else 30 + ((m + m / 8) % 2)
     end
$$;

create or replace function msdw_fn.date_from_int(n integer) returns date
language sql immutable parallel safe as $$
  select case when msdw_fn.ymd_ok(n / 10000, n / 100 % 100, n % 100) then make_date(n / 10000, n / 100 % 100, n % 100) end
$$;

-- One-call convenience (ad-hoc SQL, dbt); the loader uses the two steps above.
create or replace function msdw_fn.parse_date(v text) returns date
language sql immutable parallel safe as $$
  select msdw_fn.date_from_int(msdw_fn.date_int(msdw_fn.norm_text(v)))
$$;

-- ---------------------------------------------------------------------------
-- timestamps: a date as above, optionally followed by ' HH:MM' or ' HH:MM:SS'
-- (a date alone means midnight). canonical form: the bigint YYYYMMDDHHMISS
create or replace function msdw_fn.time_int(t text) returns integer
language sql immutable parallel safe as $$
  select case translate(t, '0123456789', '0000000000')
    when '00:00' then substr(t, 1, 2)::integer * 10000 + substr(t, 4, 2)::integer * 100
    when '0:00' then substr(t, 1, 1)::integer * 10000 + substr(t, 3, 2)::integer * 100
    when '00:00:00' then substr(t, 1, 2)::integer * 10000 + substr(t, 4, 2)::integer * 100 + substr(t, 7, 2)::integer
    when '0:00:00' then substr(t, 1, 1)::integer * 10000 + substr(t, 3, 2)::integer * 100 + substr(t, 6, 2)::integer
  end
$$;

create or replace function msdw_fn.ts_int(v text) returns bigint
language sql immutable parallel safe as $$
  select msdw_fn.date_int(split_part(v, ' ', 1))::bigint * 1000000
       + case when strpos(v, ' ') = 0 then 0 else msdw_fn.time_int(substr(v, strpos(v, ' ') + 1)) end
$$;

create or replace function msdw_fn.ts_from_int(n bigint) returns timestamp
language sql immutable parallel safe as $$
  select case
    when n / 10000 % 100 <= 23 and n / 100 % 100 <= 59 and n % 100 <= 59
      then msdw_fn.date_from_int((n / 1000000)::integer)
           + make_interval(hours => (n / 10000 % 100)::integer, mins => (n / 100 % 100)::integer,
                           secs => (n % 100)::double precision)
  end
$$;

create or replace function msdw_fn.parse_timestamp(v text) returns timestamp
language sql immutable parallel safe as $$
  select msdw_fn.ts_from_int(msdw_fn.ts_int(msdw_fn.norm_text(v)))
$$;

-- ---------------------------------------------------------------------------
-- amounts: plain decimals, optionally with thousands separators (1,234,567.89)
create or replace function msdw_fn.numeric_canon(v text) returns text
language sql immutable parallel safe as $$
  select case
    when v ~ '^[+-]?([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.[0-9]+)?$' then replace(v, ',', '')
    when v ~ '^[+-]?\.[0-9]+$' then v
  end
$$;

create or replace function msdw_fn.parse_numeric(v text) returns numeric
language sql immutable parallel safe as $$
  select msdw_fn.numeric_canon(msdw_fn.norm_text(v))::numeric
$$;

-- integers: optional sign, at most 9 digits (no overflow of integer), thousands separators allowed
create or replace function msdw_fn.int_canon(v text) returns text
language sql immutable parallel safe as $$
  select case
    when v ~ '^[+-]?[0-9]{1,9}$' then v
    when v ~ '^[+-]?[0-9]{1,3}(,[0-9]{3}){1,2}$' then replace(v, ',', '')
  end
$$;

create or replace function msdw_fn.parse_int(v text) returns integer
language sql immutable parallel safe as $$
  select msdw_fn.int_canon(msdw_fn.norm_text(v))::integer
$$;

-- booleans: 是/否 (and the usual Y/N, TRUE/FALSE, 1/0 of exports); expects a normalised value
create or replace function msdw_fn.to_bool(v text) returns boolean
language sql immutable parallel safe as $$
  select case upper(v)
    when '是' then true when 'Y' then true when 'YES' then true when 'TRUE' then true when '1' then true
    when '否' then false when 'N' then false when 'NO' then false when 'FALSE' then false when '0' then false
  end
$$;

-- ---------------------------------------------------------------------------
-- 统一社会信用代码 (GB 32100-2015). Format (R): 18 chars of the 31-char alphabet,
-- positions 3-8 digits. Check (W): exactly python-stdnum's stdnum.cn.uscc.is_valid
-- on a normalised value (first 8 digits, check char from weights 3^(i-1) mod 31);
-- equivalence is proven by tests/integration/test_ingest_codes.py.
-- A regex (1.0-1.3 us a row in stage 1, bench/ingest_checks.py): the same test by shape, two
-- translate() calls over the 31-character alphabet, cost 2.0-2.1 us. Pinned by
-- tests/integration/test_ingest_codes.py::test_uscc_format_sql_equals_the_pattern.
create or replace function msdw_fn.uscc_format_ok(v text) returns boolean
language sql immutable parallel safe as $$
  select v ~ '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$'
$$;

-- b = convert_to(v, 'UTF8'), computed once per row by the validation statement:
-- get_byte() + a constant lookup array is several times cheaper than
-- substr()/strpos() per character (no allocation per character). The arrays
-- also validate: a byte that is not a digit (positions 1-8) or not in the
-- alphabet (9-18) looks up NULL, so the comparison is NULL and coalesce() says
-- false; with exactly 18 bytes that is the format ^[0-9]{8}[0-9A-HJ-NPQRTUWXY]{10}$
-- without a regex (0.5 µs a row less, bench/ingest_checks.py).
create or replace function msdw_fn.uscc_check_ok(v text, b bytea) returns boolean
language sql immutable parallel safe as $$
  select case when octet_length(b) = 18 then coalesce(
    (31 - (
        ('[48:57]={0,1,2,3,4,5,6,7,8,9}'::integer[])[get_byte(b, 0)] * 1 + ('[48:57]={0,1,2,3,4,5,6,7,8,9}'::integer[])[get_byte(b, 1)] * 3 + ('[48:57]={0,1,2,3,4,5,6,7,8,9}'::integer[])[get_byte(b, 2)] * 9
          + ('[48:57]={0,1,2,3,4,5,6,7,8,9}'::integer[])[get_byte(b, 3)] * 27 + ('[48:57]={0,1,2,3,4,5,6,7,8,9}'::integer[])[get_byte(b, 4)] * 19 + ('[48:57]={0,1,2,3,4,5,6,7,8,9}'::integer[])[get_byte(b, 5)] * 26
          + ('[48:57]={0,1,2,3,4,5,6,7,8,9}'::integer[])[get_byte(b, 6)] * 16 + ('[48:57]={0,1,2,3,4,5,6,7,8,9}'::integer[])[get_byte(b, 7)] * 17 + ('[48:89]={0,1,2,3,4,5,6,7,8,9,NULL,NULL,NULL,NULL,NULL,NULL,NULL,10,11,12,13,14,15,16,17,NULL,18,19,20,21,22,NULL,23,24,25,NULL,26,27,NULL,28,29,30}'::integer[])[get_byte(b, 8)] * 20
          + ('[48:89]={0,1,2,3,4,5,6,7,8,9,NULL,NULL,NULL,NULL,NULL,NULL,NULL,10,11,12,13,14,15,16,17,NULL,18,19,20,21,22,NULL,23,24,25,NULL,26,27,NULL,28,29,30}'::integer[])[get_byte(b, 9)] * 29 + ('[48:89]={0,1,2,3,4,5,6,7,8,9,NULL,NULL,NULL,NULL,NULL,NULL,NULL,10,11,12,13,14,15,16,17,NULL,18,19,20,21,22,NULL,23,24,25,NULL,26,27,NULL,28,29,30}'::integer[])[get_byte(b, 10)] * 25 + ('[48:89]={0,1,2,3,4,5,6,7,8,9,NULL,NULL,NULL,NULL,NULL,NULL,NULL,10,11,12,13,14,15,16,17,NULL,18,19,20,21,22,NULL,23,24,25,NULL,26,27,NULL,28,29,30}'::integer[])[get_byte(b, 11)] * 13
          + ('[48:89]={0,1,2,3,4,5,6,7,8,9,NULL,NULL,NULL,NULL,NULL,NULL,NULL,10,11,12,13,14,15,16,17,NULL,18,19,20,21,22,NULL,23,24,25,NULL,26,27,NULL,28,29,30}'::integer[])[get_byte(b, 12)] * 8 + ('[48:89]={0,1,2,3,4,5,6,7,8,9,NULL,NULL,NULL,NULL,NULL,NULL,NULL,10,11,12,13,14,15,16,17,NULL,18,19,20,21,22,NULL,23,24,25,NULL,26,27,NULL,28,29,30}'::integer[])[get_byte(b, 13)] * 24 + ('[48:89]={0,1,2,3,4,5,6,7,8,9,NULL,NULL,NULL,NULL,NULL,NULL,NULL,10,11,12,13,14,15,16,17,NULL,18,19,20,21,22,NULL,23,24,25,NULL,26,27,NULL,28,29,30}'::integer[])[get_byte(b, 14)] * 10
          + ('[48:89]={0,1,2,3,4,5,6,7,8,9,NULL,NULL,NULL,NULL,NULL,NULL,NULL,10,11,12,13,14,15,16,17,NULL,18,19,20,21,22,NULL,23,24,25,NULL,26,27,NULL,28,29,30}'::integer[])[get_byte(b, 15)] * 30 + ('[48:89]={0,1,2,3,4,5,6,7,8,9,NULL,NULL,NULL,NULL,NULL,NULL,NULL,10,11,12,13,14,15,16,17,NULL,18,19,20,21,22,NULL,23,24,25,NULL,26,27,NULL,28,29,30}'::integer[])[get_byte(b, 16)] * 28
    ) % 31) % 31 = ('[48:89]={0,1,2,3,4,5,6,7,8,9,NULL,NULL,NULL,NULL,NULL,NULL,NULL,10,11,12,13,14,15,16,17,NULL,18,19,20,21,22,NULL,23,24,25,NULL,26,27,NULL,28,29,30}'::integer[])[get_byte(b, 17)],
    false) else false end
$$;

create or replace function msdw_fn.uscc_check_ok(v text) returns boolean
language sql immutable parallel safe as $$
  select msdw_fn.uscc_check_ok(v, convert_to(v, 'UTF8'))
$$;

-- ---------------------------------------------------------------------------
-- 居民身份证号 (GB 11643): the part of stdnum.cn.ric.is_valid that needs no data:
-- 17 digits + check char (digit or X) and a valid birth date (positions 7-14).
-- The birth-place part (GB/T 2260 code valid in the birth year) is checked by the
-- loader against python-stdnum's own table (cn/loc), passed per load.
create or replace function msdw_fn.ric_core_ok(v text, b bytea) returns boolean
language sql immutable parallel safe as $$
  select case when v ~ '^[0-9]{17}[0-9X]$' then
    substr('0123456789X', ((1 - (
        (get_byte(b, 0) - 48) * 7 + (get_byte(b, 1) - 48) * 9 + (get_byte(b, 2) - 48) * 10 + (get_byte(b, 3) - 48) * 5 + (get_byte(b, 4) - 48) * 8 + (get_byte(b, 5) - 48) * 4
      + (get_byte(b, 6) - 48) * 2 + (get_byte(b, 7) - 48) * 1 + (get_byte(b, 8) - 48) * 6 + (get_byte(b, 9) - 48) * 3 + (get_byte(b, 10) - 48) * 7 + (get_byte(b, 11) - 48) * 9
      + (get_byte(b, 12) - 48) * 10 + (get_byte(b, 13) - 48) * 5 + (get_byte(b, 14) - 48) * 8 + (get_byte(b, 15) - 48) * 4 + (get_byte(b, 16) - 48) * 2
    )) % 11 + 11) % 11 + 1, 1) = substr(v, 18, 1)
    and msdw_fn.ymd_ok(substr(v, 7, 4)::integer, substr(v, 11, 2)::integer, substr(v, 13, 2)::integer)
  else false end
$$;

create or replace function msdw_fn.ric_core_ok(v text) returns boolean
language sql immutable parallel safe as $$
  select msdw_fn.ric_core_ok(v, convert_to(v, 'UTF8'))
$$;

-- ---------------------------------------------------------------------------
-- 行业代码 (GB/T 4754-2017): the 门类 letter of a 2-digit 大类 (NULL if none)
create or replace function msdw_fn.industry_section(division integer) returns text
language sql immutable parallel safe as $$
  -- 门类 of each 大类 01-97 (A 01-05, B 06-12, C 13-43, D 44-46, E 47-50, F 51-52, G 53-60,
  -- H 61-62, I 63-65, J 66-69, K 70, L 71-72, M 73-75, N 76-79, O 80-82, P 83, Q 84-85,
  -- R 86-90, S 91-96, T 97): one subscript of a constant array, NULL outside 1-97
  select ('[1:97]={A,A,A,A,A,B,B,B,B,B,B,B,C,C,C,C,C,C,C,C,C,C,C,C,C,C,C,C,C,C,C,C,C,C,C,C,C,C,C,C,C,C,C,D,D,D,E,E,E,E,F,F,G,G,G,G,G,G,G,G,H,H,I,I,I,J,J,J,J,K,L,L,M,M,M,N,N,N,N,O,O,O,P,Q,Q,R,R,R,R,R,S,S,S,S,S,S,T}'::text[])[division]
$$;

-- 4-digit 小类, optionally led by its own 门类 letter (F5292)
-- 4 digits, or the section letter + 4 digits: a value of 4 or 5 bytes whose digit part is
-- empty after ltrim() of the ASCII digits (cheaper than a regex);
-- the nested CASE keeps the integer cast behind that test. Never NULL for a value (a letter
-- before an unknown 大类, A0012, is false: the regex form said NULL and so never flagged it).
-- Checked on every 4-digit string and every letter + 4 digits (tests/integration/test_ingest_codes.py).
create or replace function msdw_fn.industry_code_ok(v text) returns boolean
language sql immutable parallel safe as $$
  select case octet_length(v)
    when 4 then case when ltrim(v, '0123456789') = ''
      then msdw_fn.industry_section(substr(v, 1, 2)::integer) is not null else false end
    when 5 then case when ltrim(substr(v, 2), '0123456789') = ''
      then coalesce(msdw_fn.industry_section(substr(v, 2, 2)::integer) = substr(v, 1, 1), false) else false end
    else false
  end
$$;

-- ---------------------------------------------------------------------------
-- privileges: the loader (and dbt) may call the helpers. (The loader's grant on
-- the audit sequence is in msdw/ingest/sql/loader_grants.sql: that table is
-- created by 20_audit.sql, after this file.)
grant usage on schema msdw_fn to msdw_loader, msdw_transformer;
grant execute on all functions in schema msdw_fn to msdw_loader, msdw_transformer;
