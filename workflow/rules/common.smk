import dataclasses
from pathlib import Path

from snakemake.exceptions import WorkflowError

from sslgeom.io.code_fingerprint import code_fingerprint
from sslgeom.config.validate import ConfigError, check_config_files, validate_config
from sslgeom.config.models import checkpoint_file
from sslgeom.data import (
    DOWNLOADED_DATASETS,
    dataset_kind,
    source_files,
    source_fingerprint,
    source_key,
)
from sslgeom.config.experiments import (
    PIPELINE_MODEL,
    experiment_design,
    factor_columns,
    factor_values,
)
from sslgeom.analyses.geometry import EXTRACTION_OPTIONS, MEASUREMENT_OPTIONS

try:
    check_config_files(workflow.configfiles)
    RUNS = validate_config(config, Path(workflow.basedir) / "workflow" / "schemas")
except ConfigError as err:
    raise WorkflowError(str(err)) from None

CORE_FIGURES = [
    "augmentations",
    "probe_vs_strength",
    "invariance_vs_strength",
    "spectra",
    "rank_vs_strength",
    "training_curves",
]
ANALYSIS_FIGURES = {
    "geometry": [
        "jacobian_spectra",
        "tangent_sensitivity_vs_strength",
        "tangent_angles",
    ],
    "identifiability": [
        "similarity_heatmap",
        "similarity_vs_factor",
        "setting_similarity",
        "convergence_over_epochs",
    ],
}
ANALYSIS_TABLES = {
    "geometry": ["geometry"],
    "identifiability": ["similarity", "convergence"],
}
PROJECTOR_SIZE_FACTORS = {"projector_depth", "projector_hidden_dim"}
# Datasets of your own: name → (folder or npz file's folder, source files), listed once.
OWN_DATASET_SOURCES = {
    name: source_files(parameters)
    for name, parameters in config["datasets"].items()
    if source_key(parameters) is not None
}
# Matches no name where there are none (an empty alternation would match the empty name).
OWN_DATASETS_PATTERN = "|".join(OWN_DATASET_SOURCES) or "(?!)"
LIBRARY = Path(workflow.basedir) / "workflow" / "sslgeom"


wildcard_constraints:
    exp="|".join(RUNS),
    run=r"[^/~]+~[^/]+(/[^/~]+~[^/]+)*",
    dataset=r"[A-Za-z0-9_]+",


def run_settings(wildcards):
    return RUNS[wildcards.exp][wildcards.run]


def experiment_factors_of(exp):
    return factor_columns(config["experiments"][exp])


def experiment_factors(wildcards):
    return experiment_factors_of(wildcards.exp)


def figure_options(options):
    """Params function: a figure's fixed options plus the experiment's factor columns."""
    return lambda wildcards: {"factors": experiment_factors(wildcards), **options}


def library_code(*functions):
    """Params value that changes when the library code of ``functions`` ("module.function",
    and what they use) changes, so that editing it reruns only the jobs that run it."""
    return code_fingerprint(LIBRARY, list(functions))


def figure_code(*functions):
    """library_code of a figure's drawing functions and of writing it to disk: editing them
    redraws that figure only."""
    return library_code(*functions, "figures.style.save_figure")


def external_model(wildcards):
    """The run's model of the config's ``models`` section, with the run's settings ({name,
    spec, settings}); None for a model the pipeline pretrains."""
    settings = run_settings(wildcards)
    name = settings["model"]
    if name == PIPELINE_MODEL:
        return None
    return {"name": name, "spec": config["models"][name], "settings": settings}


def model_files(wildcards):
    """The files the run's model is read from: its model.pt, or the files of a model trained
    elsewhere (so that replacing them re-embeds it)."""
    external = external_model(wildcards)
    if external is None:
        return f"results/{wildcards.exp}/runs/{wildcards.run}/model.pt"
    return checkpoint_file(external["spec"])


def dataset_file(wildcards):
    return f"results/data/{run_settings(wildcards)['dataset']}.npz"


def own_dataset_files(wildcards):
    """The source files of a dataset of your own but those with a brace in their path:
    Snakemake reads one as a wildcard, with no escape, so their changes are caught by the
    rule's fingerprint param alone."""
    paths = [str(path) for path in OWN_DATASET_SOURCES[wildcards.dataset][1]]
    return [path for path in paths if "{" not in path and "}" not in path]


def own_dataset_fingerprint(wildcards):
    return source_fingerprint(*OWN_DATASET_SOURCES[wildcards.dataset])


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


