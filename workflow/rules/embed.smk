rule embed:
    input:
        model=model_files,
        dataset=dataset_file,
    output:
        "results/{exp}/runs/{run}/embeddings.npz",
    log:
        "results/{exp}/logs/embed/{run}.log",
    benchmark:
        "results/{exp}/benchmarks/embed/{run}.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
        gpu=config["compute"]["train_gpus"],
    params:
        external=external_model,
        options=config["embedding"],
        snapshot_train_images=config["identifiability"]["fit_images"],
        geometry=geometry_extraction_options,
        device=config["compute"]["device"],
    script:
        "../scripts/embed.py"
