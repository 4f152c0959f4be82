"""Charts for the national report, drawn by matplotlib and returned as inline SVG text.

Every chart is drawn from the same small table the report prints beside it, so a number in a chart is
always also in a table. Text is drawn as paths (no font is needed to view the SVG) and the output is
deterministic: no date in the metadata, fixed hash salt. matplotlib is imported on first use only.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Sequence

# A small palette that stays readable in print and for common colour-vision deficiencies.
POOR = "#c0392b"
NEAR_POOR = "#e69f00"
COMBINED = "#0072b2"
MINORITY = "#009e73"
KINH = "#56b4e9"
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000", "#999999")

_ID = re.compile(r'\bid="([^"]+)"')
_REFERENCE = re.compile(r'(url\(#|href="#)([^")]+)')


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "svg.fonttype": "path",
        "svg.hashsalt": "lnob-report",
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.color": "#dddddd",
        "grid.linewidth": 0.6,
    })
    return plt


def _to_svg(figure, prefix: str) -> str:
    """The figure as an <svg> element for inline use, every id prefixed so that figures never collide."""
    plt = _pyplot()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(figure)
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    text = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', text)
    text = _REFERENCE.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", text)
    return text.replace("<svg ", f'<svg role="img" aria-labelledby="{prefix}-title" ', 1).replace(
        ">", f'><title id="{prefix}-title">{_escape(figure_title(figure))}</title>', 1)


def figure_title(figure) -> str:
    return getattr(figure, "_lnob_title", "")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _new(title: str, size: tuple[float, float]):
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=size, layout="constrained")
    figure._lnob_title = title
    axes.set_title(title, loc="left", fontsize=10)
    return figure, axes


def line_chart(prefix: str, title: str, x_values: Sequence[int], series: Sequence[tuple[str, Sequence]],
               y_label: str, colors: Sequence[str] | None = None) -> str:
    """One line per series over the years; missing values (None) leave a gap."""
    figure, axes = _new(title, (9.6, 3.6))
    colors = colors or PALETTE
    for index, (label, values) in enumerate(series):
        points = [(x, y) for x, y in zip(x_values, values, strict=True)]
        axes.plot([x for x, _ in points], [float("nan") if y is None else y for _, y in points],
                  marker="o", label=label, color=colors[index % len(colors)], linewidth=1.8)
    axes.set_xticks(list(x_values), [str(x) for x in x_values])
    axes.set_ylabel(y_label)
    axes.set_ylim(bottom=0)
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    return _to_svg(figure, prefix)


def grouped_bars(prefix: str, title: str, categories: Sequence[str], series: Sequence[tuple[str, Sequence]],
                 y_label: str, colors: Sequence[str] | None = None, value_format: str = "{:.2f}") -> str:
    """Vertical bars, one group per category, one bar per series; a missing value draws no bar."""
    figure, axes = _new(title, (9.6, 3.6))
    colors = colors or PALETTE
    width = 0.8 / max(len(series), 1)
    for index, (label, values) in enumerate(series):
        positions = [i + (index - (len(series) - 1) / 2) * width for i in range(len(categories))]
        heights = [0.0 if v is None else v for v in values]
        bars = axes.bar(positions, heights, width=width * 0.95, label=label, color=colors[index % len(colors)])
        # Values are written on the bars only while they stay legible; the table always has them.
        for bar, value in zip(bars, values, strict=True):
            if value is not None and len(categories) * len(series) <= 16:
                axes.annotate(value_format.format(value), (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                              ha="center", va="bottom", fontsize=7, xytext=(0, 1), textcoords="offset points")
    axes.set_xticks(range(len(categories)), [textwrap.fill(str(c), 16) for c in categories], fontsize=8)
    axes.set_ylabel(y_label)
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    return _to_svg(figure, prefix)


def horizontal_bars(prefix: str, title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence]],
                    x_label: str, stacked: bool = False, colors: Sequence[str] | None = None) -> str:
    """Horizontal bars, first label at the top; stacked or side by side."""
    figure, axes = _new(title, (9.6, max(2.4, 0.26 * len(labels) * (1 if stacked else max(1, len(series)) * 0.7)
                                         + 1.2)))
    colors = colors or PALETTE
    count = len(labels)
    rows = list(range(count))[::-1]
    left = [0.0] * count
    height = 0.8 if stacked else 0.8 / max(len(series), 1)
    for index, (label, values) in enumerate(series):
        widths = [0.0 if v is None else v for v in values]
        if stacked:
            axes.barh(rows, widths, left=left, height=height, label=label, color=colors[index % len(colors)])
            left = [a + b for a, b in zip(left, widths, strict=True)]
        else:
            offset = (index - (len(series) - 1) / 2) * height
            axes.barh([r - offset for r in rows], widths, height=height * 0.95, label=label,
                      color=colors[index % len(colors)])
    axes.set_yticks(rows, list(labels), fontsize=8)
    axes.set_xlabel(x_label)
    axes.grid(axis="y", visible=False)
    axes.legend(loc="lower right", frameon=False, fontsize=8)
    return _to_svg(figure, prefix)
