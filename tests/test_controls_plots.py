"""Tests for sslgeom.figures.controls on small hand-built figure tables."""

import io
import itertools

import matplotlib
import numpy as np
import pandas as pd
import pytest
from figure_checks import legend_texts, preview, reference_lines
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from sslgeom.config.experiments import Design
from sslgeom.figures import controls
from sslgeom.figures import tables as figure_tables

FACTORS = ["dataset", "method", "strength", "seed", "resampled_latents"]
VECTORS_FACTORS = ["dataset", "method", "strength", "seed"]
DESIGN = Design(FACTORS, crossed=["resampled_latents"])
VECTORS_DESIGN = Design(VECTORS_FACTORS, crossed=["dataset"])
POSITION, HUE = "pos_x-pos_y", "object_hue-background_hue"
RESAMPLED = {POSITION: ("pos_x", "pos_y"), HUE: ("object_hue", "background_hue")}
# the latents of the tables, out of their LATENT_NAMES order
LATENTS = ("object_hue", "scale", "pos_y", "pos_x", "background_hue")
IN_ORDER = ["pos_x", "pos_y", "scale", "object_hue", "background_hue"]
LAYERS = ("projector", "encoder")
RUN = {"dataset": "shapes", "method": "simclr", "strength": 0.0}


def recovery_value(choice: str, layer: str, latent: str, seed: int) -> float:
    """Linear R²: 0.8 in the encoder; in the projector 0.7, or −0.3 if resampled; seed 1
    adds 0.1."""
    resampled = layer == "projector" and latent in RESAMPLED[choice]
    return (0.8 if layer == "encoder" else -0.3 if resampled else 0.7) + seed / 10


def control_metrics() -> pd.DataFrame:
    rows = []
    for choice, seed, layer in itertools.product(RESAMPLED, (0, 1), LAYERS):
        run = RUN | {"seed": seed, "resampled_latents": choice, "layer": layer}
        rows.append(run | {"metric": "probe_acc", "value": 0.9})
        rows += [
            run
            | {"metric": f"latent_r2_{latent}"}
            | {"value": recovery_value(choice, layer, latent, seed)}
            for latent in LATENTS
        ]
    return pd.DataFrame(rows)


def recovery_table() -> pd.DataFrame:
    return figure_tables.controls_latent_recovery(control_metrics(), DESIGN)


def vectors_recovery_table() -> pd.DataFrame:
    rows = [
        {"dataset": dataset, "method": "simclr", "strength": 0.0, "seed": seed}
        | {"layer": layer, "metric": f"latent_r2_z{index}", "value": 0.9 - index / 100}
        for dataset, seed, layer, index in itertools.product(
            ("vectors", "vectors_box"), (0, 1), LAYERS, (10, 2, 0, 1)
        )
    ]
    return figure_tables.controls_latent_recovery(pd.DataFrame(rows), VECTORS_DESIGN)


def tick_texts(labels) -> list[str]:
    return [label.get_text() for label in labels]


def csv_round_trip(table: pd.DataFrame) -> pd.DataFrame:
    """The table as the figure jobs read it back from figure_data/*.csv."""
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    buffer.seek(0)
    return pd.read_csv(buffer)


def test_latent_recovery_heatmap_has_one_panel_per_choice_and_marks_the_resampled():
    fig = controls.plot_controls_latent_recovery(recovery_table(), FACTORS)
    assert isinstance(fig, Figure)
    *panels, colorbar = fig.axes
    assert len(panels) == len(RESAMPLED)
    assert colorbar.get_ylabel() == "accuracy or R² (colour from 0)"
    for ax, (choice, resampled) in zip(panels, sorted(RESAMPLED.items()), strict=True):
        assert ax.get_title() == "resampled: " + choice.replace("-", ", ")
        quantities = ["class accuracy", *IN_ORDER]
        marked = [q + " ↻" if q in resampled else q for q in quantities]
        assert tick_texts(ax.get_yticklabels()) == marked
        assert tick_texts(ax.get_xticklabels()) == ["encoder", "projector"]
        for label, quantity in zip(ax.get_yticklabels(), quantities, strict=True):
            colour = controls.RESAMPLED_COLOUR if quantity in resampled else "black"
            assert matplotlib.colors.same_color(label.get_color(), colour), quantity
    preview(fig, "controls_latent_recovery")


