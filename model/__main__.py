"""``python -m model``: the ``blocsim`` command line (``apps.cli``)."""

from model.apps.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
