"""Draw one figure from one tidy table of the experiment (metrics, spectra or training logs)."""

import pandas as pd

from sslgeom import plots
from sslgeom.logs import redirect_output_to

with redirect_output_to(snakemake.log[0]):
    draw = getattr(plots, snakemake.params.plot)
    figure = draw(pd.read_csv(snakemake.input[0]), **snakemake.params.options)
    plots.save_figure(figure, snakemake.output.pdf, snakemake.output.png)
