"""Draw one figure from the experiment's tables that it reads (figure tables and collected ones):
``draw(*tables, factors=..., **options)``; what it draws is computed in the tables."""

import importlib

import pandas as pd

from sslgeom.figures.style import save_figure
from sslgeom.io.logs import redirect_output_to

with redirect_output_to(snakemake.log[0]):
    module = importlib.import_module(f"sslgeom.{snakemake.params.module}")
    draw = getattr(module, snakemake.params.plot)
    tables = [pd.read_csv(path) for path in snakemake.input]
    figure = draw(*tables, **snakemake.params.options)
    save_figure(figure, snakemake.output.pdf, snakemake.output.png)
