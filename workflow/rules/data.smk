rule make_dataset:
    output:
        npz="results/data/{dataset}.npz",
        meta="results/data/{dataset}.json",
    log:
        "results/logs/data/{dataset}.log",
    conda:
        "../../envs/sslgeom.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        options=lambda wildcards: config["datasets"][wildcards.dataset],
    script:
        "../scripts/make_dataset.py"
