from pathlib import Path

from snakemake.exceptions import WorkflowError

from sslgeom.config import ConfigError, check_config_files, validate_config
from sslgeom.data import DOWNLOADED_DATASETS
from sslgeom.experiments import factor_columns, factor_values

try:
    check_config_files(workflow.configfiles)
    RUNS = validate_config(config, Path(workflow.basedir) / "workflow" / "schemas")
except ConfigError as err:
    raise WorkflowError(str(err)) from None

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
]
PROJECTOR_SIZE_FACTORS = {"projector_depth", "projector_hidden_dim"}


wildcard_constraints:
    exp="|".join(RUNS),
    run=r"[^/~]+~[^/]+(/[^/~]+~[^/]+)*",
    dataset=r"[A-Za-z0-9_]+",


def run_settings(wildcards):
    return RUNS[wildcards.exp][wildcards.run]


def experiment_factors(wildcards):
    return factor_columns(config["experiments"][wildcards.exp])


def figure_options(options):
    """Params function: a figure's fixed options plus the experiment's factor columns."""
    return lambda wildcards: {"factors": experiment_factors(wildcards), **options}


def dataset_file(wildcards):
    return f"results/data/{run_settings(wildcards)['dataset']}.npz"


def experiment_datasets(wildcards):
    names = sorted({settings["dataset"] for settings in RUNS[wildcards.exp].values()})
    return [f"results/data/{name}.npz" for name in names]


def experiment_strengths(wildcards):
    return sorted({settings["strength"] for settings in RUNS[wildcards.exp].values()})


def per_run_files(filename):
    """An input function: ``filename`` in the folder of every run of the experiment."""

    def files(wildcards):
        return [
            f"results/{wildcards.exp}/runs/{run}/{filename}"
            for run in RUNS[wildcards.exp]
        ]

    return files


def per_run_factors(wildcards):
    columns = experiment_factors(wildcards)
    return [
        factor_values(settings, columns) for settings in RUNS[wildcards.exp].values()
    ]


def experiment_figures(exp):
    """The figures that the experiment's data can fill."""
    figures = list(FIGURES)
    if any(settings["dataset"] == "shapes" for settings in RUNS[exp].values()):
        figures.append("latent_r2_by_layer")
    if PROJECTOR_SIZE_FACTORS & set(config["experiments"][exp]["grid"]):
        figures.append("projector_size")
    return figures


def all_targets():
    return [
        f"results/{exp}/figures/{name}.{ext}"
        for exp in RUNS
        for name in experiment_figures(exp)
        for ext in ("pdf", "png")
    ] + [
        f"results/{exp}/{table}.csv"
        for exp in RUNS
        for table in ("metrics", "geometry")
    ]
