rule pretrain:
    input:
        dataset=dataset_file,
    output:
        model="results/{exp}/runs/{run}/model.pt",
        train_log="results/{exp}/runs/{run}/train_log.csv",
    log:
        "results/{exp}/logs/pretrain/{run}.log",
    benchmark:
        "results/{exp}/benchmarks/pretrain/{run}.tsv"
    conda:
        "../../envs/training.yaml"
    threads: config["compute"]["train_threads"]
    resources:
        mem_mb=config["compute"]["train_mem_mb"],
        runtime=config["compute"]["train_runtime_min"],
        gpu=config["compute"]["train_gpus"],
    params:
        settings=run_settings,
        device=config["compute"]["device"],
        deterministic=config["compute"]["deterministic"],
        checkpoint=lambda wildcards: f"results/{wildcards.exp}/runs/{wildcards.run}/checkpoint.pt",
    script:
        "../scripts/pretrain.py"
