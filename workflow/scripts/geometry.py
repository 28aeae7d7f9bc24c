"""Tangent-plane geometry of one run: projector Jacobian spectrum, tangent families, sensitivity,
angles, from the arrays the embed job extracted (numpy only)."""

from sslgeom.analyses.geometry import geometry_run
from sslgeom.io.logs import redirect_output_to

with redirect_output_to(snakemake.log[0]):
    geometry_run(
        embeddings_path=snakemake.input[0],
        geometry_path=snakemake.output.geometry,
        spectrum_path=snakemake.output.spectrum,
        options=snakemake.params.options,
    )
