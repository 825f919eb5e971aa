"""Human actions on the command line need a reason; msdw docs and report parse their options."""

from __future__ import annotations

from msdw.cli import EXIT_USAGE, build_parser, main


def test_a_restore_without_a_reason_is_refused_before_anything_happens(capsys):
    assert main(["publish", "--restore", "3", "--by", "张三"]) == EXIT_USAGE
    assert "--restore needs --reason" in capsys.readouterr().err


def test_docs_and_report_options():
    a = build_parser().parse_args(["docs", "--port", "0", "--no-generate", "--no-serve"])
    assert (a.port, a.no_generate, a.no_serve) == (0, True, True)
    a = build_parser().parse_args(["report", "--month", "2025-11", "--no-pdf"])
    assert a.no_pdf and a.month.isoformat() == "2025-11-01"
    a = build_parser().parse_args(["publish", "--restore", "7", "--reason", "回退核对", "--by", "李四"])
    assert (a.restore, a.reason, a.by) == (7, "回退核对", "李四")
