"""The validated parameters, frozen: :class:`ParameterSection` (a read-only mapping with
attribute access) and :class:`Parameters` (one clinic's, with its hash and source files).
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from .schema import join_key


def _freeze(value, key: str = ""):
    if isinstance(value, ParameterSection):
        return value
    if isinstance(value, Mapping):
        return ParameterSection(value, key=key)
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v, f"{key}[{i}]") for i, v in enumerate(value))
    return value


def _thaw(value):
    if isinstance(value, ParameterSection):
        return {k: _thaw(v) for k, v in value._data.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class ParameterSection(Mapping):
    """A read-only mapping with attribute access: ``s.key`` is ``s["key"]``.

    Nested sections are sections too, lists are tuples, dates :class:`datetime.date`.
    Being a mapping, a section can be unpacked at a function boundary:
    ``f(**params.resources)``.
    """

    __slots__ = ("_data", "_key")

    def __init__(self, data: Mapping, *, key: str = "") -> None:
        object.__setattr__(self, "_data",
                           {k: _freeze(v, join_key(key, k)) for k, v in data.items()})
        object.__setattr__(self, "_key", key)

    def __getitem__(self, name):
        return self._data[name]

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._data[name]
        except KeyError:
            full = join_key(self._key, name)
            match = difflib.get_close_matches(name, list(self._data), n=1)
            hint = f" (did you mean {join_key(self._key, match[0])!r}?)" if match else ""
            raise AttributeError(f"no parameter {full!r}{hint}") from None

    def __setattr__(self, name, value):
        raise AttributeError(f"parameters are read-only: cannot set "
                             f"{join_key(self._key, name)!r}")

    def __delattr__(self, name):
        raise AttributeError(f"parameters are read-only: cannot delete "
                             f"{join_key(self._key, name)!r}")

    def __dir__(self):
        return sorted(set(super().__dir__()) | {k for k in self._data if k.isidentifier()})

    def __reduce__(self):
        return (_rebuild_section, (self._data, self._key))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def to_dict(self) -> dict:
        """Plain, JSON-able copy: nested dicts and lists, dates as ISO text."""
        return _thaw(self)


def _rebuild_section(data, key):
    return ParameterSection(data, key=key)


def _rebuild_parameters(data, clinic_id, source_files):
    return Parameters(data, clinic_id=clinic_id, source_files=source_files)


class Parameters(ParameterSection):
    """The validated, merged, read-only parameters of one clinic.

    Attributes
    ----------
    clinic_id : str
        The clinic id (file stem of the clinic file).
    source_files : tuple of pathlib.Path
        ``defaults.yaml`` and the clinic file, in merge order.
    hash : str
        First 12 hex digits of the SHA-256 of the canonical JSON of :meth:`to_dict`
        (keys sorted): equal parameters give equal hashes, whatever the key order or
        spelling (``2025-07-07`` quoted or not, ``150`` or ``150.0``) in the files.
    """

    __slots__ = ("clinic_id", "source_files", "hash")

    def __init__(self, data: Mapping, *, clinic_id: str, source_files=()) -> None:
        super().__init__(data, key="")
        object.__setattr__(self, "clinic_id", clinic_id)
        object.__setattr__(self, "source_files", tuple(Path(p) for p in source_files))
        canonical = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False,
                               separators=(",", ":"), allow_nan=False)
        object.__setattr__(self, "hash",
                           hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12])

    def __reduce__(self):
        return (_rebuild_parameters, (self._data, self.clinic_id, self.source_files))

    def __repr__(self) -> str:
        return f"Parameters(clinic_id={self.clinic_id!r}, hash={self.hash!r})"
