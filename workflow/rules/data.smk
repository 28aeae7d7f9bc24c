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


# A dataset of your own is rebuilt when its source changes: its source files are the rule's
# input (the npz file, or every image of the folder, listed when the workflow is parsed), and
# their fingerprint (relative paths, sizes, modification times) a param, which catches what
# "newer than the output" misses, such as a file replaced by an older copy.
ruleorder: make_own_dataset > make_dataset


rule make_own_dataset:
    input:
        own_dataset_files,
    output:
        npz="results/data/{dataset}.npz",
        meta="results/data/{dataset}.json",
    log:
        "results/logs/data/{dataset}.log",
    benchmark:
        "results/benchmarks/data/{dataset}.tsv"
    wildcard_constraints:
        dataset=OWN_DATASETS_PATTERN,
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        options=lambda wildcards: config["datasets"][wildcards.dataset],
        source_fingerprint=own_dataset_fingerprint,
    script:
        "../scripts/make_dataset.py"
