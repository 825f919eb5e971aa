"""Reports for readers outside the data team: the bureau's monthly work report from the published marts."""

from msdw.reporting.work_report import build_work_report, render_work_report, report_context

__all__ = ["build_work_report", "render_work_report", "report_context"]
