"""Embed one run's train/test images and augmented views at every layer (and extract what
the tangent geometry measures, where the experiment asks for it)."""

import torch

from sslgeom.logs import redirect_output_to
from sslgeom.runs import embed_run

# the job's cores only: torch would otherwise take every core of a shared cluster node
torch.set_num_threads(snakemake.threads)
with redirect_output_to(snakemake.log[0]):
    embed_run(
        model_path=snakemake.input.model,
        dataset_path=snakemake.input.dataset,
        output_path=snakemake.output[0],
        options=snakemake.params.options,
        snapshot_train_images=snakemake.params.snapshot_train_images,
        device_name=snakemake.params.device,
        geometry_options=snakemake.params.geometry,
    )
