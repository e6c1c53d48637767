"""Reading a parameter file: bounded (size, alias expansion), strict (a key given twice is an
error) and safe (only a regular file is opened), with messages that name the file.
"""

from __future__ import annotations

import errno
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


def read_yaml(path, *, root=None) -> dict:
    """A parameter file's mapping; ParameterError naming the file for anything else.

    The file is read only if it stays inside ``root`` (the parameter folder; default the
    file's own folder) once every link is followed, is a regular file (a named pipe or
    a device would block or never end) of at most :data:`MAX_YAML_BYTES`, and is still
    the file that was checked when it is opened (:func:`read_bounded`); its aliases may
    not expand beyond :data:`MAX_YAML_VALUES` values. No message quotes the file's
    content beyond the YAML syntax error's position.

    Parameters
    ----------
    path : path
        The parameter file, as the user named it (messages name it so).
    root : path, optional
        The folder the file must stay in.

    Returns
    -------
    dict
        The file's mapping (empty for an empty file).

    Raises
    ------
    ParameterError
        Naming ``path``: not found, a link out of ``root``, not a regular file, too large,
        changed while read, not UTF-8, not valid YAML, an alias bomb, not a mapping.
    """
    path = Path(path)
    raw = read_bounded(path, root=path.parent if root is None else Path(root))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        raise ParameterError(f"file is not UTF-8 text (line {line}: byte 0x{exc.object[exc.start]:02x}); "
                             "save it as UTF-8", path=path) from None
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


#: The message of a file that leads out of the parameter folder (its target is not named).
OUTSIDE = "refused: the file is a link to a file outside the parameter folder; put the file itself in the folder"

#: The message of a file replaced between its check and its opening.
CHANGED = "refused: the file changed while it was being read (replaced by another file or a link); try again"

#: Flags of the one ``os.open`` of a parameter file: read only, never through a link (the
#: path opened is the checked real path), never blocking (a pipe swapped in), binary.
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


def read_bounded(path: Path, *, root: Path, limit: int = MAX_YAML_BYTES) -> bytes:
    """The bytes of a parameter file, read safely: inside ``root``, regular, bounded, unchanged.

    Steps: (1) the real path (every link followed) must lie inside the real ``root``
    (:func:`real_path_inside`); (2) its ``lstat`` must be a regular file of at most
    ``limit`` bytes (:func:`checked_stat`); (3) it is opened without following a link and
    without blocking, and the open file's ``fstat`` must be the checked file (same device
    and inode, still regular), which closes the window between the check and the opening;
    (4) at most ``limit + 1`` bytes are read, so a file that grew is refused too.

    Parameters
    ----------
    path : Path
        The file as named by the user.
    root : Path
        The folder it must stay in.
    limit : int
        Most bytes read [bytes].

    Returns
    -------
    bytes
    """
    real = real_path_inside(path, root)
    checked = checked_stat(path, real, limit)
    try:
        fd = os.open(real, _OPEN_FLAGS)
    except FileNotFoundError:
        raise ParameterError("file not found", path=path) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # the checked file was replaced by a link
            raise ParameterError(CHANGED, path=path) from None
        raise ParameterError(f"cannot read the file: {exc.strerror or exc}", path=path) from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (checked.st_dev, checked.st_ino):
            raise ParameterError(CHANGED, path=path)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 16, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise ParameterError(f"cannot read the file: {exc.strerror or exc}", path=path) from None
    finally:
        os.close(fd)
    if size > limit:
        raise ParameterError(f"the file holds more than the {limit:,} bytes a parameter file may have", path=path)
    return b"".join(chunks)


def real_path_inside(path: Path, root: Path) -> Path:
    """The real path of ``path`` (every link followed); ParameterError if it leaves ``root``.

    A link from one place in the parameter folder to another is fine; a link (of the file or
    of a folder on its way) to anything outside the folder is refused with :data:`OUTSIDE`,
    which names the file but not where it leads.
    """
    real = Path(os.path.realpath(path))
    base = Path(os.path.realpath(root))
    if real != base and base not in real.parents:
        raise ParameterError(OUTSIDE, path=path)
    return real


def checked_stat(path: Path, real: Path, limit: int) -> os.stat_result:
    """``lstat`` of the real path, refused unless a regular file of at most ``limit`` bytes."""
    try:
        info = os.lstat(real)
    except FileNotFoundError:
        raise ParameterError("file not found", path=path) from None
    except OSError as exc:
        raise ParameterError(f"cannot read the file: {exc.strerror or exc}", path=path) from None
    if stat.S_ISLNK(info.st_mode):  # realpath left it: a link that leads to itself
        raise ParameterError("is a link that leads to itself; a parameter file must be a YAML text file",
                             path=path)
    if not stat.S_ISREG(info.st_mode):
        what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file (a pipe or a device?)"
        raise ParameterError(f"is {what}; a parameter file must be a YAML text file", path=path)
    if info.st_size > limit:
        raise ParameterError(f"the file holds {info.st_size:,} bytes, more than the {limit:,} a "
                             "parameter file may have", path=path)
    return info
