"""Example views of a few test images of each dataset at each strength of the grid."""

from sslgeom.data import load_dataset
from sslgeom.figures.tables import save_augmentation_examples
from sslgeom.io.logs import redirect_output_to
from sslgeom.training.augment import example_views

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
