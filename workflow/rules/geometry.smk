rule geometry:
    input:
        model="results/{exp}/runs/{run}/model.pt",
        dataset=dataset_file,
    output:
        geometry="results/{exp}/runs/{run}/geometry.csv",
        spectrum="results/{exp}/runs/{run}/jacobian_spectrum.csv",
    log:
        "results/{exp}/logs/geometry/{run}.log",
    benchmark:
        "results/{exp}/benchmarks/geometry/{run}.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
        gpu=config["compute"]["train_gpus"],
    params:
        options=config["geometry"],
        device=config["compute"]["device"],
    script:
        "../scripts/geometry.py"
