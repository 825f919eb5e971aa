"""Masking of example values written to the audit and the reports.

Gate results keep a few unexpected values so a person can see what went
wrong, but the audit is read by auditors who must not see personal data. So
examples are masked: values of personal-data columns (every ``pii`` column of
the contracts, the keyed pseudonyms, person-name columns) entirely, and
anything that looks like a mobile number or a 居民身份证号 wherever it appears.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from msdw.contracts import all_feeds

_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
# 6-digit area, birth date 19xx/20xx, 3-digit sequence, check char
_RIC = re.compile(r"(?<![0-9A-Za-z])(\d{6})((?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_PERSON_NAME = re.compile(r"^[\u4e00-\u9fff·]{2,4}$")
# columns whose short CJK values are likely people (个体工商户 operators, contacts)
_NAME_HINTS = ("name", "representative", "contact", "operator", "person")


@cache
def personal_columns() -> frozenset[str]:
    cols: set[str] = set()
    for f in all_feeds():
        cols.update(f.pii_fields)
        cols.update(p.field for p in f.pseudonyms)
    return frozenset(cols)


def mask_text(text: str) -> str:
    """Mask mobile numbers and ID numbers inside any text."""
    text = _RIC.sub(lambda m: m.group(1) + "********" + m.group(3)[-4:], text)
    return _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(3), text)


def mask_value(value: Any, column: str | None = None) -> Any:
    """A value safe to show an auditor (numbers, dates and codes pass unchanged)."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, dict):
        return {k: mask_value(v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_value(v, column) for v in value]
    text = str(value)
    col = (column or "").lower()
    if col in personal_columns():
        return text[:1] + "*" * max(len(text) - 1, 2) if text else text
    if any(h in col for h in _NAME_HINTS) and _PERSON_NAME.match(text):
        return text[:1] + "*" * (len(text) - 1)
    return mask_text(text)
