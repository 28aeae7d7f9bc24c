"""The whole DAG through Snakemake on a tiny config: outputs, no-op reruns, one-figure redraws."""

import re
import shutil

import pandas as pd
import pytest
import yaml
from conftest import CORE_METRICS, REPO, TINY_CONFIG, finished_workdir, snakemake

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
    return finished_workdir(TINY_CONFIG, tmp_path_factory.mktemp("tiny"))


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
    baselines = {"random", "random_span", "data_span"}
    assert set(families["mnist5k"]) == {"jacobian", "augmentation", "data"} | baselines
    assert set(families["shapes"]) == {"jacobian", "augmentation", "data", "style", "content"} | (
        baselines
    )
    random = geometry.query("family == 'random' and metric == 'sensitivity'")["value"]
    assert random.between(0.5, 1.5).all(), "random directions have sensitivity near 1"
    style = geometry.query("family == 'style'").pivot_table("value", "seed", "metric")
    assert (style["dimension"] == 6).all(), "one tangent per style latent"


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


def planned_jobs(result) -> dict[str, int]:
    """Rule → job count from the "Job stats" table of a dry run (empty: nothing to do)."""
    log = result.stdout + result.stderr
    if "Nothing to be done" in log:
        return {}
    table = log.split("Job stats:", 1)[1].split("total", 1)[0]
    return {rule: int(count) for rule, count in re.findall(r"^(\w+)\s+(\d+)$", table, re.M)}


def test_changing_an_analysis_option_reruns_only_analyses_and_figures(finished_run):
    config = yaml.safe_load(TINY_CONFIG.read_text())
    config["analysis"]["knn_k"] = 5
    (finished_run / "changed.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    jobs = planned_jobs(snakemake("-n", "--configfile", "changed.yaml", workdir=finished_run))
    assert jobs["analyze_run"] == 4
    rerun = {rule for rule in jobs if rule not in ("all", "analyze_run", "collect_table")}
    assert rerun and all(rule.startswith("figure_") for rule in rerun), jobs
    assert "figure_augmentations" not in rerun and "figure_tangent_angles" not in rerun


def test_changing_a_geometry_measurement_option_reruns_only_the_geometry(finished_run):
    config = yaml.safe_load(TINY_CONFIG.read_text())
    config.setdefault("geometry", {})["n_neighbors"] = 7
    (finished_run / "changed.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    jobs = planned_jobs(snakemake("-n", "--configfile", "changed.yaml", workdir=finished_run))
    assert jobs["geometry"] == 4
    rerun = {rule for rule in jobs if rule not in ("all", "geometry", "collect_table")}
    geometry_figures = {"tangent_sensitivity_vs_strength", "tangent_angles", "jacobian_spectra"}
    assert rerun == {f"figure_{name}" for name in geometry_figures}, jobs


def test_editing_a_figures_code_redraws_only_the_figures_drawn_with_it(finished_run, tmp_path):
    """The workflow and library copied, one plotting function edited: only its figures rerun."""
    edited = tmp_path / "edited"
    shutil.copytree(REPO / "workflow", edited / "workflow")
    shutil.copytree(REPO / "envs", edited / "envs")
    shutil.copy(REPO / "Snakefile", edited / "Snakefile")
    plots = edited / "workflow" / "sslgeom" / "plots.py"
    source = plots.read_text()

    def dry_run_after(function: str, edit: str) -> dict[str, int]:
        plots.write_text(source.replace(f"def {function}(", edit.format(function), 1))
        result = snakemake(
            "-n",
            "--configfile",
            "config.yaml",
            workdir=finished_run,
            snakefile=edited / "Snakefile",
        )
        return planned_jobs(result)

    assert dry_run_after("plot_training_curves", "# a comment\ndef {}(") == {}
    edit = "def {}(\n    _edited: int,"
    assert dry_run_after("plot_training_curves", edit) == {"all": 1, "figure_training_curves": 1}
    # the Jacobian spectra are drawn by plot_spectra too
    assert dry_run_after("plot_spectra", edit) == {
        "all": 1,
        "figure_spectra": 1,
        "figure_jacobian_spectra": 1,
    }


def test_report_has_every_figure_with_its_caption(finished_run):
    snakemake("--configfile", "config.yaml", "--report", "report.html", workdir=finished_run)
    html = (finished_run / "report.html").read_text()
    for name in FIGURES:
        assert f"{name}.png" in html
    assert "Example views of the first test images" in html
