from snakemake.utils import min_version

min_version("9.0")


# config.yaml is the default experiment; `--configfile other.yaml` replaces it rather than
# merging into it, so that only the experiments of the given file run.
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/pretrain.smk"
include: "workflow/rules/embed.smk"
include: "workflow/rules/analyze.smk"
include: "workflow/rules/geometry.smk"
include: "workflow/rules/identifiability.smk"
include: "workflow/rules/claims.smk"
include: "workflow/rules/figure_tables.smk"
include: "workflow/rules/figures.smk"


rule all:
    default_target: True
    input:
        all_targets(),
