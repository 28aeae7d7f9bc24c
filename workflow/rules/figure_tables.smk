FIGURE_TABLES = {
    "metrics_summary": "metrics",
    "geometry_summary": "geometry",
    "normalised_spectra_summary": "spectra",
    "jacobian_spectrum_summary": "jacobian_spectrum",
    "train_loss_summary": "train_log",
    "projector_size": "metrics",
    "labelled_similarity": "similarity",
    "similarity_by_pair_kind": "similarity",
    "setting_similarity": "similarity",
    "latent_recovery": "metrics",
    "convergence_summary": "convergence",
    "controls_latent_recovery": "metrics",
    "controls_tangent_sensitivity": "geometry",
}
"""Figure table → the experiment table it is computed from, by sslgeom.figures.tables.<table>."""


rule figure_table:
    input:
        lambda wildcards: f"results/{wildcards.exp}/{FIGURE_TABLES[wildcards.table]}.csv",
    output:
        "results/{exp}/figure_data/{table}.csv",
    log:
        "results/{exp}/logs/figure_data/{table}.log",
    benchmark:
        "results/{exp}/benchmarks/figure_data/{table}.tsv"
    wildcard_constraints:
        table="|".join(FIGURE_TABLES),
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        design=experiment_design_params,
        code=lambda wildcards: library_code(f"figures.tables.{wildcards.table}"),
    script:
        "../scripts/figure_table.py"


rule augmentation_examples:
    input:
        experiment_datasets,
    output:
        "results/{exp}/figure_data/augmentations.npz",
    log:
        "results/{exp}/logs/figure_data/augmentations.log",
    benchmark:
        "results/{exp}/benchmarks/figure_data/augmentations.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        strengths=experiment_strengths,
        n_images=4,
        n_views=2,
        seed=0,
        code=library_code(
            "training.augment.example_views",
            "figures.tables.save_augmentation_examples",
        ),
    script:
        "../scripts/augmentation_examples.py"
