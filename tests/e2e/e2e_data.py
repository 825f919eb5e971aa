"""Constants of the end-to-end dataset (tests/e2e/conftest.py): its days and the marts checksum both paths compare."""

from __future__ import annotations

from datetime import date

# one business day (a Monday): every path runs through the same DAG code whatever the number of
# days, and each further day costs the scheduler path its 26 task processes (≈ 2 minutes on 2 cores)
START = END = date(2025, 3, 3)

MARTS_CHECKSUM = (
    "select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from ("
    " select indicator_code, period_month, region_code, breakdown_type, breakdown_value,"
    " value, numerator, denominator, ytd_value, ytd_numerator, ytd_denominator, as_of_date"
    " from marts.indicator_monthly) t"
)
