rule figure_augmentations:
    input:
        "results/{exp}/figure_data/augmentations.npz",
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
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        code=figure_code(
            "figures.core.plot_augmentations",
            "figures.tables.load_augmentation_examples",
        ),
    script:
        "../scripts/plot_augmentations.py"


TABLE_FIGURES = {
    "probe_vs_strength": {
        "tables": ["figure_data/metrics_summary"],
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
        "tables": ["figure_data/metrics_summary"],
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
        "tables": ["figure_data/metrics_summary"],
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
        "tables": ["figure_data/normalised_spectra_summary"],
        "plot": "plot_spectra",
        "subcategory": "Dimensionality",
        "options": {},
    },
    "training_curves": {
        "tables": ["train_log", "figure_data/train_loss_summary"],
        "plot": "plot_training_curves",
        "subcategory": "Training",
        "options": {},
    },
    "jacobian_spectra": {
        "tables": ["figure_data/jacobian_spectrum_summary"],
        "module": "figures.geometry",
        "plot": "plot_jacobian_spectra",
        "subcategory": "Tangent geometry",
        "options": {},
    },
    "tangent_sensitivity_vs_strength": {
        "tables": ["figure_data/geometry_summary"],
        "module": "figures.geometry",
        "plot": "plot_tangent_metrics_vs_strength",
        "subcategory": "Tangent geometry",
        "options": {
            "metric_labels": {
                "sensitivity_minus_random": "ρ − ρ(random directions, same dimension)",
                "sensitivity_minus_random_span": (
                    "ρ − ρ(random directions in the data span, same dimension)"
                ),
            },
            "title": "How much the projector keeps each family of encoder-space directions",
            "reference_line": 0.0,
            "reference_label": "kept as much as the baseline",
        },
    },
    "tangent_angles": {
        "tables": ["figure_data/geometry_summary"],
        "module": "figures.geometry",
        "plot": "plot_tangent_metrics_vs_strength",
        "subcategory": "Tangent geometry",
        "options": {
            "metric_labels": {
                "angle_minus_random": "angle − angle(random directions, same dimension) (°)",
                "angle_minus_random_span": (
                    "angle − angle(random directions in the data span, same dimension) (°)"
                ),
            },
            "title": "Alignment of each direction family with what the projector keeps",
            "reference_line": 0.0,
            "reference_label": "as aligned as the baseline",
        },
    },
    "latent_r2_by_layer": {
        "tables": ["figure_data/metrics_summary"],
        "plot": "plot_latent_r2_by_layer",
        "subcategory": "Transfer",
        "options": {},
    },
    "projector_size": {
        "tables": ["figure_data/projector_size"],
        "plot": "plot_projector_size",
        "subcategory": "Projector size",
        "options": {},
    },
    "similarity_heatmap": {
        "tables": ["figure_data/labelled_similarity"],
        "module": "figures.identifiability",
        "plot": "plot_similarity_heatmap",
        "subcategory": "Identifiability",
        "options": {},
    },
    "similarity_vs_factor": {
        "tables": ["figure_data/similarity_by_pair_kind"],
        "module": "figures.identifiability",
        "plot": "plot_similarity_vs_factor",
        "subcategory": "Identifiability",
        "options": {},
    },
    "setting_similarity": {
        "tables": ["figure_data/setting_similarity"],
        "module": "figures.identifiability",
        "plot": "plot_setting_similarity",
        "subcategory": "Identifiability",
        "options": {},
    },
    "latent_recovery": {
        "tables": ["figure_data/latent_recovery"],
        "module": "figures.identifiability",
        "plot": "plot_latent_recovery",
        "subcategory": "Identifiability",
        "options": {},
    },
    "convergence_over_epochs": {
        "tables": ["figure_data/convergence_summary"],
        "module": "figures.identifiability",
        "plot": "plot_convergence_over_epochs",
        "subcategory": "Identifiability",
        "options": {},
    },
    "controls_latent_recovery": {
        "tables": ["figure_data/controls_latent_recovery"],
        "module": "figures.controls",
        "plot": "plot_controls_latent_recovery",
        "subcategory": "Known-answer controls",
        "options": {},
    },
    "controls_tangent_sensitivity": {
        "tables": ["figure_data/controls_tangent_sensitivity"],
        "module": "figures.controls",
        "plot": "plot_controls_tangent_sensitivity",
        "subcategory": "Known-answer controls",
        "options": {},
    },
}
"""Figure → the tables it draws (under results/{exp}/; figure_data/ holds the figure tables),
its drawing function sslgeom.<module>.<plot> (module plots.core unless named) and options."""


for figure, spec in TABLE_FIGURES.items():

    rule:
        name:
            f"figure_{figure}"
        input:
            [f"results/{{exp}}/{table}.csv" for table in spec["tables"]],
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
            module=spec.get("module", "figures.core"),
            plot=spec["plot"],
            options=figure_options(spec["options"]),
            code=figure_code(f"{spec.get('module', 'figures.core')}.{spec['plot']}"),
        script:
            "../scripts/plot_table.py"
