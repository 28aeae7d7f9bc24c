"""Compute the experiment's claims with their intervals and verdicts from its tables."""

import pandas as pd

from sslgeom.claims.experiment import write_claims
from sslgeom.config.experiments import Design
from sslgeom.io.logs import redirect_output_to

with redirect_output_to(snakemake.log[0]):
    tables = {
        name: pd.read_csv(snakemake.input[name])
        for name in ("metrics", "geometry", "similarity")
        if name in snakemake.input.keys()  # noqa: SIM118 (a Namedlist, not a dict)
    }
    write_claims(
        tables,
        embeddings_paths=list(snakemake.input.embeddings),
        correct_paths=list(snakemake.input.correct),
        run_factors=snakemake.params.run_factors,
        design=Design(**snakemake.params.design),
        options=snakemake.params.options,
        csv_path=snakemake.output.csv,
        markdown_path=snakemake.output.markdown,
        dataset_spaces=snakemake.params.dataset_spaces,
    )
