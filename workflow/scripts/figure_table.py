"""Compute one figure table from the experiment table it derives from (sslgeom.figures.tables)."""

import pandas as pd

from sslgeom.config.experiments import Design
from sslgeom.figures import tables as figure_tables
from sslgeom.io.logs import redirect_output_to

with redirect_output_to(snakemake.log[0]):
    compute = getattr(figure_tables, snakemake.wildcards.table)
    table = compute(pd.read_csv(snakemake.input[0]), Design(**snakemake.params.design))
    table.to_csv(snakemake.output[0], index=False)
    print(f"{len(table)} rows")
