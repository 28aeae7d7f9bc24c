rule geometry:
    input:
        "results/{exp}/runs/{run}/embeddings.npz",
    output:
        geometry="results/{exp}/runs/{run}/geometry.csv",
        spectrum="results/{exp}/runs/{run}/jacobian_spectrum.csv",
    log:
        "results/{exp}/logs/geometry/{run}.log",
    benchmark:
        "results/{exp}/benchmarks/geometry/{run}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        options=geometry_options(MEASUREMENT_OPTIONS),
    script:
        "../scripts/geometry.py"
