rule identifiability:
    input:
        per_run_files("embeddings.npz"),
    output:
        similarity=report(
            "results/{exp}/similarity.csv",
            caption="../report/similarity_table.rst",
            category="Tables",
        ),
        convergence="results/{exp}/convergence.csv",
    log:
        "results/{exp}/logs/identifiability.log",
    benchmark:
        "results/{exp}/benchmarks/identifiability.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        run_ids=lambda wildcards: list(RUNS[wildcards.exp]),
        factors=per_run_factors,
        options=config["identifiability"],
    script:
        "../scripts/identifiability.py"
