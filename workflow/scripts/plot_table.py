"""Draw one figure from one tidy table of the experiment (metrics, spectra, logs, similarity...)."""

import importlib

import pandas as pd

from sslgeom.logs import redirect_output_to
from sslgeom.plots import save_figure

with redirect_output_to(snakemake.log[0]):
    module = importlib.import_module(f"sslgeom.{snakemake.params.module}")
    draw = getattr(module, snakemake.params.plot)
    figure = draw(pd.read_csv(snakemake.input[0]), **snakemake.params.options)
    save_figure(figure, snakemake.output.pdf, snakemake.output.png)