def tabled_runs(wildcards):
    """The runs that write the per-run table ``wildcards.table``: every run, but only those
    the pipeline trains write a training log."""
    runs = RUNS[wildcards.exp]
    if wildcards.table != "train_log":
        return runs
    return {run: s for run, s in runs.items() if s["model"] == PIPELINE_MODEL}


def tabled_run_files(wildcards):
    return [
        f"results/{wildcards.exp}/runs/{run}/{wildcards.table}.csv"
        for run in tabled_runs(wildcards)
    ]


def tabled_run_factors(wildcards):
    columns = experiment_factors(wildcards)
    return [factor_values(s, columns) for s in tabled_runs(wildcards).values()]


def experiment_analyses(exp):
    return config["experiments"][exp]["analyses"]


def uses_shapes(exp):
    return any(settings["dataset"] == "shapes" for settings in RUNS[exp].values())


def augments_images(exp):
    """Whether every run of the experiment takes image augmentations as its views."""
    return all(settings["views"] == "augmentation" for settings in RUNS[exp].values())


def experiment_figures(exp):
    """The figures that the experiment's data can fill."""
    figures = [f for f in CORE_FIGURES if f != "augmentations" or augments_images(exp)]
    for analysis in experiment_analyses(exp):
        figures += ANALYSIS_FIGURES[analysis]
    if all(settings["model"] != PIPELINE_MODEL for settings in RUNS[exp].values()):
        # models trained elsewhere have no training log, nor snapshots to converge over
        figures.remove("training_curves")
        if "convergence_over_epochs" in figures:
            figures.remove("convergence_over_epochs")
    if uses_shapes(exp):
        figures.append("latent_r2_by_layer")
        if "identifiability" in experiment_analyses(exp):
            figures.append("latent_recovery")
    if PROJECTOR_SIZE_FACTORS & set(experiment_factors_of(exp)):
        figures.append("projector_size")
    if not augments_images(exp):
        figures.append("controls_latent_recovery")
        if "geometry" in experiment_analyses(exp):
            figures.append("controls_tangent_sensitivity")
    return figures


def analysis_options(wildcards):
    """The core analysis options; latent recovery also by kernel ridge where the experiment
    asks for identifiability or trains on latent views (the known-answer controls)."""
    options = dict(config["analysis"])
    exp = wildcards.exp
    if "identifiability" in experiment_analyses(exp) or not augments_images(exp):
        options["kernel_ridge_images"] = config["identifiability"][
            "kernel_ridge_images"
        ]
    return options


def geometry_options(keys):
    return {key: config["geometry"][key] for key in keys}


def geometry_extraction_options(wildcards):
    """The geometry options the embed job extracts with, where the experiment asks for the
    geometry; None (nothing extracted) elsewhere."""
    if "geometry" not in experiment_analyses(wildcards.exp):
        return None
    return geometry_options(EXTRACTION_OPTIONS)


def claim_inputs(wildcards):
    """The claims job's inputs: the tables the experiment has, and every run's embeddings and
    per-image correctness (for the test-set resamples)."""
    inputs = {
        "metrics": f"results/{wildcards.exp}/metrics.csv",
        "embeddings": per_run_files("embeddings.npz")(wildcards),
        "correct": per_run_files("correct.npz")(wildcards),
    }
    for analysis in experiment_analyses(wildcards.exp):
        for table in ANALYSIS_TABLES[analysis]:
            if table in ("geometry", "similarity"):
                inputs[table] = f"results/{wildcards.exp}/{table}.csv"
    return inputs


def experiment_design_params(wildcards):
    """The experiment's design (sslgeom.config.experiments.Design) as a params mapping."""
    return dataclasses.asdict(experiment_design(config["experiments"][wildcards.exp]))


def vectors_dataset_spaces(wildcards):
    """The latent space of each vectors dataset of the config."""
    return {
        name: parameters["space"]
        for name, parameters in config["datasets"].items()
        if dataset_kind(name) == "vectors"
    }


def all_targets():
    return [
        f"results/{exp}/figures/{name}.{ext}"
        for exp in RUNS
        for name in experiment_figures(exp)
        for ext in ("pdf", "png")
    ] + [
        f"results/{exp}/{table}.csv"
        for exp in RUNS
        for table in [
            "metrics",
            "claims",
            *(t for a in experiment_analyses(exp) for t in ANALYSIS_TABLES[a]),
        ]
    ]
