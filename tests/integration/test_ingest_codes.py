"""The SQL check-digit rules are python-stdnum, proven on >= 10,000 random valid and invalid codes each.

python-stdnum is the oracle (docs/contracts/domain.md#uscc: a maintained library, not hand-written code);
the warehouse evaluates the same rules set-based in SQL (rules.sql.j2 +
15_ingest_functions.sql), so the two must agree on every value.
"""

from __future__ import annotations

import datetime as dt
import random

import psycopg
import pytest
from stdnum.cn import ric, uscc

from msdw.ingest import loader, refs, validate

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
NOISE = ALPHABET + "IOSVZ-*中"
N = 12_000


def _uscc_samples(rng: random.Random) -> list[str]:
    out = []
    for i in range(N):
        body = "".join(rng.choice("0123456789") for _ in range(8)) + "".join(rng.choice(ALPHABET) for _ in range(9))
        code = body + uscc.calc_check_digit(body + "0")
        kind = i % 6
        if kind == 1:  # wrong check character
            code = body + rng.choice([c for c in ALPHABET if c != code[-1]])
        elif kind == 2:  # one character replaced by anything
            p = rng.randrange(18)
            code = code[:p] + rng.choice(NOISE) + code[p + 1 :]
        elif kind == 3:  # letters in positions 1-2 (valid format, stdnum requires digits)
            code = rng.choice("ANY") + code[1:]
        elif kind == 4:  # wrong length
            code = code[: rng.choice([0, 1, 17])] if rng.random() < 0.5 else code + rng.choice(ALPHABET)
        out.append(code)
    return out


def _ric_samples(rng: random.Random) -> list[str]:
    regions = refs.ric_regions()
    out = []
    for i in range(N):
        code, y0, y1 = rng.choice(regions)
        lo, hi = max(y0, 1900), min(y1, 2024)
        year = rng.randint(lo, hi) if lo <= hi else rng.randint(1900, 2024)
        day = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
        body = code + day.strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
        number = body + ric.calc_check_digit(body + "0")
        kind = i % 7
        if kind == 1:
            number = body + rng.choice([c for c in "0123456789X" if c != number[-1]])
        elif kind == 2:  # impossible birth date
            body = code + f"{year}0230" + f"{rng.randrange(1000):03d}"
            number = body + ric.calc_check_digit(body + "0")
        elif kind == 3:  # random region (often unknown, or a province without county)
            body = f"{rng.randrange(10**6):06d}" + body[6:]
            number = body + ric.calc_check_digit(body + "0")
        elif kind == 4:  # birth year outside the county's validity
            body = code + f"{rng.choice([1901, 1950, 1985, 2023])}0615" + f"{rng.randrange(1000):03d}"
            number = body + ric.calc_check_digit(body + "0")
        elif kind == 5:
            p = rng.randrange(18)
            number = number[:p] + rng.choice("0123456789XA") + number[p + 1 :]
        out.append(number)
    return out


def _stdnum_ric(number: str) -> bool:
    try:
        return ric.is_valid(number)
    except KeyError:  # stdnum bug: a province with no such county raises KeyError('county')
        return False


def _sql_fails(dsn: str, rule: str, values: list[str]) -> dict[str, bool]:
    """Evaluate the rule macro of rules.sql.j2 exactly as the loader does, over all values at once."""
    chk = validate.Check(field="x", header="x", type="code", rule=rule, level="W")
    tmpl = validate._ENV.from_string(
        "{% import 'rules.sql.j2' as rules %}"
        'select "n:x", coalesce({{ rules["rule_" ~ chk.rule](chk, "fails") }}, false) '
        'from (select v as "n:x", convert_to(v, \'UTF8\') as "b:x" from unnest(%(values)s::text[]) v) s'
    )
    with psycopg.connect(dsn) as conn:
        cur = conn.cursor()
        if rule == "ric_check":
            loader._load_ric_regions(cur)
        return {v: bool(f) for v, f in cur.execute(tmpl.render(chk=chk), {"values": values}).fetchall()}


