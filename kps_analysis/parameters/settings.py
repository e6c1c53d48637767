"""Settings other modules take from the parameters: the region-wide settings of
``defaults.yaml`` (:func:`region_settings`), the holiday calendar (:func:`calendar_region`)
and how old data may be (:func:`freshness_limit_days`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .. import calendar as _calendar
from .errors import Problems
from .schema import SCHEMA
from .validation import check_file, check_region_keys
from .yaml_files import read_yaml

#: The region-wide settings a region report needs without any clinic's file.
REGION_SETTINGS = ("language", "guarantee_days", "target_share_within_guarantee", "suppression_limit",
                   "country", "subdivision")


def region_settings(parameters_dir="parameters") -> dict:
    """The region-wide settings of ``defaults.yaml``, validated: language, guarantee
    limit [days], target share within it [share 0-1], the small-count limit
    [patients] and the calendar (country and subdivision codes); a key the file leaves
    out takes the schema's default.

    The region overview uses these, so its guarantee line and language follow the
    same file as the clinic reports instead of settings of its own.

    Raises
    ------
    ParameterError
        For a missing or unreadable ``defaults.yaml`` and for every invalid key in it
        (the message names the file and the key).

    Examples
    --------
    >>> from pathlib import Path
    >>> import kps_analysis
    >>> folder = Path(kps_analysis.__file__).resolve().parents[1] / "parameters"
    >>> region_settings(folder)  # doctest: +NORMALIZE_WHITESPACE
    {'language': 'sv', 'guarantee_days': 90, 'target_share_within_guarantee': 0.95, 'suppression_limit': 5,
     'country': 'SE', 'subdivision': None}
    """
    path = Path(parameters_dir) / "defaults.yaml"
    problems = Problems()
    checked = check_file(read_yaml(path, root=parameters_dir), path, problems, is_defaults=True)
    problems.raise_if_any()
    settings = {k: checked.get(k, SCHEMA[k].default) for k in REGION_SETTINGS}
    check_region_keys(settings, lambda key, message: problems.add(path, key, message))
    problems.raise_if_any()
    return settings


def calendar_region(params) -> dict:
    """The calendar keyword arguments of a clinic: ``{"country": ..., "subdivision": ...}``.

    Unpacks the parameters at the boundary for the calendar functions:
    ``kps_analysis.calendar.working_days(periods, **calendar_region(params))``.

    Parameters
    ----------
    params : Parameters or Mapping
        Loaded parameters (a mapping without the keys gives Sweden).

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        If ``params`` is not a mapping, or names an unknown country or subdivision.

    Examples
    --------
    >>> calendar_region({"country": "GB", "subdivision": "ENG"}), calendar_region({})
    ({'country': 'GB', 'subdivision': 'ENG'}, {'country': 'SE', 'subdivision': None})
    """
    if not isinstance(params, Mapping):
        raise ValueError(f"params must be loaded parameters (a mapping), got {type(params).__name__}")
    country = params.get("country") or SCHEMA["country"].default
    code, sub = _calendar.check_region(country, params.get("subdivision"))
    return {"country": code, "subdivision": sub}


def freshness_limit_days(params, freq) -> int:
    """Days after the end of the latest period before a clinic's data count as stale.

    ``stale_after_days`` for weekly data, ``stale_after_days_monthly`` for monthly data;
    compare with :func:`kps_analysis.calendar.data_age_days` (stale when the age is
    greater).

    Parameters
    ----------
    params : Parameters or Mapping
        Loaded parameters (a key they lack takes the schema's default).
    freq : str, pandas offset, Period or PeriodDtype
        The data's period: ``"W-SUN"`` / ``"W"`` (weeks) or ``"M"`` / ``"ME"`` (months).

    Returns
    -------
    int
        [days]

    Raises
    ------
    ValueError
        For a period that is neither weekly nor monthly.

    Examples
    --------
    >>> freshness_limit_days({}, "W-SUN"), freshness_limit_days({"stale_after_days_monthly": 60}, "M")
    (14, 60)
    """
    code = getattr(freq, "freqstr", None) or getattr(getattr(freq, "freq", None), "freqstr", None) or str(freq)
    code = str(code).upper()
    key = ("stale_after_days" if code.startswith("W") else
           "stale_after_days_monthly" if code in ("M", "ME", "MS") else None)
    if key is None:
        raise ValueError(f"freq must be weekly (W-SUN) or monthly (M), got {freq!r}")
    value = params.get(key) if isinstance(params, Mapping) else None
    return int(SCHEMA[key].default if value is None else value)
