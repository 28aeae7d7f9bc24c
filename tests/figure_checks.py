"""What the figure tests read off a drawn figure: its lines, baselines and legend entries."""

import os
from pathlib import Path

from matplotlib.figure import Figure

PREVIEW_DIR = os.environ.get("SSLGEOM_PLOTS_PREVIEW")


def labelled_lines(ax) -> list[str]:
    """Labels of the legend-worthy data lines drawn in ``ax`` (baselines excluded)."""
    return [
        line.get_label()
        for line in ax.lines
        if not line.get_label().startswith("_") and line not in reference_lines(ax)
    ]


def reference_lines(ax) -> list:
    """Dotted horizontal baselines drawn by :func:`sslgeom.figures.style.draw_reference_line`."""
    return [line for line in ax.lines if line.get_linestyle() == ":"]


def legend_texts(fig: Figure) -> list[str]:
    """Entries of the figure legend."""
    return [text.get_text() for legend in fig.legends for text in legend.get_texts()]


def line_by_label(ax, label: str):
    """The data line of ``ax`` with that label."""
    (line,) = [line for line in ax.lines if line.get_label() == label]
    return line


def preview(fig: Figure, name: str) -> None:
    """Save a PNG for visual inspection when SSLGEOM_PLOTS_PREVIEW names a folder."""
    if PREVIEW_DIR:
        Path(PREVIEW_DIR).mkdir(parents=True, exist_ok=True)
        fig.savefig(Path(PREVIEW_DIR) / f"{name}.png", dpi=110)
