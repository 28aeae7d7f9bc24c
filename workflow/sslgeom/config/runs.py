"""Checks of one run's settings, as an experiment's settings, grid point and variant merge them:
against ``run.schema.yaml``, then across keys: its length is given once (epochs or train_steps),
its dataset is declared, its views and backbone suit the dataset, its latent conditional the
latents' space, a similarity other than cosine only for simclr, a predictor width only where
the method has a predictor, a ViT's patches and heads divide the images and its width, and,
where the pipeline trains it, its training subset holds a batch and its snapshots come before
its last epoch.
"""

from sslgeom.config.experiments import PIPELINE_MODEL
from sslgeom.config.grid import RunOrigin
from sslgeom.config.messages import (
    dotted,
    error_at,
    missing_keys,
    schema_problem,
    schema_types,
    unknown_keys,
)
from sslgeom.config.schema import schema_error
from sslgeom.data import dataset_kind, model_input_shape
from sslgeom.training.conditionals import SPACE_CONDITIONALS
from sslgeom.training.length import training_length

PREDICTOR_METHODS = ("byol", "simsiam")


def check_run(settings: dict, run_schema: dict, origin: RunOrigin) -> None:
    """Check one run's merged settings, blaming the settings or grid entry the user wrote."""
    error = schema_error(settings, run_schema)
    if error is None:
        return
    if error.validator == "additionalProperties":
        raise error_at(origin.block_of(unknown_keys(error)[0]), schema_problem(error))
    if error.validator == "required":
        missing = missing_keys(error)[0]
        raise error_at(
            origin.experiment, f"missing run setting {missing!r}; set it in settings or grid"
        )
    key, *inner = error.absolute_path
    problem = schema_problem(error)
    if key in origin.grid_index and not inner and "array" in schema_types(error):
        problem += f"; a grid sweeps {key} over a list of lists, e.g. {key}: [[1, 1], [2, 2]]"
    raise error_at((*origin.path_of(key), *inner), problem)


def check_epochs_or_train_steps(settings: dict, epochs_written: bool, origin: RunOrigin) -> None:
    """A run's length is given once: by epochs or by train_steps."""
    if epochs_written and settings["train_steps"] is not None:
        raise error_at(
            origin.path_of("train_steps"),
            f"{settings['train_steps']} steps, but the run also sets epochs (at "
            f"{dotted(origin.path_of('epochs'))}); allowed: one of epochs and train_steps",
        )


def check_dataset_declared(settings: dict, datasets: dict, origin: RunOrigin) -> None:
    if settings["dataset"] not in datasets:
        raise error_at(
            origin.path_of("dataset"),
            f"{settings['dataset']!r} is not declared under datasets; "
            f"allowed: {', '.join(datasets)}",
        )


def check_views_and_backbone(settings: dict, origin: RunOrigin) -> None:
    """Vectors take latent views, an MLP and no image augmentation; latent views need a
    generative process (shapes, vectors) and, on shapes, at least one resampled latent."""
    kind = dataset_kind(settings["dataset"])
    views = settings["views"]
    if kind == "vectors":
        wrong = [
            ("views", views != "latent", "vectors have no image augmentation; allowed: latent"),
            (
                "strength",
                settings["strength"] != 0,
                "vectors have no image augmentation; allowed: 0",
            ),
            (
                "backbone",
                settings["backbone"] != "mlp" and settings["model"] == PIPELINE_MODEL,
                "vectors are not images; allowed: mlp",
            ),
        ]
        for key, is_wrong, problem in wrong:
            if is_wrong:
                raise error_at(origin.path_of(key), f"{settings[key]!r}: {problem}")
    if views == "latent" and kind not in ("shapes", "vectors"):
        raise error_at(
            origin.path_of("views"),
            f"'latent' views rerun a generative process, which {settings['dataset']} does not "
            "have; allowed: augmentation (latent on shapes and vectors)",
        )
    resampled = settings["resampled_latents"]
    if views == "latent" and kind == "shapes" and not resampled:
        raise error_at(
            origin.path_of("resampled_latents"),
            "latent views on shapes need at least one resampled latent, else both views are "
            "the same image; allowed: a non-empty list of style latents",
        )
    if resampled and (views != "latent" or kind != "shapes"):
        raise error_at(
            origin.path_of("resampled_latents"),
            f"{resampled} has no effect: only latent views on shapes resample latents; "
            "allowed: [] here",
        )


