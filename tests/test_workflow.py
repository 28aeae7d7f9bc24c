"""The whole DAG through Snakemake on a tiny config: outputs, no-op reruns, one-figure redraws."""

import json
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from conftest import CORE_METRICS, REPO, TINY_CONFIG, finished_workdir, snakemake

# trains models: .ci/run repeats these with an AVX2 CPU's kernels
pytestmark = pytest.mark.trains

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
STYLE = ("pos_x", "pos_y", "scale", "rotation", "object_hue", "background_hue")
LATENT_METRICS = [f"latent_r2_{name}" for name in ("shape", *STYLE)] + ["mcc"]


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
    single_latents = {f"latent:{name}" for name in STYLE}
    assert set(families["shapes"]) == {"jacobian", "augmentation", "data", "style", "content"} | (
        baselines | single_latents
    )
    random = geometry.query("family == 'random' and metric == 'sensitivity'")["value"]
    assert random.between(0.5, 1.5).all(), "random directions have sensitivity near 1"
    style = geometry.query("family == 'style'").pivot_table("value", "seed", "metric")
    assert (style["dimension"] == 6).all(), "one tangent per style latent"


def test_figure_tables_summarise_the_collected_tables(finished_run):
    """One seed per setting: each seed mean is the run's value; spectra are variance fractions."""
    results = finished_run / "results/tiny"
    metrics = pd.read_csv(results / "metrics.csv")
    summary = pd.read_csv(results / "figure_data/metrics_summary.csv")
    keys = ["dataset", "method", "strength", "layer", "metric"]
    merged = metrics.merge(summary, on=keys, validate="one_to_one")
    assert len(merged) == len(metrics) and (merged["n"] == 1).all()
    assert merged["mean"].to_numpy() == pytest.approx(merged["value"].to_numpy())
    spectra = pd.read_csv(results / "figure_data/normalised_spectra_summary.csv")
    totals = spectra.groupby(["dataset", "strength", "layer"])["mean"].sum()
    assert totals.to_numpy() == pytest.approx(1.0)


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
    upstream_rules = ("pretrain", "embed", "analyze_run", "collect_table", "figure_table")
    for upstream in (*upstream_rules, "make_dataset"):
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
    assert jobs["claims"] == 1, "the claims read the metrics"
    tables = ("all", "analyze_run", "collect_table", "figure_table", "claims")
    rerun = {rule for rule in jobs if rule not in tables}
    assert rerun and all(rule.startswith("figure_") for rule in rerun), jobs
    assert "figure_augmentations" not in rerun and "figure_tangent_angles" not in rerun


def test_changing_a_geometry_measurement_option_reruns_only_the_geometry(finished_run):
    config = yaml.safe_load(TINY_CONFIG.read_text())
    config.setdefault("geometry", {})["k"] = 3
    (finished_run / "changed.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    jobs = planned_jobs(snakemake("-n", "--configfile", "changed.yaml", workdir=finished_run))
    assert jobs["geometry"] == 4
    assert jobs["figure_table"] == 2  # the geometry summary and the Jacobian spectrum's
    assert jobs["claims"] == 1, "the geometry claims read the geometry table"
    tables = ("all", "geometry", "collect_table", "figure_table", "claims")
    rerun = {rule for rule in jobs if rule not in tables}
    geometry_figures = {"tangent_sensitivity_vs_strength", "tangent_angles", "jacobian_spectra"}
    assert rerun == {f"figure_{name}" for name in geometry_figures}, jobs


def test_editing_a_figures_code_redraws_only_the_figures_drawn_with_it(finished_run, tmp_path):
    """The workflow and library copied, one plotting function or one figure table's function
    edited: only its figures rerun, and that table."""
    edited = tmp_path / "edited"
    shutil.copytree(REPO / "workflow", edited / "workflow")
    shutil.copytree(REPO / "envs", edited / "envs")
    shutil.copy(REPO / "Snakefile", edited / "Snakefile")
    library = edited / "workflow" / "sslgeom"
    sources = {
        module: (library / module).read_text()
        for module in ("figures/core.py", "figures/tables.py")
    }

    def dry_run_after(function: str, edit: str, module: str = "figures/core.py") -> dict[str, int]:
        edited_source = sources[module].replace(f"def {function}(", edit.format(function), 1)
        (library / module).write_text(edited_source)
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
    (library / "figures/core.py").write_text(sources["figures/core.py"])
    assert dry_run_after("normalised_spectra", edit, "figures/tables.py") == {
        "all": 1,
        "figure_table": 1,
        "figure_spectra": 1,
    }


def test_report_has_every_figure_with_its_caption(finished_run):
    snakemake("--configfile", "config.yaml", "--report", "report.html", workdir=finished_run)
    html = (finished_run / "report.html").read_text()
    for name in FIGURES:
        assert f"{name}.png" in html
    assert "Example views of the first test images" in html
    # the report's menu sorts categories with JavaScript's localeCompare: digits first
    categories = json.loads(re.search(r"var categories = (\{.*?\});\n", html).group(1))
    first = sorted(categories, key=str.casefold)[0]
    assert first == "1. Claims"
    assert categories[first] == {"Other": ["results/tiny/claims.csv", "results/tiny/claims.md"]}


def test_claims_are_computed_from_the_tables(finished_run):
    """One seed: every claim the tables allow (no slope from one positive strength), each
    inconclusive; the probe-gap estimate is the encoder − projector probe accuracy at s = 0.5."""
    results = finished_run / "results/tiny"
    claims = pd.read_csv(results / "claims.csv")
    by_dataset = claims.groupby("dataset")["claim"].apply(sorted).to_dict()
    assert by_dataset == {
        "mnist5k": ["C2a", "G1", "G2a", "G3a"],
        "shapes": ["C2a", "G1", "G2a", "G2b", "G3a", "G3b"],
    }
    assert (claims["verdict"] == "inconclusive").all() and (claims["n_seeds"] == 1).all()
    metrics = pd.read_csv(results / "metrics.csv").query(
        "metric == 'probe_acc' and strength == 0.5"
    )
    for dataset, rows in metrics.groupby("dataset"):
        accuracy = rows.set_index("layer")["value"]
        gap_row = (claims["dataset"] == dataset) & (claims["claim"] == "C2a")
        gap = claims.loc[gap_row, "estimate"].item()
        assert gap == pytest.approx(accuracy["encoder"] - accuracy["projector"])
    markdown = (results / "claims.md").read_text()
    assert "| C2a | mnist5k |" in markdown
    printed = subprocess.run(
        [sys.executable, "-m", "sslgeom.claims", str(results / "claims.csv")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert printed.stdout == markdown