@pytest.mark.slow
def test_uscc_check_sql_equals_stdnum(warehouse_env):
    values = _uscc_samples(random.Random(20240508))
    fails = _sql_fails(warehouse_env, "uscc_check", [v for v in values if v])
    valid = sum(uscc.is_valid(v) for v in values)
    assert valid > N // 5 and N - valid > N // 2
    for v in values:
        if v:
            assert fails[v] == (not uscc.is_valid(v)), v


def test_uscc_format_sql_equals_the_pattern(warehouse_env):
    """GB 32100 format: 18 characters of the 31-character alphabet, positions 3-8 digits."""
    import re

    values = [v for v in _uscc_samples(random.Random(32100)) if v]
    values += [v.lower() for v in values[:500]] + ["AA" + v[2:] for v in values[:500]] + ["9133010" + "中" + v[8:] for v in values[:50]]
    fails = _sql_fails(warehouse_env, "uscc_format", values)
    pattern = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}", flags=re.ASCII)
    wrong = [v for v in values if fails[v] == bool(pattern.fullmatch(v))]
    assert not wrong, wrong[:10]
    assert 0.3 < sum(bool(pattern.fullmatch(v)) for v in values) / len(values) < 0.9  # both outcomes, often


@pytest.mark.slow
def test_ric_check_sql_equals_stdnum(warehouse_env):
    values = _ric_samples(random.Random(11010519))
    fails = _sql_fails(warehouse_env, "ric_check", values)
    valid = sum(_stdnum_ric(v) for v in values)
    assert valid > N // 5 and N - valid > N // 3
    for v in values:
        assert fails[v] == (not _stdnum_ric(v)), v


# GB/T 4754-2017 门类 of each 大类 (an oracle independent of msdw_fn.industry_section)
SECTIONS = [("A", 1, 5), ("B", 6, 12), ("C", 13, 43), ("D", 44, 46), ("E", 47, 50), ("F", 51, 52), ("G", 53, 60),
            ("H", 61, 62), ("I", 63, 65), ("J", 66, 69), ("K", 70, 70), ("L", 71, 72), ("M", 73, 75), ("N", 76, 79),
            ("O", 80, 82), ("P", 83, 83), ("Q", 84, 85), ("R", 86, 90), ("S", 91, 96), ("T", 97, 97)]


def _industry_ok(v: str) -> bool:
    import re

    m = re.fullmatch(r"([A-T]?)([0-9]{2})[0-9]{2}", v, flags=re.ASCII)
    if not m:
        return False
    section = next((s for s, lo, hi in SECTIONS if lo <= int(m.group(2)) <= hi), None)
    return section is not None and m.group(1) in ("", section)


@pytest.mark.slow
def test_industry_code_sql_equals_the_classification_on_every_code(warehouse_env):
    """Every 4-digit string, every letter (A-Z, a) + 4 digits, and odd values: the loader's rule
    says exactly what the classification says (an empty value: test_ingest_load.py's
    test_a_rule_never_fails_on_an_empty_value)."""
    digits4 = [f"{i:04d}" for i in range(10_000)]
    values = digits4 + [p + d for p in "ABCDEFGHIJKLMNOPQRSTUVWXYZa" for d in digits4]
    values += ["123", "12345", "0a12", "12 3", "１２３４", "F５２９２", "中123", "A中12", "5292中", "F52921", "-123"]
    fails = _sql_fails(warehouse_env, "industry_code", values)
    wrong = [v for v in values if fails[v] == _industry_ok(v)]
    assert not wrong, wrong[:20]
    assert sum(_industry_ok(v) for v in values) == 9_700 * 2


