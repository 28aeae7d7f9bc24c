"""Example views of a few test images of each dataset at each strength of the grid."""

from sslgeom.augment import example_views
from sslgeom.data import load_dataset
from sslgeom.figure_tables import save_augmentation_examples
from sslgeom.logs import redirect_output_to

with redirect_output_to(snakemake.log[0]):
    examples = {}
    for path in snakemake.input:
        dataset = load_dataset(path)
        images = dataset.test_images[: snakemake.params.n_images]
        examples[dataset.name] = {
            strength: example_views(
                images, strength, snakemake.params.n_views, snakemake.params.seed
            )
            for strength in snakemake.params.strengths
        }
    save_augmentation_examples(examples, snakemake.output[0])
