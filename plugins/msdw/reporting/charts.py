"""Charts of the work report: matplotlib (Agg) rendered to SVG for inlining in one HTML page.

Text is drawn as glyph paths (``svg.fonttype = 'path'``), so a browser needs
no font to show the Chinese labels — but matplotlib needs one to draw them.
``cjk_font()`` looks for one (fontconfig's ``fc-list :lang=zh``, installed on
Debian by the package ``fonts-noto-cjk``, see ``make system-deps``); without
it the charts fall back to English labels and numbered categories (the table
under each chart names them), so a missing font never breaks the report.
"""

from __future__ import annotations

import html
import io
import logging
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

log = logging.getLogger(__name__)

# Families tried in this order (Debian fonts-noto-cjk, then common alternatives)
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
                "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "PingFang SC", "AR PL UMing CN")
PALETTE = ("#1f5fa8", "#d9822b", "#2e8b57", "#b03a48", "#6a4c93", "#7f8c8d", "#c9a227", "#17a2b8")


@cache
def cjk_font() -> str | None:
    """Family name of an installed font that renders Chinese, or None.

    matplotlib's font cache may predate a font installed later, so fontconfig's
    list of Chinese-capable files is added to the font manager before giving up.
    """
    known = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return family
    if shutil.which("fc-list"):
        try:
            out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=30,
                                 check=False).stdout
        except (OSError, subprocess.SubprocessError) as exc:  # pragma: no cover - broken fontconfig
            log.warning("fc-list failed (%s); charts use English labels", exc)
            out = ""
        for line in out.splitlines():
            path = line.split(":", 1)[0].strip()
            if not path:
                continue
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError) as exc:  # unreadable or unsupported file
                log.debug("font %s not usable: %s", path, exc)
        known = {f.name for f in font_manager.fontManager.ttflist}
        for family in CJK_FAMILIES:
            if family in known:
                return family
        for name in sorted(known):
            if "CJK" in name or "Hei" in name or "Song" in name:
                return name
    log.warning("no font renders Chinese (install Debian package fonts-noto-cjk); charts use English labels")
    return None


@dataclass(frozen=True)
class Series:
    """One line of a trend chart: its label (zh and en) and (month, value) points."""

    label_zh: str
    label_en: str
    points: Sequence[tuple[date, Decimal | None]]


def _style(ax, font: str | None) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)


def _svg(fig, chart_id: str, label: str) -> str:
    """The figure as an ``<svg>`` element; ids prefixed with ``chart_id`` so several SVGs can share a page."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]  # drop the XML declaration and DOCTYPE: inline in HTML
    text = re.sub(r'\bid="([^"]+)"', rf'id="{chart_id}-\1"', text)
    text = re.sub(r'(href)="#([^"]+)"', rf'\1="#{chart_id}-\2"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{chart_id}-\1)", text)
    return text.replace("<svg ", f'<svg role="img" aria-label="{html.escape(label)}" ', 1)


def _rc(font: str | None) -> dict:
    rc = {"svg.fonttype": "path", "svg.hashsalt": "msdw-work-report", "font.size": 9, "axes.unicode_minus": False}
    if font:
        rc["font.family"] = [font, "DejaVu Sans"]
    return rc


def trend_chart(chart_id: str, title: tuple[str, str], series: Sequence[Series]) -> str:
    """Monthly values of one or more indicators, one panel each (their scales differ)."""
    font = cjk_font()
    with plt.rc_context(_rc(font)):
        fig, axes = plt.subplots(1, len(series), figsize=(4.2 * len(series), 2.8), squeeze=False)
        for i, (ax, s) in enumerate(zip(axes[0], series, strict=True)):
            xs = [f"{m.year % 100:02d}-{m.month:02d}" for m, _ in s.points]
            ys = [float(v) if v is not None else float("nan") for _, v in s.points]
            ax.plot(xs, ys, marker="o", markersize=3, color=PALETTE[i % len(PALETTE)])
            ax.set_title(s.label_zh if font else s.label_en)
            ax.tick_params(axis="x", labelrotation=45)
            ax.set_ylim(bottom=0)
            _style(ax, font)
        fig.tight_layout()  # the page's caption carries the overall title; panels keep their own
        return _svg(fig, chart_id, title[0])


def bar_chart(chart_id: str, title: tuple[str, str], labels: Sequence[str], values: Sequence[Decimal | None],
              horizontal: bool = True) -> str:
    """One bar per category; without a CJK font non-ASCII labels become their row numbers (1, 2, …)."""
    font = cjk_font()
    shown = [lbl if font or lbl.isascii() else str(i + 1) for i, lbl in enumerate(labels)]
    ys = [float(v) if v is not None else 0.0 for v in values]
    with plt.rc_context(_rc(font)):
        height = max(1.6, 0.32 * len(shown) + 0.8) if horizontal else 2.8
        fig, ax = plt.subplots(figsize=(6.0, height))
        if horizontal:
            ax.barh(shown[::-1], ys[::-1], color=PALETTE[0])
            ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        else:
            ax.bar(shown, ys, color=PALETTE[0])
            _style(ax, font)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_axisbelow(True)
        ax.set_title(title[0] if font else title[1])
        return _svg(fig, chart_id, title[0])
