"""``python -m sslgeom.claims results/{exp}/claims.csv``: print an experiment's claims as the
Markdown table the pipeline writes beside them (claims.md)."""

import argparse

import pandas as pd

from sslgeom.claims.experiment import claims_markdown


def main() -> None:
    parser = argparse.ArgumentParser(description="Print an experiment's claims.csv as Markdown.")
    parser.add_argument("claims_csv")
    args = parser.parse_args()
    print(claims_markdown(pd.read_csv(args.claims_csv)), end="")


if __name__ == "__main__":
    main()
