"""kps-analysis: capacity and production planning (KPS) for Swedish specialised care.

The package holds pure, vectorised functions over long-format pandas frames (one row
per ``clinic`` and ``period``); the notebooks in ``notebooks/`` only load, call and
show.  See ``README.md`` and ``docs/architecture.md`` (the flow of data, the layout, the
public API and the outputs contract).
"""

__version__ = "0.1.0"
