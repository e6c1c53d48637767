"""Reading a parameter file: bounded (size, alias expansion), strict (a key given twice is an
error) and safe (only a regular file is opened), with messages that name the file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from .errors import ParameterError

#: Largest parameter file read [bytes]; a clinic file is a few kilobytes.
MAX_YAML_BYTES = 1_000_000


#: Most values a parameter file may hold once its aliases (``*name``) are expanded; a
#: "billion laughs" file holds few nodes that expand to billions.
MAX_YAML_VALUES = 100_000


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last)
    and a document whose aliases expand to more than :data:`MAX_YAML_VALUES` values or
    refer to themselves (checked on the composed node graph, before anything is built)."""

    def construct_document(self, node):
        _check_expansion(node)
        return super().construct_document(node)


class _AliasBomb(yaml.YAMLError):
    """A document whose aliases expand beyond the limit or refer to themselves."""


def _check_expansion(root) -> None:
    """Count the values of a composed YAML document as if every alias were written out.

    An alias is the same node object as its anchor, so the document is a graph; the
    expanded size of a node is 1 + the sizes of its children, worked out once per node
    (memoised), in time linear in the number of distinct nodes.  A node reachable from
    itself (``&a [*a]``) would expand without end.
    """
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            children = _yaml_children(node)
            total = 1 + sum(size[id(c)] for c in children)
            if total > MAX_YAML_VALUES:
                raise _AliasBomb(f"the aliases (*name) expand to more than {MAX_YAML_VALUES:,} values; "
                                 "write the values out instead")
            size[key] = total
            continue
        if key in size:
            continue
        if key in on_path:
            raise _AliasBomb("an alias (*name) refers to the value that contains it, so it never ends")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _yaml_children(node) if id(c) not in size)


def _yaml_children(node) -> list:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _construct_unique_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(
                key_node, yaml.ScalarNode):
            continue
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                                 _construct_unique_mapping)


def _construct_timestamp_or_text(loader, node):
    """A YAML date, or its text when it is no calendar date (``2027-02-30``).

    PyYAML raises a bare ValueError for such a date; kept as text, it reaches the schema
    check, whose message names the file and the key.
    """
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_or_text)


def read_yaml(path: Path) -> dict:
    """A parameter file's mapping; ParameterError naming the file for anything else.

    Only a regular file of at most :data:`MAX_YAML_BYTES` is opened (a named pipe or a
    device would block or never end), and its aliases may not expand beyond
    :data:`MAX_YAML_VALUES` values.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ParameterError("file not found", path=path) from None
    except OSError as exc:
        raise ParameterError(f"cannot read the file: {exc.strerror or exc}", path=path) from None
    if not stat.S_ISREG(info.st_mode):
        what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file (a pipe or a device?)"
        raise ParameterError(f"is {what}; a parameter file must be a YAML text file", path=path)
    if info.st_size > MAX_YAML_BYTES:
        raise ParameterError(f"the file holds {info.st_size:,} bytes, more than the {MAX_YAML_BYTES:,} a "
                             "parameter file may have", path=path)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_YAML_BYTES + 1)
        if len(raw) > MAX_YAML_BYTES:
            raise ParameterError(f"the file holds more than the {MAX_YAML_BYTES:,} bytes a parameter "
                                 "file may have", path=path)
        text = raw.decode("utf-8-sig")
    except FileNotFoundError:
        raise ParameterError("file not found", path=path) from None
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        raise ParameterError(f"file is not UTF-8 text (line {line}: byte 0x{exc.object[exc.start]:02x}); "
                             "save it as UTF-8", path=path) from None
    except OSError as exc:
        raise ParameterError(f"cannot read the file: {exc.strerror or exc}",
                             path=path) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - safe loader subclass
    except RecursionError:
        raise ParameterError("not valid YAML: nested too deeply", path=path) from None
    except _AliasBomb as exc:
        raise ParameterError(f"refused: {exc}", path=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ParameterError(f"not valid YAML: {where}{problem}", path=path) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError(f"the file must hold a mapping of keys, got "
                             f"{type(data).__name__}", path=path)
    return data