def _date_oracle(v: str) -> int | None:
    """The contract's date forms (docs/contracts/delivery.md#file-format): YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD, YYYY年M月D日, month and
    day of one or two digits with - or / (validity of the day is date_from_int's job)."""
    import re

    if re.fullmatch(r"[0-9]{8}", v, flags=re.ASCII):
        return int(v)
    m = (re.fullmatch(r"([0-9]{4})([-/])([0-9]{1,2})\2([0-9]{1,2})", v, flags=re.ASCII)
         or re.fullmatch(r"([0-9]{4})(年)([0-9]{1,2})月([0-9]{1,2})日", v, flags=re.ASCII))
    return int(m.group(1)) * 10000 + int(m.group(3)) * 100 + int(m.group(4)) if m else None


def _time_oracle(t: str) -> int | None:
    import re

    m = re.fullmatch(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?", t, flags=re.ASCII)
    return int(m.group(1)) * 10000 + int(m.group(2)) * 100 + int(m.group(3) or 0) if m else None


def _date_time_samples(rng: random.Random) -> list[str]:
    noise = "0123456789-/: 年月日中aX１٣"
    out = []
    for _ in range(N):
        y, m, d = rng.randint(1900, 2099), rng.randint(0, 13), rng.randint(0, 32)
        date = rng.choice([f"{y}-{m:02d}-{d:02d}", f"{y}/{m:02d}/{d:02d}", f"{y}{m:02d}{d:02d}", f"{y}年{m}月{d}日",
                           f"{y}-{m}-{d}", f"{y}/{m}/{d}", f"{y}-{m:02d}/{d:02d}", f"{y}年{m:02d}月{d:02d}日"])
        time = rng.choice([f"{rng.randint(0, 29)}:{rng.randint(0, 69):02d}", f"{rng.randint(0, 29):02d}:{rng.randint(0, 69):02d}",
                           f"{rng.randint(0, 9)}:{rng.randint(0, 69):02d}:{rng.randint(0, 69):02d}",
                           f"{rng.randint(0, 29):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 69):02d}"])
        for v in (date, time):
            kind = rng.randrange(4)
            if kind == 1 and v:  # one character replaced
                p = rng.randrange(len(v))
                v = v[:p] + rng.choice(noise) + v[p + 1:]
            elif kind == 2:  # one character inserted or dropped
                p = rng.randrange(len(v) + 1)
                v = v[:p] + rng.choice(noise) + v[p:] if rng.random() < 0.5 else v[:p] + v[p + 1:]
            out.append(v)
        out.append(f"{out[-2]} {out[-1]}")
    return out


def test_date_and_time_parsing_follows_the_contract_forms(warehouse_env):
    """msdw_fn.date_int / time_int / ts_int (the loader's canonical forms) against an oracle of the
    contract's forms, on valid, mutated and out-of-range values of every form."""
    values = _date_time_samples(random.Random(20250508))
    with psycopg.connect(warehouse_env) as conn:
        got = conn.execute("select v, msdw_fn.date_int(v), msdw_fn.time_int(v), msdw_fn.ts_int(v) "
                           "from unnest(%s::text[]) v", (values,)).fetchall()
    wrong = []
    for v, d, t, ts in got:
        date_part, _, time_part = v.partition(" ")
        expect_ts = None
        if _date_oracle(date_part) is not None:
            if not _:
                expect_ts = _date_oracle(date_part) * 1_000_000
            elif _time_oracle(time_part) is not None:
                expect_ts = _date_oracle(date_part) * 1_000_000 + _time_oracle(time_part)
        if (d, t, ts) != (_date_oracle(v), _time_oracle(v), expect_ts):
            wrong.append((v, (d, t, ts), (_date_oracle(v), _time_oracle(v), expect_ts)))
    assert not wrong, wrong[:10]
    assert sum(_date_oracle(v) is not None for v in values) > N // 2  # not vacuous: most dates parse
    assert sum(_time_oracle(v) is not None for v in values) > N // 2
