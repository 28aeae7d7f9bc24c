from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from sslgeom.experiments import experiment_runs, factor_columns, factor_values

validate(config, "../schemas/config.schema.yaml")

FIGURES = [
    "augmentations",
    "probe_vs_strength",
    "invariance_vs_strength",
    "spectra",
    "rank_vs_strength",
    "training_curves",
]


def validated_runs(name, experiment):
    """Run id → settings of every run of one experiment, each checked against the run schema."""
    try:
        runs = experiment_runs(experiment)
    except ValueError as err:
        raise WorkflowError(f"experiment {name!r}: {err}") from None
    for run, settings in runs.items():
        try:
            validate(settings, "../schemas/run.schema.yaml")
        except WorkflowError as err:
            raise WorkflowError(f"experiment {name!r}, run {run!r}: {err}") from None
        if settings["dataset"] not in config["datasets"]:
            raise WorkflowError(
                f"experiment {name!r}, run {run!r}: dataset {settings['dataset']!r} is not "
                f"declared under 'datasets' (declared: {sorted(config['datasets'])})"
            )
    return runs


RUNS = {
    name: validated_runs(name, experiment)
    for name, experiment in config["experiments"].items()
}


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
