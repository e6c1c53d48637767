"""Validation of parameter files against :data:`~kps_analysis.parameters.schema.SCHEMA`.

Phase 1 (:func:`check_file`): one file (or the overrides) on its own: unknown keys (with a
"did you mean"), types, ranges, data paths.  Phase 2 (:func:`complete`): the merged
parameters: required keys, defaults.  Phase 3 (:func:`check_relations`): rules between
keys.  Every problem is collected (:class:`~kps_analysis.parameters.errors.Problems`) with
the file that gave the key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import math
import re
from collections.abc import Mapping
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from .. import calendar as _calendar
from .errors import Problems
from .schema import ABSENT, CLINIC_ID_PATTERN, SCHEMA, TREE, TYPE_WORDS, Node, Spec, join_key, number_text, segments

_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


_DATA_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".parquet", ".pq")


def parse_date(value, *, name: str = "date") -> dt.date:
    """Parse a parameter date: a ``datetime.date`` or an ISO text ``YYYY-MM-DD``.

    YAML turns an unquoted ``2025-07-07`` into a date, a quoted one (and anything
    papermill hands over) stays text; both give the same :class:`datetime.date`.

    Parameters
    ----------
    value : datetime.date, datetime.datetime or str
        The date; a datetime must be at midnight [date].
    name : str
        Name used in the error message.

    Returns
    -------
    datetime.date

    Raises
    ------
    ValueError
        If ``value`` is not a valid date in that form (the message names ``name``).

    Examples
    --------
    >>> parse_date("2025-07-07")
    datetime.date(2025, 7, 7)
    >>> import datetime
    >>> parse_date(datetime.date(2025, 7, 7)) == parse_date("2025-07-07")
    True
    """
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0) or value.tzinfo is not None:
            raise ValueError(f"{name} must be a date without a time of day, got {value}")
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DATE_PATTERN.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{name} {value!r} is not a valid calendar date") from None
    raise ValueError(f"{name} must be a date YYYY-MM-DD, got {type(value).__name__} "
                     f"{value!r}")


def _parent_key(key: str) -> str:
    if key.endswith("]"):
        return key[: key.rindex("[")]
    return key.rpartition(".")[0]


def _describe(value) -> str:
    if value is None:
        return "null"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _unit_note(spec: Spec) -> str:
    return f" [{spec.unit}]" if spec.unit not in ("-", "text") else ""


def _bound_text(spec: Spec) -> str:
    if spec.min is not None and spec.max is not None:
        return f"between {number_text(spec.min)} and {number_text(spec.max)}"
    if spec.min is not None:
        return f"at least {number_text(spec.min)}"
    return f"at most {number_text(spec.max)}"


def _suggest(name: str, node: Node, prefix: str) -> str:
    """A " (did you mean ...?)" hint for an unknown key, or ""."""
    siblings = [k for k in node.children if k not in ("[]", "<name>")]
    match = difflib.get_close_matches(name, siblings, n=1, cutoff=0.6)
    if match:
        return f" (did you mean {join_key(prefix, match[0])!r}?)"
    elsewhere = [k for k in SCHEMA if segments(k)[-1] == name]
    if elsewhere:
        return f" (did you mean {elsewhere[0]!r}? it belongs in another section)"
    leaves = {segments(k)[-1]: k for k in SCHEMA}
    match = difflib.get_close_matches(name, list(leaves), n=1, cutoff=0.75)
    if match:
        return f" (did you mean {leaves[match[0]]!r}?)"
    return ""


_INVALID = object()


def check_file(data: Mapping, source, problems: Problems, *, is_defaults: bool) -> dict:
    out = _check_node(data, TREE, "", source, problems)
    if out is _INVALID:
        return {}
    if is_defaults:
        for name in list(out):
            if TREE.children[name].spec.scope == "clinic":
                problems.add(source, name,
                             f"key {name!r} belongs in a clinic file "
                             f"(clinics/<clinic-id>.yaml), not in the region defaults")
                del out[name]
    return out


def _check_node(value, node: Node, key: str, source, problems: Problems):
    spec = node.spec
    if value is None:
        return None  # null means "not given"; required keys are checked after merging
    kind = spec.type
    if kind == "section":
        if not isinstance(value, Mapping):
            return _wrong_type(value, spec, key, source, problems)
        out = {}
        for name, item in value.items():
            if not isinstance(name, str):
                problems.add(source, key or None,
                             f"key {name!r}{' in ' + repr(key) if key else ''} must be "
                             f"text (quote it)")
                continue
            child = node.children.get(name)
            if child is None or name in ("[]", "<name>"):
                full = join_key(key, name)
                problems.add(source, full,
                             f"key {full!r} is unknown{_suggest(name, node, key)}")
                continue
            checked = _check_node(item, child, join_key(key, name), source, problems)
            if checked is not _INVALID:
                out[name] = checked
        return out
    if kind == "list[section]":
        if not isinstance(value, (list, tuple)):
            return _wrong_type(value, spec, key, source, problems)
        out_list = []
        for i, item in enumerate(value):
            item_key = f"{key}[{i}]"
            if item is None:
                problems.add(source, item_key,
                             f"key {item_key!r} must be a mapping, got null")
                continue
            checked = _check_node(item, node.children["[]"], item_key, source, problems)
            if checked is not _INVALID:
                out_list.append(checked)
        return out_list
    if kind == "dict[str, section]":
        if not isinstance(value, Mapping):
            return _wrong_type(value, spec, key, source, problems)
        out = {}
        for name, item in value.items():
            item_key = f"{key}.{name}"
            if not isinstance(name, str) or not CLINIC_ID_PATTERN.fullmatch(name):
                problems.add(source, item_key,
                             f"name {name!r} in {key!r} must be a lower-case identifier "
                             f"(letters a-z, digits, '_' and '-')")
                continue
            checked = _check_node({} if item is None else item, node.children["<name>"],
                                  item_key, source, problems)
            if checked is not _INVALID:
                out[name] = checked
        return out
    if kind.startswith("list["):
        if not isinstance(value, (list, tuple)):
            return _wrong_type(value, spec, key, source, problems)
        item_spec = dataclasses.replace(spec, type=kind[5:-1])
        items = []
        ok = True
        for i, item in enumerate(value):
            checked = _check_leaf(item, item_spec, f"{key}[{i}]", source, problems)
            ok &= checked is not _INVALID
            items.append(checked)
        if not ok:
            return _INVALID
        if len(set(items)) != len(items):
            problems.add(source, key, f"key {key!r} lists a value twice: {list(items)}")
            return _INVALID
        return items
    return _check_leaf(value, spec, key, source, problems)


def _wrong_type(value, spec: Spec, key: str, source, problems: Problems):
    hint = ""
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+,\d+\s*", value):
        hint = " (use a decimal point, not a comma)"
    elif isinstance(value, bool) and spec.type in ("str", "path"):
        hint = (" (YAML reads an unquoted NO, YES, ON or OFF as false or true: write the text "
                "in quotes, e.g. 'NO')")
    problems.add(source, key, f"key {key!r} must be {TYPE_WORDS[spec.type]}"
                              f"{_unit_note(spec)}, got {_describe(value)}{hint}")
    return _INVALID


def _check_leaf(value, spec: Spec, key: str, source, problems: Problems):
    kind = spec.type
    if value is None:
        problems.add(source, key, f"key {key!r} must be {TYPE_WORDS[kind]}, got null")
        return _INVALID
    if kind in ("str", "path"):
        if not isinstance(value, str):
            return _wrong_type(value, spec, key, source, problems)
        value = value.strip()
        if not value:
            problems.add(source, key, f"key {key!r} must not be empty")
            return _INVALID
        if kind == "path":
            return _check_path(value, key, source, problems)
    elif kind == "int":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return _wrong_type(value, spec, key, source, problems)
        if isinstance(value, float):
            if not value.is_integer():
                return _wrong_type(value, spec, key, source, problems)
            value = int(value)
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return _wrong_type(value, spec, key, source, problems)
        value = float(value)
        if not math.isfinite(value):
            problems.add(source, key, f"key {key!r} must be a finite number, got {value}")
            return _INVALID
    elif kind == "bool":
        if not isinstance(value, bool):
            return _wrong_type(value, spec, key, source, problems)
    elif kind == "date":
        try:
            value = parse_date(value, name=f"key {key!r}")
        except ValueError as exc:
            problems.add(source, key, str(exc))
            return _INVALID
    if spec.choices is not None and value not in spec.choices:
        allowed = ", ".join(repr(c) for c in spec.choices)
        problems.add(source, key, f"key {key!r} must be one of {allowed}, got {value!r}")
        return _INVALID
    if spec.pattern is not None and not re.fullmatch(spec.pattern, value):
        problems.add(source, key, f"key {key!r} must be a lower-case identifier "
                                  f"(letters a-z, digits, '_' and '-'), got {value!r}")
        return _INVALID
    if kind in ("int", "float") and (
            (spec.min is not None and value < spec.min)
            or (spec.max is not None and value > spec.max)):
        problems.add(source, key, f"key {key!r} must be {_bound_text(spec)}"
                                  f"{_unit_note(spec)}, got {value!r}")
        return _INVALID
    return value


def _check_path(value: str, key: str, source, problems: Problems):
    if PurePosixPath(value).is_absolute() or PureWindowsPath(value).is_absolute() \
            or PureWindowsPath(value).drive:
        problems.add(source, key, f"key {key!r} must be a path relative to the data "
                                  f"folder, got the absolute path {value!r}")
        return _INVALID
    parts = PurePosixPath(value.replace("\\", "/")).parts
    if ".." in parts:
        problems.add(source, key, f"key {key!r} must stay inside the data folder "
                                  f"(no '..'), got {value!r}")
        return _INVALID
    if PurePosixPath(value).suffix.lower() not in _DATA_SUFFIXES:
        problems.add(source, key, f"key {key!r} must name a CSV, XLSX or Parquet file "
                                  f"({', '.join(_DATA_SUFFIXES)}), got {value!r}")
        return _INVALID
    return value


class Sources:
    """Which file gave each (concrete, dotted) key, for error messages."""

    def __init__(self, defaults_path, clinic_path) -> None:
        self.defaults_path = defaults_path
        self.clinic_path = clinic_path
        self.by_key: dict[str, Any] = {}

    def record(self, tree, source, prefix: str = "") -> None:
        if isinstance(tree, Mapping):
            for name, value in tree.items():
                key = join_key(prefix, name)
                self.by_key[key] = source
                self.record(value, source, key)
        elif isinstance(tree, list):
            for i, value in enumerate(tree):
                self.record(value, source, f"{prefix}[{i}]")

    def of(self, key: str, *, scope: str = "clinic"):
        probe = key
        while probe:
            if probe in self.by_key:
                return self.by_key[probe]
            probe = _parent_key(probe)
        return self.clinic_path if scope == "clinic" else self.defaults_path


def complete(value, node: Node, key: str, sources: Sources, problems: Problems):
    """Fill defaults of optional keys, report missing required keys; schema order."""
    kind = node.spec.type
    if kind == "section":
        value = value or {}
        out = {}
        for name, child in node.children.items():
            child_key = join_key(key, name)
            given = value.get(name)
            if given is not None:
                out[name] = complete(given, child, child_key, sources, problems)
            elif child.spec.required:
                where = sources.of(child_key, scope=child.spec.scope)
                state = "is null" if name in value else "is missing"
                problems.add(where, child_key,
                             f"required key {child_key!r} {state}{_unit_note(child.spec)}")
            else:
                default = _default(child, child_key, sources, problems)
                if default is not ABSENT:
                    out[name] = default
        return out
    if kind == "list[section]":
        return [complete(item, node.children["[]"], f"{key}[{i}]", sources, problems)
                for i, item in enumerate(value)]
    if kind == "dict[str, section]":
        return {name: complete(item, node.children["<name>"], f"{key}.{name}", sources,
                                problems)
                for name, item in value.items()}
    return value


def _default(node: Node, key: str, sources: Sources, problems: Problems):
    kind = node.spec.type
    if kind == "section":
        # an optional group not given stays "not given": filling it from its keys'
        # defaults would hide its absence (a clinic without resources would get some)
        return node.spec.default
    if kind.startswith("list"):
        return []
    if kind.startswith("dict"):
        return {}
    return node.spec.default


def check_relations(p: dict, sources: Sources, problems: Problems) -> None:
    """Rules between keys, on the merged and completed parameters."""

    def add(key, message):
        problems.add(sources.of(key), key, message)

    def get(dotted):
        node = p
        for seg in dotted.split("."):
            if not isinstance(node, Mapping) or seg not in node:
                return None
            node = node[seg]
        return node

    earliest = get("plausible_from")
    if isinstance(earliest, dt.date) and earliest >= dt.date.today():
        add("plausible_from", f"key 'plausible_from' must lie before today, got {earliest.isoformat()}")
    fixed, planning = get("fixed_horizon_weeks"), get("planning_horizon_weeks")
    if fixed is not None and planning is not None and planning < fixed:
        add("planning_horizon_weeks", f"key 'planning_horizon_weeks' ({planning}) must be "
                                      f"at least 'fixed_horizon_weeks' ({fixed})")
    yellow = get("escalation.yellow_deviation_pct")
    red = get("escalation.red_deviation_pct")
    if yellow is not None and red is not None and not red > yellow:
        add("escalation.red_deviation_pct",
            f"key 'escalation.red_deviation_pct' ({number_text(red)} %) must be greater than "
            f"'escalation.yellow_deviation_pct' ({number_text(yellow)} %)")
    first, last = get("summer.first_week"), get("summer.last_week")
    if first is not None and last is not None and last < first:
        add("summer.last_week", f"key 'summer.last_week' ({last}) must be at least "
                                f"'summer.first_week' ({first})")
    data = get("data")
    if isinstance(data, Mapping) and not (data.get("weekly") or data.get("waiting_list")):
        add("data", "key 'data' must name at least one file: 'data.weekly' or "
                    "'data.waiting_list'")
    sessions = get("resources.theatre_sessions_per_week")
    operates = bool(sessions) or bool(get("annual_volume.operations"))
    if sessions and get("resources.operations_per_session") is None:
        add("resources.operations_per_session",
            "key 'resources.operations_per_session' is required when "
            "'resources.theatre_sessions_per_week' is above 0")
    if operates:
        for k in ("prices.purchase_operation_sek", "prices.internal_operation_sek"):
            if get("prices") is not None and get(k) is None:
                add(k, f"key {k!r} is required for a clinic that operates "
                       f"(theatre sessions or annual operations above 0)")
    closures = get("closures") or []
    for i, c in enumerate(closures):
        if c.get("start") and c.get("end") and c["end"] < c["start"]:
            add(f"closures[{i}].end", f"key 'closures[{i}].end' ({c['end']}) is before "
                                      f"its start ({c['start']})")
    spans = sorted((c["start"], c["end"], i) for i, c in enumerate(closures)
                   if c.get("start") and c.get("end") and c["end"] >= c["start"])
    for (s1, e1, i1), (s2, e2, i2) in zip(spans, spans[1:]):
        if s2 <= e1:
            add(f"closures[{i2}].start",
                f"closures[{i1}] ({s1}..{e1}) and closures[{i2}] ({s2}..{e2}) overlap")
    check_region_keys(p, add)
    slots = get("resources.new_visit_slots_per_week")
    needs = (("extra_new_visit_slots_per_week", "resources", "the new-visit slots it adds to"),
             ("extra_theatre_sessions_per_week", "resources", "the theatre sessions it adds to"),
             ("summer_closure_extra_weeks", "closures", "a summer closure to extend"),
             ("purchase_price_change_pct", "prices", "the prices it changes"))
    for name, s in (get("scenarios") or {}).items():
        k = f"scenarios.{name}"
        for field, group, what in needs:
            if s.get(field) and not get(group):
                add(f"{k}.{field}", f"key '{k}.{field}' needs {group!r} ({what}), which the clinic "
                                    f"does not give")
        if s.get("moved_patients_per_week") and get("region_pool") is None:
            add(f"{k}.moved_patients_per_week",
                f"key '{k}.moved_patients_per_week' needs 'region_pool' (the clinics "
                f"patients can be moved between)")
        if sessions is not None and sessions + s.get("extra_theatre_sessions_per_week",
                                                     0.0) < 0:
            add(f"{k}.extra_theatre_sessions_per_week",
                f"key '{k}.extra_theatre_sessions_per_week' removes more than the "
                f"{number_text(sessions)} theatre sessions per week the clinic has")
        if slots is not None and slots + s.get("extra_new_visit_slots_per_week", 0.0) < 0:
            add(f"{k}.extra_new_visit_slots_per_week",
                f"key '{k}.extra_new_visit_slots_per_week' removes more than the "
                f"{number_text(slots)} new-visit slots per week the clinic has")


def check_region_keys(p: dict, add) -> None:
    """``country`` and ``subdivision`` known to the ``holidays`` package; normalised in place
    (``gb`` -> ``GB``, ``GB-ENG`` -> ``GB`` and ``ENG``, ``England`` -> ``ENG``)."""
    country, subdivision = p.get("country"), p.get("subdivision")
    if country is None:
        return
    try:
        code, _ = _calendar.check_region(str(country).partition("-")[0])
    except ValueError as exc:
        add("country", f"key 'country': {exc}")
        return
    try:
        code, sub = _calendar.check_region(country, subdivision)
    except ValueError as exc:
        key = "subdivision" if subdivision is not None else "country"  # else 'GB-XYZ' in country
        add(key, f"key {key!r}: {exc}")
        return
    p["country"] = code
    if "subdivision" in p or sub is not None:
        p["subdivision"] = sub
