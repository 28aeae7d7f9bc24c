rule analyze_run:
    input:
        "results/{exp}/runs/{run}/embeddings.npz",
    output:
        metrics="results/{exp}/runs/{run}/metrics.csv",
        spectra="results/{exp}/runs/{run}/spectra.csv",
        correct="results/{exp}/runs/{run}/correct.npz",
    log:
        "results/{exp}/logs/analyze/{run}.log",
    benchmark:
        "results/{exp}/benchmarks/analyze/{run}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        options=analysis_options,
    script:
        "../scripts/analyze_run.py"


rule collect_table:
    input:
        tabled_run_files,
    output:
        report(
            "results/{exp}/{table}.csv",
            caption="../report/tables.rst",
            category="Tables",
        ),
    log:
        "results/{exp}/logs/collect_{table}.log",
    benchmark:
        "results/{exp}/benchmarks/collect_table/{table}.tsv"
    wildcard_constraints:
        table="metrics|spectra|train_log|geometry|jacobian_spectrum",
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        factors=tabled_run_factors,
    script:
        "../scripts/collect_table.py"
