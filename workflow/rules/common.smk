from pathlib import Path

from snakemake.exceptions import WorkflowError

from sslgeom.config import ConfigError, check_config_files, validate_config
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
]


wildcard_constraints:
    exp="|".join(RUNS),
    run=r"[^/~]+~[^/]+(/[^/~]+~[^/]+)*",
    dataset=r"[A-Za-z0-9_]+",


def run_settings(wildcards):
    return RUNS[wildcards.exp][wildcards.run]


def experiment_factors(wildcards):
    return factor_columns(config["experiments"][wildcards.exp])


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


def all_targets():
    return [
        f"results/{exp}/figures/{name}.{ext}"
        for exp in RUNS
        for name in FIGURES
        for ext in ("pdf", "png")
    ] + [f"results/{exp}/metrics.csv" for exp in RUNS]
