"""Command-line entry point: ``python run.py SCENARIO.yaml`` (see ``python run.py --help``)."""

import sys

from model.apps.cli import main

if __name__ == "__main__":
    sys.exit(main())