def test_latent_recovery_cells_show_mean_and_std_and_colour_clipped_at_zero():
    fig = controls.plot_controls_latent_recovery(recovery_table(), FACTORS)
    ax = fig.axes[0]  # object_hue-background_hue: rows class accuracy, pos_x, …, background_hue
    image = np.asarray(ax.images[0].get_array())
    # columns encoder, projector; seeds 0 and 1 give mean + 0.05, std 0.05 (class accuracy: 0.9)
    expected = np.array(
        [[0.9, 0.9], [0.85, 0.75], [0.85, 0.75], [0.85, 0.75], [0.85, 0.0], [0.85, 0.0]]
    )
    np.testing.assert_allclose(image, expected)
    texts = {text.get_position(): text.get_text() for text in ax.texts}  # at (column, row)
    assert len(texts) == expected.size
    assert texts[(0, 0)] == "0.90\n±0.00"
    assert texts[(0, 2)] == "0.85\n±0.05"  # encoder, pos_y
    assert texts[(1, 2)] == "0.75\n±0.05"  # projector, pos_y
    assert texts[(1, 5)] == "-0.25\n±0.05"  # projector, background_hue: resampled, below 0


def test_latent_recovery_heatmap_reads_its_table_back_from_csv():
    fig = controls.plot_controls_latent_recovery(csv_round_trip(recovery_table()), FACTORS)
    assert len(fig.axes) == len(RESAMPLED) + 1
    assert tick_texts(fig.axes[1].get_yticklabels())[1:3] == ["pos_x ↻", "pos_y ↻"]


def test_vectors_latent_recovery_has_no_resampled_mark_and_natural_latent_order():
    fig = controls.plot_controls_latent_recovery(vectors_recovery_table(), VECTORS_FACTORS)
    *panels, _ = fig.axes
    assert [ax.get_title() for ax in panels] == ["vectors", "vectors_box"]
    for ax in panels:
        assert tick_texts(ax.get_yticklabels()) == ["z0", "z1", "z2", "z10"]
        assert all("↻" not in text for text in tick_texts(ax.get_yticklabels()))


def sensitivity_value(choice: str, latent: str, metric: str, seed: int) -> float:
    """ρ(latent) − ρ(span): −0.3 if resampled, else 0.2; − ρ(random) is 1 more; seed 1 adds
    0.1."""
    value = -0.3 if latent in RESAMPLED[choice] else 0.2
    return value + (metric == "sensitivity_minus_random") + seed / 10


def control_geometry() -> pd.DataFrame:
    metrics = ("sensitivity", "sensitivity_minus_random_span", "sensitivity_minus_random")
    rows = [
        RUN
        | {"seed": seed, "resampled_latents": choice, "family": f"latent:{latent}"}
        | {"metric": metric, "value": sensitivity_value(choice, latent, metric, seed)}
        for choice, seed, latent, metric in itertools.product(RESAMPLED, (0, 1), LATENTS, metrics)
    ]
    rows += [
        RUN
        | {"seed": seed, "resampled_latents": choice, "family": "style"}
        | {"metric": "sensitivity_minus_random_span", "value": 5.0}
        for choice, seed in itertools.product(RESAMPLED, (0, 1))
    ]
    return pd.DataFrame(rows)


def sensitivity_table() -> pd.DataFrame:
    return figure_tables.controls_tangent_sensitivity(control_geometry(), DESIGN)


