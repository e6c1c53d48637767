"""A clinic's report sections rendered once, stored, and displayed by its notebook: render many.

``kps run`` computes every clinic's planning model and analytics once
(:mod:`kps_analysis.store`); then each worker process, which has the package and its
plotting libraries imported already, renders each of its clinics' report sections with
:func:`render` (:func:`kps_analysis.sections.render`: figures laid out and drawn once as
inline SVG, tables as HTML), writes the clinic's result tables (CSV, xlsx, ``plan.xlsx``),
and stores the sections' display outputs as ``<clinic>/model/fragments.json``.

The report notebook (``notebooks/clinic_report.ipynb``) then only displays them:
:func:`load`, :func:`show` and :func:`write_tables` need the standard library and
``IPython.display`` only, so its kernel imports neither pandas nor matplotlib. The
executed notebook holds the same outputs as if each section had been drawn in it, so
the HTML report is the same. Without stored fragments (the notebook opened on its own
in JupyterLab, or a run whose rendering failed) the same three calls load the clinic
and compute its report in the kernel through :mod:`kps_analysis.sections`, as before.

File ``fragments.json``: ``{"version": 1, "clinic_id": ..., "run_id": ...,
"sections": {key: [{"data": {mime: text}, "metadata": {...}}, ...]}}``; aggregates only,
as the report itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["FILE", "Stored", "load", "show", "write_tables", "render", "load_region", "render_region", "read",
           "write"]

#: The stored sections' file name, in the clinic's model folder.
FILE = "fragments.json"
VERSION = 1


class Stored:
    """A clinic's rendered report sections, read from :data:`FILE` (no pandas needed).

    Attributes
    ----------
    clinic_id, run_id : str
        The clinic and the run that rendered them.
    sections : dict
        Section key -> list of display outputs (``{"data": {mime: text}, "metadata": {}}``).
    """

    def __init__(self, clinic_id: str, run_id: str, sections: dict):
        self.clinic_id = clinic_id
        self.run_id = run_id
        self.sections = sections


def write(folder, clinic_id: str, run_id: str, sections: dict, language: str = "") -> Path:
    """Write rendered sections to ``<folder>/fragments.json`` atomically; returns the path."""
    path = Path(folder) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{FILE}.tmp")
    tmp.write_text(json.dumps({"version": VERSION, "clinic_id": clinic_id, "run_id": run_id, "language": language,
                               "sections": sections}, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    return path


def read(folder, clinic_id: str | None = None, language: str = "") -> Stored | None:
    """The sections stored in ``<folder>/fragments.json``; None when there are none (or they
    belong to another clinic or, when ``language`` is given, another language, or to another
    version of this file)."""
    path = Path(folder) / FILE if folder else None
    if path is None or not path.is_file():
        return None
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if stored.get("version") != VERSION or (clinic_id is not None and stored.get("clinic_id") != clinic_id) \
            or (language and stored.get("language") != language):
        return None
    return Stored(stored.get("clinic_id", ""), stored.get("run_id", ""), stored.get("sections") or {})


def load(clinic_id: str, parameters_dir="../parameters", data_dir="", output_dir="", run_id="interactive",
         previous_tables="", model_dir=""):
    """The clinic's report: its stored sections when ``kps run`` rendered them, else loaded here.

    Takes the arguments of :func:`kps_analysis.sections.load`. With a ``model_dir`` that
    holds this clinic's :data:`FILE`, returns a :class:`Stored` (nothing else is read);
    otherwise the clinic's :class:`~kps_analysis.sections.ClinicContext`, its model read
    from ``model_dir`` or computed for this one clinic.
    """
    stored = read(model_dir, clinic_id) if model_dir else None
    if stored is not None:
        return stored
    from . import sections

    return sections.load(clinic_id, parameters_dir, data_dir, output_dir, run_id, previous_tables, model_dir)


def show(key: str, ctx) -> None:
    """Show one report section: its stored outputs, or drawn now (:func:`kps_analysis.sections.show`)."""
    if not isinstance(ctx, Stored):
        from . import sections

        return sections.show(key, ctx)
    from IPython.display import display

    if key not in ctx.sections:
        raise KeyError(f"unknown report section {key!r}; stored: {', '.join(ctx.sections)}")
    for output in ctx.sections[key]:
        display(output["data"], raw=True, metadata=output.get("metadata") or None)


def write_tables(ctx) -> None:
    """Write the clinic's result tables (:func:`kps_analysis.sections.write_tables`); stored
    sections had theirs written when they were rendered."""
    if isinstance(ctx, Stored):
        return
    from . import sections

    sections.write_tables(ctx)


def render(clinic_id: str, parameters_dir, data_dir, output_dir, run_id, previous_tables="", model_dir="") -> Path:
    """Render a clinic's report sections once and store them (in a ``kps run`` worker).

    Loads the clinic with its stored model (:func:`kps_analysis.sections.load`), renders
    every section (:func:`kps_analysis.sections.render`), writes its result tables
    (:func:`kps_analysis.sections.write_tables`) and then :data:`FILE` in ``model_dir``
    (last, so a notebook never shows the sections of a clinic whose tables are missing).

    Returns
    -------
    pathlib.Path
        The written fragments file.

    Raises
    ------
    Exception
        Whatever loading the clinic raises (its data or parameters); the notebook then
        loads the clinic itself and reports the problem in its own step.
    """
    from . import sections

    ctx = sections.load(clinic_id, parameters_dir, data_dir, output_dir, run_id, previous_tables, model_dir)
    rendered = sections.render(ctx)
    sections.write_tables(ctx)
    return write(model_dir, clinic_id, run_id, rendered)


def load_region(run_dir="", parameters_dir="../parameters", language=""):
    """The region overview: its sections as ``kps run`` rendered them in ``<run_dir>/region/``,
    else loaded here (:func:`kps_analysis.sections.load_region`, the same arguments)."""
    stored = read(Path(run_dir) / "region", "region", language) if run_dir else None
    if stored is not None:
        return stored
    from . import sections

    return sections.load_region(run_dir, parameters_dir, language)


def render_region(run_dir, parameters_dir, language, run_id="") -> Path:
    """Render the region overview's sections once and store them in ``<run_dir>/region/`` (in
    the process that runs the overview, before its notebook); returns the written file."""
    from . import sections

    ctx = sections.load_region(run_dir, parameters_dir, language)
    rendered = sections.render(ctx, sections.REGION_KEYS)
    return write(Path(run_dir) / "region", "region", run_id, rendered, language)
