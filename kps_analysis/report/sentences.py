"""Sentences of a report built from numbers: the title, the provenance footer and the
forecast's model and accuracy in words.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd

from .formatting import data_period, format_count
from .labels import TEXTS, label
from .markup import escape_text


def title_markdown(name: str, hospital: str | None, periods: pd.Series, *, language: str = "sv") -> str:
    """The report title: clinic name, hospital and the latest week of data.

    Examples
    --------
    >>> title_markdown("Urologi", "Norra sjukhuset",
    ...                pd.Series(pd.period_range("2026-11-16", periods=1, freq="W-SUN")))
    '# Urologi\\nNorra sjukhuset · data till och med vecka 2026-W47'

    Name and hospital are user text: :func:`escape_text` makes any markup in them inert.
    """
    last = data_period(periods)
    until = (label("sentence.data_up_to_week", language) + f" {last[1]}"
             if last else "")
    parts = [p for p in (escape_text(hospital), until) if p]
    return f"# {escape_text(name)}\n" + " · ".join(parts)


def run_started(run_id: str) -> datetime | None:
    """When a ``kps run`` started, read from its run id (``YYYYmmdd-HHMMSS`` in UTC, with a
    ``-n`` suffix for a second run in the same second); None for any other id (``interactive``).

    Every output of a run states this one time (the reports, the region overview and the
    index, which reads it from the manifest), not the minute each was drawn.

    >>> run_started("20261203-190644-2")
    datetime.datetime(2026, 12, 3, 19, 6, 44, tzinfo=datetime.timezone.utc)
    >>> run_started("interactive") is None
    True
    """
    import re

    m = re.fullmatch(r"(\d{8}-\d{6})(?:-\d+)?", str(run_id or ""))
    if not m:
        return None
    try:
        return datetime.strptime(m[1], "%Y%m%d-%H%M%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def provenance_markdown(
    *,
    clinic_id: str,
    clinic_name: str,
    parameter_hash: str,
    package_version: str,
    data_period: tuple[str, str] | None,
    run_id: str,
    language: str = "sv",
    now: datetime | None = None,
) -> str:
    """The provenance footer of a report, as Markdown; the time is ``now``, else the run's start
    (:func:`run_started`), else the present.

    Examples
    --------
    >>> print(provenance_markdown(clinic_id="uro", clinic_name="Urologi",
    ...       parameter_hash="abc123", package_version="0.1.0",
    ...       data_period=("2019-W02", "2026-W47"), run_id="r1",
    ...       now=datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)))  # doctest: +NORMALIZE_WHITESPACE
    *Klinik:* Urologi (<code>uro</code>) · *Parametrar:* <code>abc123</code> · *kps-analysis:* 0.1.0 ·
    *Dataperiod:* 2019-W02 – 2026-W47 · *Körning:* <code>r1</code>, 2026-11-23 08:00 UTC ·
    Syntetiska demodata eller regionens data enligt parameterfilen; inga patientuppgifter visas.
    """
    now = now or run_started(run_id) or datetime.now(timezone.utc)
    stamp = now.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    period = f"{data_period[0]} – {data_period[1]}" if data_period else "–"
    words = [label(key, language) for key in ("clinic", "provenance.parameters", "provenance.data_period",
                                              "provenance.run", "provenance.note")]
    return (
        f"*{words[0]}:* {escape_text(clinic_name)} (<code>{escape_text(clinic_id)}</code>) · "
        f"*{words[1]}:* <code>{parameter_hash}</code> · "
        f"*kps-analysis:* {package_version} ·\n*{words[2]}:* {period} · "
        f"*{words[3]}:* <code>{escape_text(run_id)}</code>, {stamp} ·\n{words[4]}"
    )


def forecast_text(forecast: pd.DataFrame, accuracy: pd.DataFrame, *, language: str = "sv",
                  horizon: int = 13) -> str:
    """The forecast's model and its backtest accuracy in words, for one clinic.

    ``accuracy`` is :func:`kps_analysis.forecast.backtest` output with the model's method
    and ``seasonal_naive``; the sentence uses the weighted absolute percentage error
    (``wape``) over all horizons and the empirical coverage of the widest interval.
    ``horizon``: how far ahead the backtest scored [periods] (:func:`kps_analysis.analytics.accuracy_horizon`;
    the text speaks of weeks, the report's ``in_periods`` makes them months).

    Examples
    --------
    >>> fc = pd.DataFrame({"model": ["combo(profile,ets(A,Ad,M))"]})
    >>> acc = pd.DataFrame({"method": ["combo", "seasonal_naive"], "horizon": ["all", "all"],
    ...                     "wape": [0.061, 0.08], "coverage_95": [0.94, 0.9], "n": [52, 52]})
    >>> forecast_text(fc, acc)  # doctest: +NORMALIZE_WHITESPACE
    'Modell: medelvärdet av säsongsprofil och ETS. Provad på de senaste två åren var prognosen
    13 veckor framåt i genomsnitt 6 % fel (att jämföra med 8 % för samma vecka i fjol); utfallet
    låg inom det ljusare fältet 94 % av veckorna.'
    """
    from ..forecast import method_of

    label_ = str(forecast["model"].iloc[0])
    method = method_of(label_)
    chosen = label_.endswith(" [auto]")
    model = label_.removesuffix(" [auto]")
    rows = accuracy[accuracy["horizon"] == "all"].set_index("method")
    base = model.split("(")[0]
    if base == "combo" and "seasonal_naive" in model:
        name = label("model.combo_with_naive", language)
    else:
        # the forecast methods' names are the catalogue's ``model.<method>``
        key = next((f"model.{m}" for m in (base, method) if f"model.{m}" in TEXTS), None)
        name = model if key is None else label(key, language)
    if chosen:
        name += label("model.chosen_automatically", language)
    if method not in rows.index:
        return label("sentence.model", language, name=name)
    own = rows.loc[method]
    cov_cols = sorted(c for c in rows.columns if c.startswith("coverage_"))
    cover = own[cov_cols[-1]] if cov_cols else float("nan")
    naive = rows["wape"].get("seasonal_naive", float("nan"))
    wape, naive, cover = (format_count(100 * v, language=language) for v in (own["wape"], naive, cover))
    return label("sentence.forecast_accuracy", language, name=name, wape=wape, naive=naive, cover=cover,
                 horizon=horizon)
