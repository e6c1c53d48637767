"""Seasonal views of weekly series: the same weeks of previous years side by side.

(Seasonal profiles and periodisation of an annual volume are added by the Core
analytics work; see DESIGN.md.)
"""

from __future__ import annotations

import pandas as pd

__all__ = ["year_over_year"]


def year_over_year(frame: pd.DataFrame, measure: str, *, years: int = 3) -> pd.DataFrame:
    """Arrange a weekly measure by ISO year and ISO week, for the latest ``years`` years.

    A controller compares this year's week 12 with week 12 of the two previous years;
    this gives one row per clinic, ISO year and ISO week (1-53) so the years can be
    drawn on one week axis. The latest year is the ISO year of each clinic's last
    period, which may be incomplete.

    Parameters
    ----------
    frame : DataFrame
        Canonical weekly long frame with ``clinic``, ``period`` (W-SUN) and ``measure``.
    measure : str
        Column to arrange [count per week].
    years : int
        How many ISO years, the latest included [years].

    Returns
    -------
    DataFrame
        Columns ``clinic``, ``year``, ``week``, ``value`` [count per week]; when the
        frame has a ``group`` column the values are summed over groups.

    Raises
    ------
    ValueError
        If ``measure`` is not a column or ``years`` < 1.

    Examples
    --------
    >>> periods = pd.period_range("2023-01-02", "2024-01-14", freq="W-SUN")
    >>> f = pd.DataFrame({"clinic": "a", "period": periods, "new_visits": range(len(periods))})
    >>> yoy = year_over_year(f, "new_visits", years=2)
    >>> yoy[yoy.week == 1][["year", "value"]].to_dict("list")
    {'year': [2023, 2024], 'value': [0.0, 52.0]}
    """
    if measure not in frame.columns:
        raise ValueError(f"measure {measure!r} is not a column of the frame")
    if years < 1:
        raise ValueError(f"years must be at least 1, got {years}")
    weekly = frame.groupby(["clinic", "period"], as_index=False, observed=True)[measure].sum(min_count=1)
    iso = weekly["period"].dt.start_time.dt.isocalendar()
    out = pd.DataFrame({
        "clinic": weekly["clinic"].to_numpy(),
        "year": iso["year"].astype(int).to_numpy(),
        "week": iso["week"].astype(int).to_numpy(),
        "value": weekly[measure].astype(float).to_numpy(),
    })
    last_year = out.groupby("clinic")["year"].transform("max")
    out = out[out["year"] > last_year - years]
    return out.sort_values(["clinic", "year", "week"]).reset_index(drop=True)
