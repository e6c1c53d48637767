"""What a clinic's parameters make possible: the optional groups of a clinic file
(:data:`CAPABILITIES`), which a clinic has (:func:`capabilities`) and the sentence a report
section shows when one it needs is missing (:func:`needs_sentence`).
"""

from __future__ import annotations

import types
from collections.abc import Mapping


class _CatalogueText(Mapping):
    """A text of the translation catalogue, ``{"sv": ..., "en": ...}`` read-only, looked up
    when first read (:mod:`kps_analysis.report.labels`; the report package loads after this one)."""

    __slots__ = ("key",)

    def __init__(self, key: str):
        self.key = key

    def _entry(self) -> dict:
        from ..report.labels import TEXTS

        return TEXTS[self.key]

    def __getitem__(self, language):
        return self._entry()[language]

    def __iter__(self):
        return iter(self._entry())

    def __len__(self):
        return len(self._entry())

    def __repr__(self):
        return repr(self._entry())


#: The optional groups of a clinic file, by name: the parameter key that gives each and
#: what it is, in Swedish and English (the translation catalogue's ``capability.<name>``),
#: for a report section to say what it needs.
CAPABILITIES = types.MappingProxyType({
    name: (key, _CatalogueText(f"capability.{name}"))
    for name, key in (("resources", "resources"), ("care_agreement", "annual_volume"), ("prices", "prices"),
                      ("closures", "closures"), ("scenarios", "scenarios"), ("region_pool", "region_pool"))
})


def capabilities(params) -> dict[str, bool]:
    """Which optional groups a clinic's parameters give (:data:`CAPABILITIES`).

    A clinic file needs only a name and its data; everything else is optional.  A
    report section that needs a group the clinic lacks says so
    (:func:`needs_sentence`) instead of the clinic being refused.

    Parameters
    ----------
    params : Parameters or Mapping
        One clinic's loaded parameters.

    Returns
    -------
    dict
        ``resources``, ``care_agreement`` (``annual_volume``), ``prices``, ``closures``,
        ``scenarios``, ``region_pool`` -> True when the clinic gives it (a non-empty
        value), in that order.

    Raises
    ------
    ValueError
        If ``params`` is not a mapping.

    Examples
    --------
    >>> capabilities({"name": "Hud", "data": {"weekly": "hud.csv"}, "closures": []})  # doctest: +NORMALIZE_WHITESPACE
    {'resources': False, 'care_agreement': False, 'prices': False, 'closures': False, 'scenarios': False,
     'region_pool': False}
    >>> capabilities({"resources": {"new_visit_slots_per_week": 40}, "region_pool": "hud"})["resources"]
    True
    """
    if not isinstance(params, Mapping):
        raise ValueError(f"params must be loaded parameters (a mapping), got {type(params).__name__}")
    return {name: bool(params.get(key)) for name, (key, _) in CAPABILITIES.items()}


def needs_sentence(groups, *, language: str = "sv") -> str:
    """The sentence a report section shows in place of what it cannot compute.

    Parameters
    ----------
    groups : str or sequence of str
        Names of :data:`CAPABILITIES` the section needs (``"resources"``).
    language : {"sv", "en"}, optional
        Report language.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        For an unknown group or language.

    Examples
    --------
    >>> needs_sentence("prices", language="en")
    "This section needs prices of purchased care and own production (`prices`) in the clinic's parameter file."
    >>> needs_sentence(["resources", "care_agreement"])[:48]
    'Avsnittet kräver klinikens resurser (mottagnings'
    """
    from ..report.labels import label  # the translation catalogue (here: the report package reads parameters)

    if language not in ("sv", "en"):
        raise ValueError(f"language must be 'sv' or 'en', got {language!r}")
    names = [groups] if isinstance(groups, str) else list(groups)
    unknown = [g for g in names if g not in CAPABILITIES]
    if unknown or not names:
        raise ValueError(f"groups must name some of {', '.join(CAPABILITIES)}, got {groups!r}")
    parts = [label(f"capability.{g}", language) for g in names]
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + label("list.and", language) + parts[-1]
    return label("section.needs_parameters", language, groups=joined)