def check_latent_conditional(settings: dict, datasets: dict, origin: RunOrigin) -> None:
    """A vectors run's latent conditional lives where its latents do."""
    if dataset_kind(settings["dataset"]) != "vectors" or settings["model"] != PIPELINE_MODEL:
        return
    parameters = datasets[settings["dataset"]]
    space, conditional = parameters["space"], settings["latent_conditional"]
    allowed = SPACE_CONDITIONALS[space]
    if conditional not in (None, *allowed):
        raise error_at(
            origin.path_of("latent_conditional"),
            f"{conditional!r} does not live on {settings['dataset']}'s {space} latents; "
            f"allowed: {', '.join(allowed)}",
        )


def check_similarity(settings: dict, origin: RunOrigin) -> None:
    """Only simclr's InfoNCE has a similarity to choose."""
    if settings["similarity"] != "cosine" and settings["method"] != "simclr":
        raise error_at(
            origin.path_of("similarity"),
            f"{settings['similarity']!r} has no effect: only method simclr compares outputs by "
            f"a similarity, not {settings['method']!r}; allowed: cosine here",
        )


def check_predictor(settings: dict, origin: RunOrigin) -> None:
    """Only BYOL and SimSiam have a predictor whose width can be set."""
    width = settings["predictor_hidden_dim"]
    if width is not None and settings["method"] not in PREDICTOR_METHODS:
        raise error_at(
            origin.path_of("predictor_hidden_dim"),
            f"{width} has no effect: method {settings['method']!r} has no predictor (only "
            f"{' and '.join(PREDICTOR_METHODS)} have); allowed: null here",
        )


def check_vit_fits(settings: dict, datasets: dict, origin: RunOrigin) -> None:
    """A ViT cuts the images into whole patches and splits its width among its heads."""
    if settings["backbone"] != "vit":
        return
    dataset, patch = settings["dataset"], settings["vit_patch_size"]
    shape = model_input_shape(dataset, datasets[dataset])
    if shape is None:  # known once the dataset is built: the model's constructor checks it
        return
    size = shape[-1]
    if shape[-2] % patch or size % patch:
        divisors = ", ".join(str(d) for d in range(1, size + 1) if size % d == 0)
        set_at = f" (datasets.{dataset}.size)" if dataset == "shapes" else ""
        raise error_at(
            origin.path_of("vit_patch_size"),
            f"{patch} does not divide the {size}×{size} images of {dataset}{set_at}; "
            f"allowed: a divisor of {size} ({divisors})",
        )
    width, heads = settings["vit_width"], settings["vit_heads"]
    if width % heads:
        raise error_at(
            origin.path_of("vit_heads"),
            f"{heads} heads do not divide vit_width ({width}); allowed: a divisor of {width}",
        )


def check_batch_fits(settings: dict, sizes: dict, origin: RunOrigin) -> None:
    """The run's training subset exists, and holds at least one batch."""
    dataset, batch_size = settings["dataset"], settings["batch_size"]
    n_train = sizes[dataset][0]
    train_size = settings["train_size"]
    if train_size is not None and train_size > n_train:
        raise error_at(
            origin.path_of("train_size"),
            f"{train_size} is larger than the training set of {dataset} ({n_train} images); "
            f"allowed: value ≤ {n_train}",
        )
    used = _images_trained_on(settings, sizes)
    if batch_size > used:
        what = "train_size" if train_size else f"the training set of {dataset}"
        raise error_at(
            origin.path_of("batch_size"),
            f"{batch_size} is larger than {what} ({used} images); allowed: value ≤ {used}",
        )


def _images_trained_on(settings: dict, sizes: dict) -> int:
    return settings["train_size"] or sizes[settings["dataset"]][0]


def check_snapshots_before_end(settings: dict, sizes: dict, origin: RunOrigin) -> None:
    """Each snapshot comes before the last epoch, counted from train_steps where it is set."""
    train_steps = settings["train_steps"]
    length = training_length(
        _images_trained_on(settings, sizes),
        settings["batch_size"],
        settings["epochs"],
        train_steps,
    )
    late = [epoch for epoch in settings["snapshot_epochs"] if epoch >= length.epochs]
    if not late:
        return
    last = str(length.epochs)
    if train_steps is not None:
        last += f": train_steps {train_steps} at {length.steps_per_epoch} steps per epoch"
    raise error_at(
        origin.path_of("snapshot_epochs"),
        f"epoch {late[0]} is not before the last epoch ({last}), which is the final model "
        f"itself; allowed: epochs < {length.epochs}",
    )
