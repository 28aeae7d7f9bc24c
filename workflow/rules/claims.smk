rule claims:
    input:
        unpack(claim_inputs),
    output:
        csv=report(
            "results/{exp}/claims.csv",
            caption="../report/claims.rst",
            category="1. Claims",
        ),
        markdown=report(
            "results/{exp}/claims.md",
            caption="../report/claims.rst",
            category="1. Claims",
        ),
    log:
        "results/{exp}/logs/claims.log",
    benchmark:
        "results/{exp}/benchmarks/claims.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        design=experiment_design_params,
        dataset_spaces=vectors_dataset_spaces,
        run_factors=per_run_factors,
        options=config["claims"],
        code=library_code("claims.experiment.write_claims"),
    script:
        "../scripts/claims.py"
