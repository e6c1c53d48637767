"""``python -m kps_analysis`` is the ``kps`` command."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
