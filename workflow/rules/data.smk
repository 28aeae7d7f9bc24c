rule make_dataset:
    output:
        npz="results/data/{dataset}.npz",
        meta="results/data/{dataset}.json",
    log:
        "results/logs/data/{dataset}.log",
    benchmark:
        "results/benchmarks/data/{dataset}.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards: (
            4000 if wildcards.dataset in DOWNLOADED_DATASETS else 2000
        ),
        runtime=lambda wildcards: (
            120 if wildcards.dataset in DOWNLOADED_DATASETS else 10
        ),
    params:
        options=lambda wildcards: config["datasets"][wildcards.dataset],
    script:
        "../scripts/make_dataset.py"
