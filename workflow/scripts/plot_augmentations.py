"""Draw the example views of each dataset at each strength of the grid."""

from sslgeom.figure_tables import load_augmentation_examples
from sslgeom.logs import redirect_output_to
from sslgeom.plots.core import plot_augmentations
from sslgeom.plots.style import save_figure

with redirect_output_to(snakemake.log[0]):
    examples = load_augmentation_examples(snakemake.input[0])
    save_figure(plot_augmentations(examples), snakemake.output.pdf, snakemake.output.png)
