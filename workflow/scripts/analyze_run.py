"""Core analyses of one run's embeddings: probes, invariance, spectra."""

from sslgeom.analyses.per_run import analyze_run
from sslgeom.io.logs import redirect_output_to

with redirect_output_to(snakemake.log[0]):
    analyze_run(
        embeddings_path=snakemake.input[0],
        metrics_path=snakemake.output.metrics,
        spectra_path=snakemake.output.spectra,
        correct_path=snakemake.output.correct,
        options=snakemake.params.options,
    )
