"""``python -m sslgeom.claims results/{exp}/claims.csv``: print an experiment's claims as the
Markdown table the pipeline writes beside them (claims.md)."""

import argparse
import sys

import pandas as pd

from sslgeom.claims.experiment import RESULT_COLUMNS, claims_markdown


def main() -> None:
    parser = argparse.ArgumentParser(description="Print an experiment's claims.csv as Markdown.")
    parser.add_argument("claims_csv")
    args = parser.parse_args()
    claims = pd.read_csv(args.claims_csv)
    missing = [column for column in RESULT_COLUMNS if column not in claims.columns]
    if missing:
        sys.exit(
            f"{args.claims_csv} lacks the columns {', '.join(missing)}: it was written by an "
            f"older version of the claims job; rerun it with `snakemake --cores 1 --forcerun "
            f"claims {args.claims_csv}` (and the --configfile of its experiment)"
        )
    print(claims_markdown(claims), end="")


if __name__ == "__main__":
    main()
