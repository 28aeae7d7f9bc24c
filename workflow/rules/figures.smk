rule figure_augmentations:
    input:
        experiment_datasets,
    output:
        pdf="results/{exp}/figures/augmentations.pdf",
        png=report(
            "results/{exp}/figures/augmentations.png",
            caption="../report/augmentations.rst",
            category="{exp}",
            subcategory="Augmentations",
        ),
    log:
        "results/{exp}/logs/figures/augmentations.log",
    conda:
        "../../envs/sslgeom.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        strengths=experiment_strengths,
        n_images=4,
        n_views=2,
        seed=0,
    script:
        "../scripts/plot_augmentations.py"


rule figure_probe_vs_strength:
    input:
        "results/{exp}/metrics.csv",
    output:
        pdf="results/{exp}/figures/probe_vs_strength.pdf",
        png=report(
            "results/{exp}/figures/probe_vs_strength.png",
            caption="../report/probe_vs_strength.rst",
            category="{exp}",
            subcategory="Transfer",
        ),
    log:
        "results/{exp}/logs/figures/probe_vs_strength.log",
    conda:
        "../../envs/sslgeom.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        plot="plot_metrics_vs_strength",
        options=lambda wildcards: {
            "factors": experiment_factors(wildcards),
            "metric_labels": {
                "probe_acc": "linear probe accuracy",
                "knn_acc": f"kNN accuracy (k = {config['analysis']['knn_k']})",
            },
            "title": "Class transfer of each layer vs augmentation strength",
        },
    script:
        "../scripts/plot_table.py"


rule figure_invariance_vs_strength:
    input:
        "results/{exp}/metrics.csv",
    output:
        pdf="results/{exp}/figures/invariance_vs_strength.pdf",
        png=report(
            "results/{exp}/figures/invariance_vs_strength.png",
            caption="../report/invariance_vs_strength.rst",
            category="{exp}",
            subcategory="Invariance",
        ),
    log:
        "results/{exp}/logs/figures/invariance_vs_strength.log",
    conda:
        "../../envs/sslgeom.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        plot="plot_metrics_vs_strength",
        options=lambda wildcards: {
            "factors": experiment_factors(wildcards),
            "metric_labels": {
                "invariance_ref": "invariance (reference views)",
                "view_cosine_ref": "view cosine (reference views)",
                "invariance": "invariance (the run's own views)",
            },
            "title": (
                "Invariance of each layer vs training strength; reference views at "
                f"s = {config['embedding']['reference_strength']:g}"
            ),
        },
    script:
        "../scripts/plot_table.py"


rule figure_rank_vs_strength:
    input:
        "results/{exp}/metrics.csv",
    output:
        pdf="results/{exp}/figures/rank_vs_strength.pdf",
        png=report(
            "results/{exp}/figures/rank_vs_strength.png",
            caption="../report/rank_vs_strength.rst",
            category="{exp}",
            subcategory="Dimensionality",
        ),
    log:
        "results/{exp}/logs/figures/rank_vs_strength.log",
    conda:
        "../../envs/sslgeom.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        plot="plot_metrics_vs_strength",
        options=lambda wildcards: {
            "factors": experiment_factors(wildcards),
            "metric_labels": {
                "rankme": "RankMe (effective rank)",
                "participation_ratio": "participation ratio",
                "alpha_req": "α-ReQ (eigenspectrum decay)",
            },
            "title": "Effective dimensionality of each layer vs augmentation strength",
        },
    script:
        "../scripts/plot_table.py"


rule figure_spectra:
    input:
        "results/{exp}/spectra.csv",
    output:
        pdf="results/{exp}/figures/spectra.pdf",
        png=report(
            "results/{exp}/figures/spectra.png",
            caption="../report/spectra.rst",
            category="{exp}",
            subcategory="Dimensionality",
        ),
    log:
        "results/{exp}/logs/figures/spectra.log",
    conda:
        "../../envs/sslgeom.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        plot="plot_spectra",
        options=lambda wildcards: {"factors": experiment_factors(wildcards)},
    script:
        "../scripts/plot_table.py"


rule figure_training_curves:
    input:
        "results/{exp}/train_log.csv",
    output:
        pdf="results/{exp}/figures/training_curves.pdf",
        png=report(
            "results/{exp}/figures/training_curves.png",
            caption="../report/training_curves.rst",
            category="{exp}",
            subcategory="Training",
        ),
    log:
        "results/{exp}/logs/figures/training_curves.log",
    conda:
        "../../envs/sslgeom.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        plot="plot_training_curves",
        options=lambda wildcards: {"factors": experiment_factors(wildcards)},
    script:
        "../scripts/plot_table.py"
