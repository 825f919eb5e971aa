"""Sample-data generator: realistic daily deliveries of the four sources (demo, tests, load tests).

Public API::

    generate(out, start, end, profile="district", seed=0, defects=0.0, formats=("csv",), file_defects=())
    generate_feed_file(feed, path, rows, seed, business_date, fmt="csv")

Calibration lives in :mod:`msdw.generate.config`; reference values come from
the dbt seeds; headers, types and rules from :mod:`msdw.contracts`.
See ``docs/generator.md``.
"""

from msdw.generate.bulk import generate_feed_file
from msdw.generate.engine import GenerationSummary, generate

__all__ = ["GenerationSummary", "generate", "generate_feed_file"]
