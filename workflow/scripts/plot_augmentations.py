"""Draw the example views of each dataset at each strength of the grid."""

from sslgeom.figures.core import plot_augmentations
from sslgeom.figures.style import save_figure
from sslgeom.figures.tables import load_augmentation_examples
from sslgeom.io.logs import redirect_output_to

with redirect_output_to(snakemake.log[0]):
    examples = load_augmentation_examples(snakemake.input[0])
    save_figure(plot_augmentations(examples), snakemake.output.pdf, snakemake.output.png)
