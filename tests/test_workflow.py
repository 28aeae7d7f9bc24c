"""The whole DAG through Snakemake on a tiny config: outputs, no-op reruns, one-figure redraws."""

import shutil

import pandas as pd
import pytest
from conftest import CORE_METRICS, TINY_CONFIG, snakemake

FIGURES = [
    "augmentations",
    "probe_vs_strength",
    "invariance_vs_strength",
    "spectra",
    "rank_vs_strength",
    "training_curves",
    "jacobian_spectra",
    "tangent_sensitivity_vs_strength",
    "tangent_angles",
    "latent_r2_by_layer",
]
LATENT_METRICS = [
    f"latent_r2_{name}"
    for name in ("shape", "pos_x", "pos_y", "scale", "rotation", "object_hue", "background_hue")
]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A working directory in which the tiny experiment has run to completion."""
    workdir = tmp_path_factory.mktemp("tiny")
    shutil.copy(TINY_CONFIG, workdir / "config.yaml")
    snakemake("--cores", "2", "--configfile", "config.yaml", workdir=workdir)
    return workdir


def test_every_figure_is_drawn(finished_run):
    for name in FIGURES:
        for extension in ("pdf", "png"):
            assert (finished_run / f"results/tiny/figures/{name}.{extension}").stat().st_size > 0


def test_metrics_table_is_tidy_and_complete(finished_run):
    metrics = pd.read_csv(finished_run / "results/tiny/metrics.csv")
    assert list(metrics.columns) == [
        "dataset",
        "method",
        "strength",
        "seed",
        "layer",
        "metric",
        "value",
    ]
    assert set(metrics.query("dataset == 'mnist5k'")["metric"]) == set(CORE_METRICS)
    assert set(metrics.query("dataset == 'shapes'")["metric"]) == {*CORE_METRICS, *LATENT_METRICS}
    assert set(metrics["layer"]) == {"encoder", "proj1", "projector"}
    runs = metrics.groupby(["dataset", "strength", "seed"]).size()
    assert len(runs) == 4
    assert (runs.loc["mnist5k"] == 3 * len(CORE_METRICS)).all()
    assert (runs.loc["shapes"] == 3 * (len(CORE_METRICS) + len(LATENT_METRICS))).all()
    assert metrics["value"].notna().all()
    at_zero = metrics.query("strength == 0 and metric == 'invariance'")
    assert (at_zero["value"] == 1.0).all(), "identical views must be perfectly invariant"


def test_geometry_table_has_every_family_per_run(finished_run):
    geometry = pd.read_csv(finished_run / "results/tiny/geometry.csv")
    families = geometry.groupby("dataset")["family"].unique()
    assert set(families["mnist5k"]) == {"jacobian", "augmentation", "data", "random"}
    assert set(families["shapes"]) == {
        "jacobian",
        "augmentation",
        "data",
        "random",
        "style",
        "content",
    }
    random = geometry.query("family == 'random' and metric == 'sensitivity'")["value"]
    assert random.between(0.5, 1.5).all(), "random directions have sensitivity near 1"


def test_finished_run_has_nothing_to_do(finished_run):
    result = snakemake("-n", "--configfile", "config.yaml", workdir=finished_run)
    assert "Nothing to be done" in result.stdout + result.stderr


def test_one_figure_is_redrawn_without_training_or_embedding(finished_run):
    figure = finished_run / "results/tiny/figures/spectra.pdf"
    figure.unlink()
    result = snakemake(
        "results/tiny/figures/spectra.pdf",
        "--cores",
        "1",
        "--configfile",
        "config.yaml",
        workdir=finished_run,
    )
    log = result.stdout + result.stderr
    assert figure.exists()
    assert "rule figure_spectra:" in log
    for upstream in ("pretrain", "embed", "analyze_run", "collect_table", "make_dataset"):
        assert f"rule {upstream}:" not in log


def test_report_has_every_figure_with_its_caption(finished_run):
    snakemake("--configfile", "config.yaml", "--report", "report.html", workdir=finished_run)
    html = (finished_run / "report.html").read_text()
    for name in FIGURES:
        assert f"{name}.png" in html
    assert "Example views of the first test images" in html
