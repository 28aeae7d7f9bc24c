rule make_dataset:
    output:
        npz="results/data/{dataset}.npz",
        meta="results/data/{dataset}.json",
    log:
        "results/logs/data/{dataset}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        options=lambda wildcards: config["datasets"][wildcards.dataset],
    conda:
        "../../envs/sslgeom.yaml"
    script:
        "../scripts/make_dataset.py"
