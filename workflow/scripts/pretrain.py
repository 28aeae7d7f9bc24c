"""Pretrain one run: encoder + projector with the run's loss at the run's augmentation strength."""

from pathlib import Path

from sslgeom.config.schema import run_defaults
from sslgeom.io.logs import redirect_output_to
from sslgeom.training.run import pretrain_run

with redirect_output_to(snakemake.log[0]):
    pretrain_run(
        run_name=f"{snakemake.wildcards.exp}/{snakemake.wildcards.run}",
        settings=snakemake.params.settings,
        dataset_path=snakemake.input.dataset,
        model_path=Path(snakemake.output.model),
        train_log_path=Path(snakemake.output.train_log),
        checkpoint_path=Path(snakemake.params.checkpoint),
        device_name=snakemake.params.device,
        threads=snakemake.threads,
        deterministic=snakemake.params.deterministic,
        defaults=run_defaults(Path(snakemake.scriptdir).parent / "schemas"),
    )
