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
    benchmark:
        "results/{exp}/benchmarks/figures/augmentations.tsv"
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
        code=figure_code("plots.plot_augmentations", "augment.example_views"),
    script:
        "../scripts/plot_augmentations.py"


TABLE_FIGURES = {
    "probe_vs_strength": {
        "table": "metrics",
        "plot": "plot_metrics_vs_strength",
        "subcategory": "Transfer",
        "options": {
            "metric_labels": {
                "probe_acc": "linear probe accuracy",
                "knn_acc": f"kNN accuracy (k = {config['analysis']['knn_k']})",
            },
            "title": "Class transfer of each layer vs augmentation strength",
        },
    },
    "invariance_vs_strength": {
        "table": "metrics",
        "plot": "plot_metrics_vs_strength",
        "subcategory": "Invariance",
        "options": {
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
    },
    "rank_vs_strength": {
        "table": "metrics",
        "plot": "plot_metrics_vs_strength",
        "subcategory": "Dimensionality",
        "options": {
            "metric_labels": {
                "rankme": "RankMe (effective rank)",
                "participation_ratio": "participation ratio",
                "alpha_req": "α-ReQ (eigenspectrum decay)",
            },
            "title": "Effective dimensionality of each layer vs augmentation strength",
        },
    },
    "spectra": {
        "table": "spectra",
        "plot": "plot_spectra",
        "subcategory": "Dimensionality",
        "options": {},
    },
    "training_curves": {
        "table": "train_log",
        "plot": "plot_training_curves",
        "subcategory": "Training",
        "options": {},
    },
    "jacobian_spectra": {
        "table": "jacobian_spectrum",
        "plot": "plot_jacobian_spectra",
        "subcategory": "Tangent geometry",
        "options": {},
    },
    "tangent_sensitivity_vs_strength": {
        "table": "geometry",
        "plot": "plot_metrics_vs_strength",
        "subcategory": "Tangent geometry",
        "options": {
            "metric_labels": {
                "sensitivity_minus_random": "ρ − ρ(random directions, same dimension)",
                "sensitivity_minus_random_span": (
                    "ρ − ρ(random directions in the data span, same dimension)"
                ),
            },
            "title": "How much the projector keeps each family of encoder-space directions",
            "line_by": "family",
            "reference_line": 0.0,
            "reference_label": "kept as much as the baseline",
        },
    },
    "tangent_angles": {
        "table": "geometry",
        "plot": "plot_metrics_vs_strength",
        "subcategory": "Tangent geometry",
        "options": {
            "metric_labels": {
                "angle_minus_random": "angle − angle(random directions, same dimension) (°)",
                "angle_minus_random_span": (
                    "angle − angle(random directions in the data span, same dimension) (°)"
                ),
            },
            "title": "Alignment of each direction family with what the projector keeps",
            "line_by": "family",
            "reference_line": 0.0,
            "reference_label": "as aligned as the baseline",
        },
    },
    "latent_r2_by_layer": {
        "table": "metrics",
        "plot": "plot_latent_r2_by_layer",
        "subcategory": "Transfer",
        "options": {},
    },
    "projector_size": {
        "table": "metrics",
        "plot": "plot_projector_size",
        "subcategory": "Projector size",
        "options": {},
    },
    "similarity_heatmap": {
        "table": "similarity",
        "module": "identifiability_plots",
        "plot": "plot_similarity_heatmap",
        "subcategory": "Identifiability",
        "options": {},
    },
    "similarity_vs_factor": {
        "table": "similarity",
        "module": "identifiability_plots",
        "plot": "plot_similarity_vs_factor",
        "subcategory": "Identifiability",
        "options": {},
    },
    "latent_recovery": {
        "table": "metrics",
        "module": "identifiability_plots",
        "plot": "plot_latent_recovery",
        "subcategory": "Identifiability",
        "options": {},
    },
    "convergence_over_epochs": {
        "table": "convergence",
        "module": "identifiability_plots",
        "plot": "plot_convergence_over_epochs",
        "subcategory": "Identifiability",
        "options": {},
    },
}


for figure, spec in TABLE_FIGURES.items():

    rule:
        name:
            f"figure_{figure}"
        input:
            f"results/{{exp}}/{spec['table']}.csv",
        output:
            pdf=f"results/{{exp}}/figures/{figure}.pdf",
            png=report(
                f"results/{{exp}}/figures/{figure}.png",
                caption=f"../report/{figure}.rst",
                category="{exp}",
                subcategory=spec["subcategory"],
            ),
        log:
            f"results/{{exp}}/logs/figures/{figure}.log",
        benchmark:
            f"results/{{exp}}/benchmarks/figures/{figure}.tsv"
        conda:
            "../../envs/analysis.yaml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=5,
        params:
            module=spec.get("module", "plots"),
            plot=spec["plot"],
            options=figure_options(spec["options"]),
            code=figure_code(f"{spec.get('module', 'plots')}.{spec['plot']}"),
        script:
            "../scripts/plot_table.py"
