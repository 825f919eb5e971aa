"""Suites and thresholds are consistent, masking hides personal data, the notifier never raises."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from msdw.contracts import all_feeds
from msdw.quality.config import LAYERS, load_suite, suite_paths
from msdw.quality.masking import mask_value
from msdw.quality.suites import raw_suite_document, render


@pytest.mark.parametrize("feed", [f.name for f in all_feeds()])
def test_raw_suites_are_in_sync_with_the_contracts(feed):
    path = suite_paths("raw")[[p.stem for p in suite_paths("raw")].index(feed)]
    assert path.read_text(encoding="utf-8") == render(raw_suite_document(next(f for f in all_feeds() if f.name == feed))), (
        f"{path} is stale: run `python -m msdw.quality.suites`")


def test_every_suite_parameter_is_defined():
    from msdw.quality import gate

    marts = gate._marts_parameters(None)
    wh = gate._warehouse_parameters()
    for layer in LAYERS:
        for path in suite_paths(layer):
            spec = load_suite(path)
            assert spec.relation.split(".")[0] in {"raw", "warehouse", "marts_candidate"}
            if layer == "warehouse":
                assert spec.parameter_names() <= wh.keys(), path
            if layer == "marts":
                assert spec.parameter_names() <= marts.keys(), path


def test_every_batch_subquery_in_a_join_query_has_an_alias():
    """GX substitutes ``{batch}`` with ``(SELECT ...) AS subselect``, but in a query containing a JOIN with
    an unaliased ``(SELECT ...)``: such a query must alias it, as PostgreSQL 15 refuses a subquery in FROM
    without an alias (16 accepts it); a query without a JOIN must not (the alias would be doubled)."""
    import re

    from msdw.quality.gate import JOIN_RE

    wrong = []
    for layer in LAYERS:
        for path in suite_paths(layer):
            for e in json.loads(path.read_text(encoding="utf-8"))["expectations"]:
                q = e.get("kwargs", {}).get("unexpected_rows_query")
                if not q:
                    continue
                aliased = re.findall(r"\{batch\}\s+as\s+\w", q)
                if len(aliased) != (q.count("{batch}") if JOIN_RE.search(q) else 0):
                    wrong.append(f"{path.name}: {e.get('description', '')[:60]}")
    assert not wrong, wrong


def test_gate_reads_both_shapes_of_gx_exception_info():
    from msdw.quality.gate import _exception_message

    assert _exception_message(None) is None
    assert _exception_message({"raised_exception": False, "exception_message": None}) is None
    assert _exception_message({"raised_exception": True, "exception_message": "boom"}) == "boom"
    nested = {"MetricConfigurationID(metric_name='unexpected_rows_query.row_count')": {
        "exception_traceback": "...", "exception_message": "subquery in FROM must have an alias"}}
    assert _exception_message(nested) == "subquery in FROM must have an alias"


def test_masking():
    assert mask_value("13812345678") == "138****5678"
    assert mask_value("投诉人电话13812345678") == "投诉人电话138****5678"
    assert mask_value("330106199001011234") == "330106********1234"
    assert mask_value("91330106MA2B0EXH2D", "uscc") == "91330106MA2B0EXH2D"  # a company code is not personal
    assert mask_value("张三", "legal_representative") == "张**"
    assert mask_value("王小明", "user_name") == "王**"
    assert mask_value({"complainant_hash": "ab12cd", "region_code": "330106"}) == {"complainant_hash": "a*****", "region_code": "330106"}


def test_notify_posts_json_and_never_raises(monkeypatch):
    got = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.handle_request, daemon=True).start()
    from msdw.notify import notify

    monkeypatch.setenv("MSDW_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{srv.server_port}/hook")
    assert notify("quality_gate_failed", "gate marts FAILED", gate="marts")["webhook"] is True
    assert got[0]["event"] == "quality_gate_failed" and got[0]["context"] == {"gate": "marts"}
    srv.server_close()
    monkeypatch.setenv("MSDW_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{srv.server_port}/gone")
    assert notify("x", "y") == {"log": True, "webhook": False, "email": False}


@pytest.mark.parametrize("n", [1, 2, 3, 7, 40, 333, 4999])
@pytest.mark.parametrize("share", [0.02, 0.05, 0.10])
def test_binomial_share_bound_is_the_exact_upper_quantile(n, share):
    from math import exp, lgamma, log

    from msdw.quality.gate import binomial_share_bound

    alpha = 0.001
    k = round(binomial_share_bound(n, share, alpha) * n)

    def pmf(j: int) -> float:
        return exp(lgamma(n + 1) - lgamma(j + 1) - lgamma(n - j + 1) + j * log(share) + (n - j) * log(1 - share))

    def tail(k: int) -> float:  # P(X > k)
        return sum(pmf(j) for j in range(k + 1, n + 1))

    assert tail(k) <= alpha + 1e-12
    assert k == 0 or tail(k - 1) > alpha


def test_binomial_share_bound_tends_to_the_share():
    from msdw.quality.gate import binomial_share_bound

    assert binomial_share_bound(0, 0.05, 0.001) == 1.0
    assert binomial_share_bound(1_000_000, 0.05, 0.001) == pytest.approx(0.05, abs=0.001)
    # no jump where the exact computation hands over to the normal approximation
    assert abs(binomial_share_bound(5000, 0.05, 0.001) - binomial_share_bound(5001, 0.05, 0.001)) < 0.001
