"""Loading one clinic's parameters (:func:`load_parameters`: read, merge, validate, freeze),
finding the clinics (:func:`list_clinics`) and validating them all (:func:`validate_all`).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path

from .errors import ParameterError, Problems
from .frozen import Parameters
from .schema import CLINIC_ID_PATTERN, TREE
from .validation import Sources, check_file, check_relations, complete
from .yaml_files import read_yaml


def deep_merge(base: Mapping, override: Mapping) -> dict:
    """Merge ``override`` into ``base``: mappings recursively, anything else replaced.

    A list in ``override`` replaces the list in ``base`` as a whole (a clinic's
    closures are its own, not added to the region's).  Neither input is changed.

    Parameters
    ----------
    base, override : Mapping
        Nested mappings (parsed YAML).

    Returns
    -------
    dict

    Examples
    --------
    >>> deep_merge({"a": 1, "s": {"x": 1, "y": 2}, "l": [1, 2]},
    ...            {"s": {"y": 3}, "l": [9]})
    {'a': 1, 's': {'x': 1, 'y': 3}, 'l': [9]}
    """
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def clinic_dir(parameters_dir) -> Path:
    return Path(parameters_dir) / "clinics"


def list_clinics(parameters_dir="parameters") -> list[str]:
    """Clinic ids in ``parameters_dir/clinics``: the sorted stems of the ``*.yaml`` files.

    Parameters
    ----------
    parameters_dir : path
        The parameter folder (holds ``defaults.yaml`` and ``clinics/``).

    Returns
    -------
    list of str

    Raises
    ------
    ParameterError
        If ``parameters_dir/clinics`` is not a folder.

    Examples
    --------
    >>> from pathlib import Path
    >>> import kps_analysis
    >>> list_clinics(Path(kps_analysis.__file__).resolve().parents[1] / "parameters")
    ['gyn', 'hud', 'kir', 'ogon', 'onh', 'ort_nord', 'ort_syd', 'uro']
    """
    folder = clinic_dir(parameters_dir)
    if not folder.is_dir():
        raise ParameterError("folder of clinic parameter files not found", path=folder)
    return sorted(p.stem for p in folder.glob("*.yaml") if not p.is_dir())  # a pipe too: then it is refused


def load_parameters(clinic_id: str, parameters_dir="parameters", *,
                    overrides: Mapping | None = None) -> Parameters:
    """Read, merge and validate one clinic's parameters.

    ``parameters_dir/defaults.yaml`` is merged with
    ``parameters_dir/clinics/<clinic_id>.yaml`` (the clinic wins; mappings merge key by
    key, lists are replaced), then ``overrides`` (if given) on top.  Every file is
    checked for unknown keys, wrong types and out-of-range values; the merged result
    for missing required keys and for rules between keys.  Every problem found is
    reported at once.

    Parameters
    ----------
    clinic_id : str
        The clinic id, a plain identifier (``^[a-z0-9][a-z0-9_-]*$``): the file stem in
        ``parameters_dir/clinics``.
    parameters_dir : path
        The parameter folder.
    overrides : Mapping, optional
        Values on top of the files (same keys as the files; dates may be ISO text),
        e.g. ``{"language": "en"}``; validated like a clinic file.

    Returns
    -------
    Parameters
        Read-only; attribute and item access; ``.to_dict()``, ``.hash``,
        ``.clinic_id``, ``.source_files``.

    Raises
    ------
    ParameterError
        For an invalid clinic id, a missing or unreadable file, and every validation
        problem; the message names the file and the dotted key.

    Examples
    --------
    >>> from pathlib import Path
    >>> import kps_analysis
    >>> folder = Path(kps_analysis.__file__).resolve().parents[1] / "parameters"
    >>> p = load_parameters("ogon", folder)
    >>> p.guarantee_days, p.resources.new_visit_slots_per_week
    (90, 206.0)
    >>> p["closures"][0].start
    datetime.date(2026, 6, 29)
    >>> load_parameters("ogon", folder, overrides={"language": "en"}).language
    'en'
    """
    folder = clinic_dir(parameters_dir)
    if not isinstance(clinic_id, str) or not CLINIC_ID_PATTERN.fullmatch(clinic_id):
        # a file in the folder whose stem is no valid id (ort.nord.yaml): name that file
        stems = ({p.stem: p for p in folder.glob("*.yaml")}
                 if isinstance(clinic_id, str) and folder.is_dir() else {})
        own = stems.get(clinic_id) if clinic_id not in ("", ".", "..") else None
        hint = "; rename the file" if own is not None else ""
        raise ParameterError(
            f"clinic id {clinic_id!r} is not a plain identifier (lower-case letters, "
            f"digits, '_' and '-', starting with a letter or digit; no path separators "
            f"or '..'){hint}", path=own if own is not None else folder)
    defaults_path = Path(parameters_dir) / "defaults.yaml"
    clinic_path = folder / f"{clinic_id}.yaml"
    if not os.path.lexists(clinic_path):
        known = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
        match = difflib.get_close_matches(clinic_id, known, n=1)
        hint = f"; did you mean {match[0]!r}?" if match else ""
        raise ParameterError(
            f"no parameter file for clinic {clinic_id!r} (clinics found: "
            f"{', '.join(known) or 'none'}{hint})", path=clinic_path)

    problems = Problems()
    raw_defaults = read_yaml(defaults_path, root=parameters_dir)
    raw_clinic = read_yaml(clinic_path, root=parameters_dir)
    defaults = check_file(raw_defaults, defaults_path, problems, is_defaults=True)
    clinic = check_file(raw_clinic, clinic_path, problems, is_defaults=False)
    extra = {}
    if overrides is not None:
        if not isinstance(overrides, Mapping):
            raise ParameterError(f"overrides must be a mapping, got "
                                 f"{type(overrides).__name__}", path="overrides")
        extra = check_file(overrides, "overrides", problems, is_defaults=False)
    problems.raise_if_any()

    sources = Sources(defaults_path, clinic_path)
    sources.record(defaults, defaults_path)
    sources.record(clinic, clinic_path)
    sources.record(extra, "overrides")
    merged = deep_merge(deep_merge(defaults, clinic), extra)
    completed = complete(merged, TREE, "", sources, problems)
    problems.raise_if_any()
    check_relations(completed, sources, problems)
    problems.raise_if_any()
    return Parameters(completed, clinic_id=clinic_id,
                      source_files=(defaults_path, clinic_path))


def validate_all(parameters_dir="parameters") -> dict[str, str | None]:
    """Validate every clinic file: clinic id -> error message, or None when valid.

    Files in ``clinics/`` ending in ``.yml`` are reported too (they would be ignored:
    only ``.yaml`` counts).

    Parameters
    ----------
    parameters_dir : path
        The parameter folder.

    Returns
    -------
    dict
        One entry per clinic, sorted by id.

    Raises
    ------
    ParameterError
        If ``parameters_dir/clinics`` is not a folder.

    Examples
    --------
    >>> from pathlib import Path
    >>> import kps_analysis
    >>> result = validate_all(Path(kps_analysis.__file__).resolve().parents[1] / "parameters")
    >>> [clinic for clinic, error in result.items() if error is not None]
    []
    """
    result: dict[str, str | None] = {}
    for clinic_id in list_clinics(parameters_dir):
        try:
            load_parameters(clinic_id, parameters_dir)
            result[clinic_id] = None
        except ParameterError as exc:
            result[clinic_id] = str(exc)
    for path in sorted(clinic_dir(parameters_dir).glob("*.yml")):
        result.setdefault(path.stem, f"{path}: clinic files must end in '.yaml', "
                                     f"rename it to {path.stem}.yaml")
    return dict(sorted(result.items()))
