"""Figures of the tangent geometry: what the projector keeps of each family of encoder-space
directions, and the singular values of its Jacobian.

They draw the seed summaries of :mod:`sslgeom.figures.tables` with the core figure types of
:mod:`sslgeom.figures.core`; tangent families have fixed line styles, the random baseline grey
and dashed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd
from matplotlib.figure import Figure

from sslgeom.figures.core import plot_metrics_vs_strength, plot_spectra
from sslgeom.figures.style import ENCODER_COLOUR

FAMILY_STYLES = {
    "augmentation": {"color": "#d62728"},
    "style": {"color": "#1f77b4"},
    "content": {"color": "#2ca02c"},
    "data": {"color": "#9467bd"},
    "random": {"color": "0.45", "ls": "--"},
    "jacobian": {"color": ENCODER_COLOUR},
}
"""Fixed line style of each tangent family; ``random`` is the baseline, grey and dashed."""
OTHER_FAMILY_STYLE = {"color": "0.2", "ls": "-."}


def sort_families(families: Iterable[str]) -> list[str]:
    """Unique tangent families in :data:`FAMILY_STYLES` order, unknown ones after (by name)."""
    known = list(FAMILY_STYLES)
    return sorted(set(families), key=lambda f: (known.index(f), "") if f in known else (1e9, f))


def family_styles(families: Iterable[str]) -> dict[str, dict]:
    """Ordered ``{family: line style}``: :data:`FAMILY_STYLES`, unknown families alike."""
    return {f: FAMILY_STYLES.get(f, OTHER_FAMILY_STYLE) for f in sort_families(families)}


def plot_tangent_metrics_vs_strength(
    summary: pd.DataFrame,
    metric_labels: Mapping[str, str],
    factors: Sequence[str],
    title: str,
    reference_line: float | None = None,
    reference_label: str | None = None,
) -> Figure:
    """Geometry metrics against strength, one line per tangent family of the geometry summary
    (:func:`sslgeom.figures.tables.geometry_summary`); see
    :func:`~sslgeom.figures.core.plot_metrics_vs_strength`."""
    shown = summary[summary["metric"].isin(list(metric_labels))]
    return plot_metrics_vs_strength(
        summary,
        metric_labels,
        factors,
        title,
        line_by="family",
        reference_line=reference_line,
        reference_label=reference_label,
        styles=family_styles(shown["family"]),
    )


def plot_jacobian_spectra(summary: pd.DataFrame, factors: Sequence[str]) -> Figure:
    """Seed-mean singular values of the projector Jacobian (log y), one panel per facet, one
    line per strength as in :func:`~sslgeom.figures.core.plot_spectra`; ``summary`` is
    :func:`sslgeom.figures.tables.jacobian_spectrum_summary`."""
    return plot_spectra(
        summary,
        factors,
        layers=None,
        ylabel="mean singular value σᵢ of J",
        xscale="linear",
        title="Projector Jacobian J = ∂g/∂h: mean singular values (mean over seeds)",
    )