def test_tangent_sensitivity_bars_are_the_span_differences_coloured_by_resampling():
    fig = controls.plot_controls_tangent_sensitivity(sensitivity_table(), FACTORS)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == len(RESAMPLED)  # no colorbar
    for ax, (choice, resampled) in zip(fig.axes, sorted(RESAMPLED.items()), strict=True):
        assert ax.get_title() == "resampled: " + choice.replace("-", ", ")
        assert tick_texts(ax.get_xticklabels()) == IN_ORDER
        heights = [bar.get_height() for bar in ax.patches]
        expected = [-0.25 if latent in resampled else 0.25 for latent in IN_ORDER]
        np.testing.assert_allclose(heights, expected)
        for bar, latent in zip(ax.patches, IN_ORDER, strict=True):
            colour = controls.RESAMPLED_COLOUR if latent in resampled else controls.KEPT_COLOUR
            assert matplotlib.colors.same_color(bar.get_facecolor(), colour), latent
        (bars,) = [c for c in ax.containers if isinstance(c, BarContainer)]
        (errors,) = bars.errorbar.lines[2]
        spans = [segment[:, 1] for segment in errors.get_segments()]
        np.testing.assert_allclose(spans, [[h - 0.05, h + 0.05] for h in expected])
        (baseline,) = reference_lines(ax)
        assert list(baseline.get_ydata()) == [0.0, 0.0]
    assert fig.axes[0].get_ylabel() == "local: ρ(latent) − ρ(random\ndirection in data span)"
    assert [text.split(" (")[0] for text in legend_texts(fig)] == [
        "changed by the views",
        "shared by the views",
    ]


def test_tangent_figure_draws_the_redraw_steps_in_a_second_row():
    """Step sensitivities of 10^(ρ − ρ(span)) give second-row bars (log10) equal to the first's."""
    geometry = control_geometry()
    local = geometry[geometry["metric"] == "sensitivity_minus_random_span"]
    local = local[local["family"].str.startswith("latent:")]
    steps = local.assign(metric="step_sensitivity", value=10 ** local["value"])
    table = figure_tables.controls_tangent_sensitivity(pd.concat([geometry, steps]), DESIGN)
    fig = controls.plot_controls_tangent_sensitivity(table, FACTORS)
    n = len(RESAMPLED)
    assert len(fig.axes) == 2 * n
    for first, second in zip(fig.axes[:n], fig.axes[n:], strict=True):
        heights = [bar.get_height() for bar in first.patches]
        np.testing.assert_allclose([bar.get_height() for bar in second.patches], heights)
        assert second.get_title() == ""
    assert fig.axes[n].get_ylabel().startswith("global: log10 output change")
    preview(fig, "controls_tangent_sensitivity")


def test_style_latents_of_content_style_vectors_are_changed_by_the_views():
    rows = [
        {"dataset": "vectors_normal", "method": "simclr", "strength": 0.0, "seed": 0}
        | {"family": f"latent:{name}", "metric": "sensitivity_minus_random_span", "value": 0.0}
        for name in ("c1", "c2", "s1", "s2")
    ]
    table = figure_tables.controls_tangent_sensitivity(pd.DataFrame(rows), VECTORS_DESIGN)
    assert dict(zip(table["latent"], table["resampled"], strict=True)) == {
        "c1": False,
        "c2": False,
        "s1": True,
        "s2": True,
    }


def test_tangent_sensitivity_reads_its_table_back_from_csv():
    fig = controls.plot_controls_tangent_sensitivity(csv_round_trip(sensitivity_table()), FACTORS)
    colours = [bar.get_facecolor() for bar in fig.axes[1].patches]  # pos_x-pos_y
    assert matplotlib.colors.same_color(colours[0], controls.RESAMPLED_COLOUR)
    assert matplotlib.colors.same_color(colours[2], controls.KEPT_COLOUR)


def empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=[*FACTORS, *columns], dtype=object)


@pytest.mark.parametrize(
    ("plot", "table"),
    [
        (
            controls.plot_controls_latent_recovery,
            figure_tables.controls_latent_recovery(empty(["layer", "metric", "value"]), DESIGN),
        ),
        (
            controls.plot_controls_tangent_sensitivity,
            figure_tables.controls_tangent_sensitivity(
                empty(["family", "metric", "value"]), DESIGN
            ),
        ),
        # only the − ρ(random) differences: nothing that the bar chart draws
        (
            controls.plot_controls_tangent_sensitivity,
            sensitivity_table().query("metric == 'sensitivity_minus_random'"),
        ),
    ],
    ids=["latent recovery", "tangent sensitivity", "tangent sensitivity without span rows"],
)
def test_empty_tables_give_a_no_data_figure(plot, table):
    fig = plot(table, FACTORS)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert [text.get_text() for text in ax.texts] == ["no data"]
    assert fig.get_suptitle().startswith("Known-answer control")
