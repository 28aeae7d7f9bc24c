"""Embed one run's train/test images and augmented views at every layer (and extract what
the tangent geometry measures, where the experiment asks for it): a model the pipeline
trained, or one of the config's ``models``."""

import torch

from sslgeom.device import resolve_device
from sslgeom.embedding.run import embed_run
from sslgeom.io.logs import redirect_output_to
from sslgeom.models.run_models import external_run_models, trained_run_models

# the job's cores only: torch would otherwise take every core of a shared cluster node
torch.set_num_threads(snakemake.threads)
with redirect_output_to(snakemake.log[0]):
    device = resolve_device(snakemake.params.device)
    external = snakemake.params.external
    if external is None:
        models = trained_run_models(snakemake.input.model, device)
    else:
        models = external_run_models(
            external["name"], external["spec"], external["settings"], device
        )
    embed_run(
        models=models,
        dataset_path=snakemake.input.dataset,
        output_path=snakemake.output[0],
        options=snakemake.params.options,
        snapshot_train_images=snakemake.params.snapshot_train_images,
        geometry_options=snakemake.params.geometry,
    )
