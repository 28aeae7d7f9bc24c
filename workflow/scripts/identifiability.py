"""Compare every pair of the experiment's runs, and each run's snapshots with its final model."""

from sslgeom.analyses.identifiability import compare_runs
from sslgeom.io.artifacts import write_rows
from sslgeom.io.logs import redirect_output_to

with redirect_output_to(snakemake.log[0]):
    similarity, convergence = compare_runs(
        run_ids=snakemake.params.run_ids,
        embeddings_paths=list(snakemake.input),
        factor_values=snakemake.params.factors,
        options=snakemake.params.options,
    )
    write_rows(similarity, snakemake.output.similarity)
    write_rows(convergence, snakemake.output.convergence)
