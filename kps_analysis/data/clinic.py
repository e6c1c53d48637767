"""A clinic's data: paths checked inside the data folder, files read, one clinic selected.

Part of :mod:`kps_analysis.data`; see its docstring for the canonical frames.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
import pandas as pd

from .derive import weekly_from_waiting_list
from .errors import DataError, _shown
from .extract_parts import read_clinic_extract
from .files import check_regular_file
from .schema import MEASURES
from .waiting_list import read_waiting_list
from .weekly import read_weekly


# ============================================================================ clinic data
@dataclasses.dataclass(frozen=True, eq=False)
class ClinicData:
    """A clinic's canonical data: the weekly (or monthly) frame and the extract, if any.

    Attributes
    ----------
    weekly : pandas.DataFrame
        Canonical frame (``clinic``, optional ``group``, ``period``, measures).
    waiting_list : pandas.DataFrame or None
        Canonical extract (personal data: never show it in a report), or None.  Of an
        extract file of :data:`STREAMED_EXTRACT_MIN_BYTES` or more, only the rows of the
        patients still waiting at its end (what :func:`waiting_snapshot` at the end of the
        data needs; if none, the clinic's last row).
    """

    weekly: pd.DataFrame
    waiting_list: pd.DataFrame | None = None


_DATA_FILE_KEYS = ("weekly", "waiting_list")
_DATA_KEYS = (*_DATA_FILE_KEYS, "sheet")


def checked_data_path(data_dir, relative, *, key: str = "weekly", max_bytes=None) -> Path:
    """The path of a data file named in a clinic's parameters, checked to stay in its folder.

    ``relative`` (a clinic parameter ``data.weekly`` or ``data.waiting_list``) must be a
    relative path without ``..``; resolved (every symbolic link followed, a linked
    sub-folder too) it must lie inside ``data_dir`` resolved, and be a regular file of
    at most ``max_bytes``.  Nothing is opened: a named pipe or a device is refused
    without blocking.  Files a user names on the command line are not bound to a folder;
    this check is for files reached through parameters.

    Parameters
    ----------
    data_dir : str or path-like
        The data folder.
    relative : str or path-like
        The file name as the parameter file gives it.
    key : str, default "weekly"
        The parameter key, named in messages (``data.<key>``).
    max_bytes : int, optional
        Largest file accepted (default :data:`MAX_FILE_BYTES`). [bytes]

    Returns
    -------
    pathlib.Path
        ``data_dir / relative`` (as named, for messages; it resolves inside the folder).

    Raises
    ------
    DataError
        Naming the file and the key; the message never says where a link leads.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "hud.csv").write_text("Vecka,Nybesök\\n2024-W05,40\\n", encoding="utf-8")
    >>> checked_data_path(folder, "hud.csv") == folder / "hud.csv"
    True
    >>> (folder / "link.csv").symlink_to("/etc/hostname")
    >>> checked_data_path(folder, "link.csv")
    Traceback (most recent call last):
    ...
    kps_analysis.data.DataError: .../link.csv: data.weekly leads outside the data folder (through a symbolic link); ...
    """
    data_dir = Path(data_dir)
    if not isinstance(relative, (str, os.PathLike)):
        raise DataError(f"data.{key} must be a file name, got {type(relative).__name__}", path=data_dir)
    text = os.fspath(relative)
    posix, win = PurePosixPath(text), PureWindowsPath(text)
    if posix.is_absolute() or win.is_absolute() or win.drive or text.startswith(("/", "\\")):
        raise DataError(f"data.{key} = {text!r}: absolute paths are not allowed; give a path relative "
                        "to the data folder", path=data_dir)
    if ".." in posix.parts or ".." in win.parts:
        raise DataError(f"data.{key} = {text!r}: '..' is not allowed (the file must lie inside the data "
                        "folder)", path=data_dir)
    path = data_dir / text
    if not os.path.lexists(path):
        raise DataError(f"file not found (named by the clinic parameter data.{key})", path=path)
    try:
        root = data_dir.resolve(strict=True)
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # a dangling link, a loop of links
        raise DataError(f"file not found (named by the clinic parameter data.{key}; a symbolic link that "
                        "leads nowhere?)", path=path) from None
    if target != root and root not in target.parents:
        raise DataError(f"data.{key} leads outside the data folder (through a symbolic link); copy the file "
                        "into the data folder", path=path)
    check_regular_file(path, max_bytes)
    return path


def _select_clinic(frame: pd.DataFrame, clinic: str, path: Path) -> pd.DataFrame:
    values = pd.unique(frame["clinic"].to_numpy(dtype=object))
    if clinic in values:
        return frame if len(values) == 1 else frame[frame["clinic"] == clinic].reset_index(drop=True)
    if len(values) == 1:  # the file is this clinic's, under another label
        return frame.assign(clinic=clinic)
    if len(values) == 0:
        return frame
    held = ", ".join(_shown(v) for v in sorted(map(str, values))[:10])
    raise DataError(f"no rows for clinic {clinic!r}; the file holds {held}", path=path)


def _to_clinic_level(frame: pd.DataFrame) -> pd.DataFrame:
    measures = [m for m in MEASURES if m in frame.columns]
    return (frame.groupby(["clinic", "period"], sort=True)[measures].sum(min_count=1).reset_index())


def load_clinic_data(data_spec, data_dir, *, clinic, plausible_from=None, max_count_per_period=None,
                     max_bytes=None) -> ClinicData:
    """Load one clinic's data files as named in its parameter file.

    Weekly measures derived from the waiting-list extract
    (:func:`weekly_from_waiting_list`, from the weekly file's first week on when there is
    one, since an extract's early weeks are often incomplete) take precedence; the other
    measures (and weeks the extract does not cover) come from the weekly file, merged on clinic (and group,
    when both have one; otherwise the grouped frame is summed to clinic level) and
    period.  A file that holds a single clinic under another label is relabelled to
    ``clinic``; a file with several clinics is filtered to ``clinic``.

    Parameters
    ----------
    data_spec : mapping
        The clinic parameter ``data``: ``{"weekly": file, "waiting_list": file}``, at
        least one, paths relative to ``data_dir`` (a Parameters object with
        ``to_dict()`` works too), and optionally ``"sheet"``: the worksheet of XLSX files.
    data_dir : str or path-like
        The data folder; every file must resolve inside it (:func:`checked_data_path`).
    clinic : str
        Clinic id.
    plausible_from : date-like, optional
        Earliest plausible date (parameter ``plausible_from``; default
        :data:`PLAUSIBLE_FROM`). [date]
    max_count_per_period : float, optional
        Largest plausible count in the weekly file (parameter ``max_count_per_period``;
        default :data:`MAX_COUNT_PER_PERIOD`). [count/period]
    max_bytes : int, optional
        Largest file opened (parameter ``max_file_megabytes`` times 1,000,000; default
        :data:`MAX_FILE_BYTES`). [bytes]

    An extract file of :data:`STREAMED_EXTRACT_MIN_BYTES` (16 MB) or more is read in parts
    (:func:`~kps_analysis.data.extract_parts.read_clinic_extract`), with the same checks:
    its weekly counts are those of the whole file, and ``waiting_list`` keeps only the
    patients still waiting at its end (memory bounded by a part and those patients).

    Returns
    -------
    ClinicData
        ``weekly`` (canonical frame) and ``waiting_list`` (extract or None).

    Raises
    ------
    DataError
        For an unknown key, no file, an absolute path or one with ``..``, a path that
        leads out of ``data_dir`` through a symbolic link, a file that is not a regular
        file or too large, a missing or unusable file, a monthly file beside an extract,
        or no rows for ``clinic``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "hud.csv").write_text("Vecka,Nybesök\\n2024-W05,40\\n", encoding="utf-8")
    >>> data = load_clinic_data({"weekly": "hud.csv"}, folder, clinic="hud")
    >>> data.weekly[["clinic", "new_visits"]].values.tolist(), data.waiting_list is None
    ([['hud', 40.0]], True)
    """
    data_dir = Path(data_dir)
    spec = data_spec.to_dict() if hasattr(data_spec, "to_dict") else data_spec
    if not isinstance(spec, Mapping):
        raise DataError(f"data must be a mapping such as {{'weekly': 'file.csv'}}, got {spec!r}", path=data_dir)
    unknown = sorted(set(spec) - set(_DATA_KEYS))
    if unknown:
        raise DataError(f"unknown data key(s) {unknown}; expected {list(_DATA_KEYS)}", path=data_dir)
    sheet = spec.get("sheet")
    if sheet is not None and not isinstance(sheet, (str, int)):
        raise DataError(f"data.sheet must be a sheet name, got {type(sheet).__name__}", path=data_dir)
    files = {k: checked_data_path(data_dir, v, key=k, max_bytes=max_bytes)
             for k, v in spec.items() if k in _DATA_FILE_KEYS and v not in (None, "")}
    if not files:
        raise DataError("data names no file; give 'weekly' and/or 'waiting_list'", path=data_dir)
    clinic = str(clinic)
    weekly = waiting = None
    if "weekly" in files:
        weekly = _select_clinic(read_weekly(files["weekly"], clinic=clinic, sheet=sheet,
                                            plausible_from=plausible_from,
                                            max_count_per_period=max_count_per_period, max_bytes=max_bytes),
                                clinic, files["weekly"])
    if "waiting_list" in files:
        waiting = _ClinicWaitingList.read(files["waiting_list"], clinic=clinic, sheet=sheet,
                                          plausible_from=plausible_from, max_bytes=max_bytes)
    if waiting is None or (waiting.rows == 0 and weekly is not None):
        return ClinicData(weekly.reset_index(drop=True), None if waiting is None else waiting.frame)
    if weekly is None:
        return ClinicData(waiting.weekly(), waiting.frame)
    if not weekly["period"].dtype.freq.freqstr.startswith("W"):
        raise DataError("the file holds months, but the waiting list gives weeks; give a weekly file",
                        path=files["weekly"])
    # The weekly file sets the first week: an extract's early weeks are often incomplete
    # (patients who left before the extract's first date are missing from it).
    derived = waiting.weekly(start=weekly["period"].min() if len(weekly) else None)
    if ("group" in derived.columns) != ("group" in weekly.columns):
        derived = _to_clinic_level(derived) if "group" in derived.columns else derived
        weekly = _to_clinic_level(weekly) if "group" in weekly.columns else weekly
    keys = ["clinic"] + (["group"] if "group" in derived.columns else []) + ["period"]
    merged = derived.set_index(keys).combine_first(weekly.set_index(keys)).reset_index()
    measures = [m for m in MEASURES if m in merged.columns]
    merged = merged[keys + measures].sort_values(keys, kind="mergesort").reset_index(drop=True)
    merged[measures] = merged[measures].astype(np.float64)
    merged.attrs["findings"] = list(weekly.attrs.get("findings", []))
    return ClinicData(merged, waiting.frame)


STREAMED_EXTRACT_MIN_BYTES = 16_000_000
"""An extract file of this size or more [bytes] is read in parts by :func:`load_clinic_data`
(:func:`~kps_analysis.data.extract_parts.read_clinic_extract`): memory bounded by a part,
the weekly counts and the patients still waiting, not by the file."""


@dataclasses.dataclass
class _ClinicWaitingList:
    """A clinic's extract: ``frame`` (the extract, or for a large file only the rows still
    waiting at its end), its number of ``rows`` and its weekly flows and queues."""

    frame: pd.DataFrame
    rows: int
    weekly_of: object  # start -> the weekly frame

    def weekly(self, *, start=None) -> pd.DataFrame:
        return self.weekly_of(start)

    @classmethod
    def read(cls, path: Path, *, clinic: str, sheet, plausible_from, max_bytes) -> _ClinicWaitingList:
        if path.stat().st_size >= STREAMED_EXTRACT_MIN_BYTES:
            streamed = read_clinic_extract(path, clinic=clinic, sheet=sheet, plausible_from=plausible_from,
                                           max_bytes=max_bytes)
            return cls(streamed.waiting, streamed.rows, lambda start: streamed.weekly(start=start))
        frame = _select_clinic(read_waiting_list(path, clinic=clinic, sheet=sheet, plausible_from=plausible_from,
                                                 max_bytes=max_bytes), clinic, path)
        return cls(frame, len(frame), lambda start: weekly_from_waiting_list(frame, start=start))


def load_clinic(params, data_dir) -> ClinicData:
    """Load one clinic's data with the input limits of its parameters: the one call of every caller.

    :func:`load_clinic_data` with ``data``, ``plausible_from``, ``max_count_per_period`` and
    ``max_file_megabytes`` of the clinic's loaded parameters, so ``kps validate``, the
    batch's planning pass and the report notebook read the same files the same way.

    Parameters
    ----------
    params : Parameters
        The clinic's loaded parameters (:func:`kps_analysis.parameters.load_parameters`).
    data_dir : str or path-like
        The data folder.

    Returns
    -------
    ClinicData
    """
    def get(key):
        try:
            return params.get(key) if hasattr(params, "get") else getattr(params, key, None)
        except (KeyError, AttributeError):
            return None

    megabytes = get("max_file_megabytes")
    return load_clinic_data(params.data.to_dict(), data_dir, clinic=params.clinic_id,
                            plausible_from=get("plausible_from"), max_count_per_period=get("max_count_per_period"),
                            max_bytes=int(float(megabytes) * 1_000_000) if megabytes else None)
