"""Config checks that fail before any job runs, with one short message per mistake.

:func:`validate_config` checks the config against ``config.schema.yaml`` and every run an
experiment expands to against ``run.schema.yaml``, fills in the schema defaults, and checks the
constraints that span several keys (a run's dataset is declared, the batch of a run the
pipeline trains fits the training set, a model trained elsewhere runs on a dummy batch, ...).
A mistake raises :class:`ConfigError` with one line that names the dotted path of the offending
key, where the user wrote it, and what is allowed there::

    config error at experiments.tiny.grid.strength[1]: 1.5 is out of range; allowed: 0 ≤ value ≤ 1

:func:`check_config_files` catches what YAML hides: a key written twice in one mapping, of which
PyYAML silently keeps the last.

This module runs the checks in order; each area's checks live in a module of their own:
:mod:`~sslgeom.config.schema` (the JSON schemas), :mod:`~sslgeom.config.datasets`,
:mod:`~sslgeom.config.grid` (an experiment's grid and variants), :mod:`~sslgeom.config.runs`
(one run's settings), :mod:`~sslgeom.config.models` (models trained elsewhere),
:mod:`~sslgeom.config.analyses` and :mod:`~sslgeom.config.duplicate_keys`, their messages worded
by :mod:`~sslgeom.config.messages`.
"""

import copy
from pathlib import Path

from sslgeom.config.analyses import (
    check_alpha_req_indices,
    check_subspace_dimension,
    check_test_images,
)
from sslgeom.config.datasets import (
    check_own_datasets_name_a_source,
    check_vectors_content,
    split_sizes,
)
from sslgeom.config.duplicate_keys import check_config_files, find_duplicate_keys
from sslgeom.config.experiments import PIPELINE_MODEL, experiment_runs
from sslgeom.config.grid import check_grid_and_variants, run_origins
from sslgeom.config.messages import ConfigError
from sslgeom.config.models import (
    check_external_layers,
    check_external_model,
    check_external_runs_distinct,
    check_model_sources,
    check_used_models_run,
)
from sslgeom.config.runs import (
    PREDICTOR_METHODS,
    check_batch_fits,
    check_dataset_declared,
    check_epochs_or_train_steps,
    check_latent_conditional,
    check_predictor,
    check_run,
    check_similarity,
    check_snapshots_before_end,
    check_views_and_backbone,
    check_vit_fits,
)
from sslgeom.config.schema import check_against_schema, load_schema

__all__ = [
    "PREDICTOR_METHODS",
    "ConfigError",
    "check_config_files",
    "find_duplicate_keys",
    "training_set_size",
    "validate_config",
]

CONFIG_SCHEMA = "config.schema.yaml"
RUN_SCHEMA = "run.schema.yaml"


def validate_config(config: dict, schema_dir: Path) -> dict[str, dict[str, dict]]:
    """Check ``config`` and fill in its defaults; return experiment → run id → run settings.

    On success ``config`` takes, in place, the defaults of ``config.schema.yaml`` (as with
    ``snakemake.utils.validate(config, schema, set_default=True)``); on a ConfigError it is left
    as it was. A run's settings are its experiment's settings, one point of its grid and the
    defaults of ``run.schema.yaml``, keyed and ordered as by
    :func:`sslgeom.config.experiments.experiment_runs`.
    """
    checked = copy.deepcopy(config)
    schema = load_schema(Path(schema_dir) / CONFIG_SCHEMA)
    check_own_datasets_name_a_source(checked, schema)
    check_against_schema(checked, schema)
    check_alpha_req_indices(checked["analysis"])
    check_vectors_content(checked["datasets"])
    sizes = {
        name: split_sizes(name, parameters) for name, parameters in checked["datasets"].items()
    }
    run_schema = load_schema(Path(schema_dir) / RUN_SCHEMA)
    check_model_sources(checked["models"])
    runs = {
        name: _checked_runs(name, experiment, run_schema, checked, sizes)
        for name, experiment in checked["experiments"].items()
    }
    check_external_layers(checked, runs)
    check_used_models_run(checked["models"], runs)
    check_test_images(checked, runs, sizes)
    check_subspace_dimension(checked["geometry"])
    config.update(checked)
    return runs


def training_set_size(dataset: str, parameters: dict) -> int:
    """The number of training examples of ``dataset`` built with ``parameters`` (defaults
    filled)."""
    return split_sizes(dataset, parameters)[0]


def _checked_runs(name: str, experiment: dict, run_schema: dict, config: dict, sizes: dict) -> dict:
    """The runs of one experiment, each checked and with the run defaults filled in;
    ``sizes``: dataset → (train, test) examples."""
    datasets = config["datasets"]
    where = ("experiments", name)
    check_grid_and_variants(where, experiment)
    runs = experiment_runs(experiment)
    origins = run_origins(where, experiment)
    for settings, origin in zip(runs.values(), origins, strict=True):
        epochs_written = "epochs" in settings
        check_run(settings, run_schema, origin)
        check_epochs_or_train_steps(settings, epochs_written, origin)
        check_dataset_declared(settings, datasets, origin)
        check_external_model(settings, config, experiment["analyses"], origin)
        check_views_and_backbone(settings, origin)
        check_latent_conditional(settings, datasets, origin)
        check_similarity(settings, origin)
        check_predictor(settings, origin)
        check_vit_fits(settings, datasets, origin)
        if settings["model"] == PIPELINE_MODEL:  # a model trained elsewhere trains nothing here
            check_batch_fits(settings, sizes, origin)
            check_snapshots_before_end(settings, sizes, origin)
    check_external_runs_distinct(runs, origins)
    return runs
