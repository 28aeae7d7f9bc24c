"""Concatenate one per-run table over all runs of an experiment, with factor columns in front."""

from sslgeom.io.logs import redirect_output_to
from sslgeom.io.tables import collect_runs

with redirect_output_to(snakemake.log[0]):
    table = collect_runs(snakemake.input, snakemake.params.factors)
    table.to_csv(snakemake.output[0], index=False)
    print(f"{len(table)} rows from {len(snakemake.input)} runs")
