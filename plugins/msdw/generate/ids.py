"""Identifiers with valid check characters: USCC (GB 32100), 组织机构代码 (GB 11714), 身份证号 (GB 11643).

The check digits are those of python-stdnum (``stdnum.cn.uscc``,
``stdnum.cn.ric``), the library the loader validates with. ``stdnum``'s USCC
``calc_check_digit`` costs ~20 µs a call (it re-compacts its input); a province
snapshot needs ~6 million codes, so :func:`uscc_check_char` is a table-driven
equivalent of the same weighted sum, and :func:`_self_check` proves it equal
to stdnum on import (the tests prove it again on generated codes).
"""

from __future__ import annotations

import stdnum.cn.ric
import stdnum.cn.uscc

# GB 32100 alphabet: no I, O, S, V, Z (docs/contracts/domain.md#uscc-alphabet)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# per position: char -> value * weight (mod 31)
_USCC_TABLE = tuple({c: (i * w) % 31 for i, c in enumerate(USCC_ALPHABET)} for w in _USCC_WEIGHTS)

# GB 11714: values 0-9, A=10 … Z=35 (a different table from the USCC one, docs/contracts/domain.md#org-code)
_ORG_VALUES = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def uscc_check_char(body17: str) -> str:
    """Check character of a 17-character USCC body (same result as stdnum.cn.uscc.calc_check_digit)."""
    t = _USCC_TABLE
    s = 0
    for i, c in enumerate(body17):
        s += t[i][c]
    return USCC_ALPHABET[(31 - s) % 31]


_ORG_TABLE = tuple({c: v * w for c, v in _ORG_VALUES.items()} for w in _ORG_WEIGHTS)
_ORG_CHECK = tuple("X" if r == 10 else "0" if r == 11 else str(r) for r in (11 - m for m in range(11)))


def org_check_char(body8: str) -> str:
    """GB 11714 check character of an 8-character 组织机构代码 body."""
    t = _ORG_TABLE
    s = (t[0][body8[0]] + t[1][body8[1]] + t[2][body8[2]] + t[3][body8[3]]
         + t[4][body8[4]] + t[5][body8[5]] + t[6][body8[6]] + t[7][body8[7]])
    return _ORG_CHECK[s % 11]


_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # org-code chars that are also valid USCC chars
_MOD3 = len(_ORG_ALPHABET) ** 3
_MOD6 = _MOD3 * _MOD3
_TRIPLES = tuple(a + b + c for a in _ORG_ALPHABET for b in _ORG_ALPHABET for c in _ORG_ALPHABET)


def org_body(index: int, salt: int, numeric: bool) -> str:
    """A unique 8-character 主体标识码 body for an entity index.

    ``numeric`` gives an old-style 8-digit code (entities registered before the
    2015 USCC reform), otherwise a new ``MA`` code. The affine maps are
    bijections, so distinct indexes never share a body.
    """
    if numeric:
        return f"{(index * 48_271 + salt * 7 + 10_000_000) % 100_000_000:08d}"
    hi, lo = divmod((index * 1_000_003 + salt * 7_919) % _MOD6, _MOD3)
    return "MA" + _TRIPLES[hi] + _TRIPLES[lo]


def make_uscc(prefix2: str, authority_region: str, body8: str) -> str:
    """A valid 18-character USCC: 登记管理部门+类别, 登记机关区划, 主体标识码 (+GB 11714 check), check char."""
    b = prefix2 + authority_region + body8 + org_check_char(body8)
    t = _USCC_TABLE
    head = _HEAD_SUMS.get(prefix2 + authority_region)
    if head is None:
        head = _HEAD_SUMS[prefix2 + authority_region] = sum(t[i][c] for i, c in enumerate(b[:8]))
    s = (head + t[8][b[8]] + t[9][b[9]] + t[10][b[10]] + t[11][b[11]] + t[12][b[12]]
         + t[13][b[13]] + t[14][b[14]] + t[15][b[15]] + t[16][b[16]])
    return b + USCC_ALPHABET[(31 - s) % 31]


_HEAD_SUMS: dict[str, int] = {}


def wrong_check(uscc: str) -> str:
    """The same code with a wrong (but well-formed) check character: fails only the W check."""
    good = uscc[-1]
    alt = USCC_ALPHABET[(USCC_ALPHABET.index(good) + 7) % 31]
    return uscc[:-1] + alt


def make_ric(region: str, birth: str, seq: int) -> str:
    """A valid 18-character 居民身份证号 (GB 11643); ``birth`` is YYYYMMDD, ``seq`` 0-999."""
    body = f"{region}{birth}{seq:03d}"
    return body + stdnum.cn.ric.calc_check_digit(body + "0")


def _self_check() -> None:
    for body in ("91350100M000100Y4", "91110000600037341", "91360727MA38QC805", "92330106MA2H1KX3Q"):
        if uscc_check_char(body) != stdnum.cn.uscc.calc_check_digit(body):
            raise AssertionError(f"USCC check table disagrees with python-stdnum for {body}")


_self_check()


def uscc_batch(prefixes: list[str], regions: list[str], cls, auth, index, numeric, salt: int) -> list[str]:
    """Vectorised :func:`make_uscc` for a block of entities (the opening register has millions).

    ``cls``/``auth``/``index``/``numeric`` are numpy arrays (class index into ``prefixes``,
    authority index into ``regions``, entity index, old-style numeric org code); same codes as
    ``make_uscc(prefixes[c], regions[a], org_body(i, salt, numeric))``.
    """
    import numpy as np

    n = len(index)
    idx = np.asarray(index, dtype=np.int64)
    out = np.zeros((n, 18), dtype=np.int64)  # values in the USCC alphabet
    pre = np.array([[USCC_ALPHABET.index(ch) for ch in p] for p in prefixes])[np.asarray(cls)]
    reg = np.array([[int(ch) for ch in r] for r in regions])[np.asarray(auth)]
    out[:, 0:2], out[:, 2:8] = pre, reg
    # 主体标识码: MA + 6 base-31 chars, or 8 digits
    v = (idx * 1_000_003 + salt * 7_919) % _MOD6
    body = np.zeros((n, 8), dtype=np.int64)
    body[:, 0], body[:, 1] = USCC_ALPHABET.index("M"), USCC_ALPHABET.index("A")
    for k in range(7, 1, -1):
        body[:, k] = v % 31
        v //= 31
    num = (idx * 48_271 + salt * 7 + 10_000_000) % 100_000_000
    numeric = np.asarray(numeric, dtype=bool)
    for k in range(7, -1, -1):
        body[numeric, k] = num[numeric] % 10
        num //= 10
    out[:, 8:16] = body
    # GB 11714 check over the org body (its own value table)
    to_org = np.array([_ORG_VALUES[ch] for ch in USCC_ALPHABET])
    s = (to_org[body] * np.array(_ORG_WEIGHTS)).sum(axis=1) % 11
    org_chk = np.array([USCC_ALPHABET.index(c) for c in _ORG_CHECK])[s]
    out[:, 16] = org_chk
    s = (out[:, :17] * np.array(_USCC_WEIGHTS)).sum(axis=1) % 31
    out[:, 17] = (31 - s) % 31
    ascii_codes = np.frombuffer(USCC_ALPHABET.encode("ascii"), dtype=np.uint8)[out]
    text = ascii_codes.astype(np.uint8).tobytes().decode("ascii")
    return [text[k * 18:(k + 1) * 18] for k in range(n)]
