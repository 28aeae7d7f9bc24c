"""Tangent-plane geometry of one run: projector Jacobian, tangent families, sensitivity, angles."""

import torch

from sslgeom.logs import redirect_output_to
from sslgeom.runs import geometry_run

# the job's cores only: torch would otherwise take every core of a shared cluster node
torch.set_num_threads(snakemake.threads)
with redirect_output_to(snakemake.log[0]):
    geometry_run(
        model_path=snakemake.input.model,
        dataset_path=snakemake.input.dataset,
        geometry_path=snakemake.output.geometry,
        spectrum_path=snakemake.output.spectrum,
        options=snakemake.params.options,
        device_name=snakemake.params.device,
    )
