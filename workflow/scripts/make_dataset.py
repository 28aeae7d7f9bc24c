"""Build one dataset and store it as results/data/{dataset}.npz + .json."""

from sslgeom.data import build_dataset, save_dataset
from sslgeom.io.logs import redirect_output_to

with redirect_output_to(snakemake.log[0]):
    dataset = build_dataset(
        snakemake.wildcards.dataset,
        # Read from the config, not passed as a param: moving the cache must not rerun anything.
        cache_dir=snakemake.config["data_cache_dir"],
        **snakemake.params.options,
    )
    save_dataset(dataset, snakemake.output.npz)
    print(
        f"{dataset.name}: {len(dataset.train_images)} train / {len(dataset.test_images)} test "
        f"images of shape {dataset.train_images.shape[1:]}, {dataset.num_classes} classes"
    )
