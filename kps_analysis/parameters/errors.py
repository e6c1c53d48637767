"""The error of a parameter file that cannot be used (:class:`ParameterError`, naming the
file and the key) and the collector of every problem found (:class:`Problems`).
"""

from __future__ import annotations


class ParameterError(ValueError):
    """A parameter file that cannot be used; the message names the file and the key.

    Attributes
    ----------
    path : str or None
        The parameter file (as given, e.g. ``parameters/clinics/uro.yaml``).
    key : str or None
        The dotted key (``resources.theatre_sessions_per_week``, ``closures[1].end``).
    problems : tuple of (path, key, message)
        Every problem found; ``str()`` shows one per line.

    Examples
    --------
    >>> err = ParameterError("key 'guarantee_days' must be a whole number, got str 'x'",
    ...                      path="parameters/defaults.yaml", key="guarantee_days")
    >>> print(err)
    parameters/defaults.yaml: key 'guarantee_days' must be a whole number, got str 'x'
    """

    def __init__(self, message: str, *, path=None, key: str | None = None,
                 problems=()) -> None:
        self.path = None if path is None else str(path)
        self.key = key
        self.message = message
        self.problems = tuple(problems) or ((self.path, key, message),)
        super().__init__("\n".join(
            f"{p}: {m}" if p is not None else m for p, _, m in self.problems))

    @classmethod
    def _from_problems(cls, problems) -> ParameterError:
        path, key, message = problems[0]
        return cls(message, path=path, key=key, problems=problems)


class Problems:
    """Collects (path, key, message) tuples while validating."""

    def __init__(self) -> None:
        self.items: list[tuple[str | None, str | None, str]] = []

    def add(self, path, key, message) -> None:
        self.items.append((None if path is None else str(path), key, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise ParameterError._from_problems(self.items)
