"""Privacy: a run built from extracts with identity numbers, names, free text and small groups.

Two clinics are run end to end with the real batch (:func:`kps_analysis.batch.run`, as ``kps run``):

- ``gyn``: the demo clinic with its waiting-list extract changed: every patient id a
  personal identity number (``19121212-1212`` and ``191212121212``), a name on every row,
  free-text removal reasons naming people, exactly 2 patients waiting for a first visit
  who chose to wait longer, exactly 3 waiting for treatment 91-180 days, priority 1 held
  by 3 waiting patients, and weeks whose unbooked return visits are 1-4;
- ``liten``: a tiny clinic from a waiting-list extract only (CSV, Swedish headers, a
  ``Personnummer`` column, names, free text): about two referrals a week, so that its
  queues, bands and flows are 0-4 in most weeks.

Then every file of the run is scanned (HTML, ipynb, CSV, xlsx unzipped, JSON, Parquet,
logs): no identity number, name or free text of the extracts; no table whose rows are the
patients; and, by a generic rule over every table of every file, no observed count of
patients of 1 to limit - 1 is shown, and no suppressed one follows from what is shown
(the same count shown elsewhere, totals and parts, this week - last week, a share times its
denominator, a week's queue from the neighbouring week's and the week's flows).
The rule the outputs follow is :func:`kps_analysis.report.protect_counts` (outputs/README.md,
"Small counts").
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from batch_helpers import small_region

from kps_analysis import batch, data

slow = pytest.mark.slow
LIMIT = 5
NAMES = ("Tolvan Tolvansson", "Greta Garbosson", "Sven Svensson-Kvist", "Astrid Lindqvistdotter")
#: Free-text removal reasons as people type them: a name, an identity number, a place.
FREE_TEXTS = ("Avliden enligt dottern Greta Garbosson", "Flyttat till Tromsø, ring 19121212-1212",
              "Opererad privat i Marbella hos dr Lindqvistdotter", "Vill ej, se journal 191212121212")
#: Words of the free texts that no output has any reason to hold.
FREE_WORDS = ("dottern", "Tromsø", "Marbella", "journal", "Lindqvistdotter", "Garbosson")


def _identity(i: int, dash: bool = True) -> str:
    """A personal identity number, ``19YYMMDD-NNNN`` (or without the dash)."""
    text = f"19{12 + i % 80:02d}{1 + i % 12:02d}{1 + i % 28:02d}-{(1212 + i) % 10000:04d}"
    return text if dash else text.replace("-", "")


def _waiting_at(w: pd.DataFrame, at: pd.Timestamp) -> tuple[pd.Series, pd.Series]:
    """``(new, trt)``: the rows of a canonical extract waiting at the end of day ``at``."""
    far = pd.Timestamp("2262-01-01")
    gone_new = np.minimum(w["first_visit_date"].fillna(far), w["removal_date"].fillna(far))
    gone_trt = np.minimum(w["treatment_date"].fillna(far), w["removal_date"].fillna(far))
    new = (w["referral_date"] <= at) & (gone_new > at)
    trt = w["decision_date"].notna() & (w["decision_date"] <= at) & (gone_trt > at)
    return new, trt


def _gyn(data_dir: Path) -> dict:
    """Change the demo clinic gyn's extract and weekly file in ``data_dir`` (see the module docstring)."""
    path = data_dir / "gyn_waiting_list.parquet"
    w = pd.read_parquet(path)
    weekly = data.load_clinic_data({"weekly": "gyn_activity.csv", "waiting_list": path.name}, data_dir,
                                   clinic="gyn").weekly
    at = weekly["period"].iloc[-1].end_time.normalize()
    new, trt = _waiting_at(w, at)
    band = trt & ((at - w["decision_date"]).dt.days.between(91, 180))
    assert new.sum() > 20 and band.sum() > 5 and (new & (w["priority"] == "1")).sum() > 3
    chosen = pd.Series(False, index=w.index)
    chosen[new[new].index[:2]] = True              # 2 chosen waits for a first visit
    chosen[band[band].index[3:]] = True            # 3 left in the treatment band 91-180 days
    w["patient_chosen_wait"] = chosen
    first = (new | trt) & (w["priority"] == "1")
    w.loc[first[first].index[3:], "priority"] = "2"  # 3 waiting patients of priority 1
    w["patient_id"] = [_identity(i, dash=i % 2 == 0) for i in range(len(w))]
    w["namn"] = [NAMES[i % len(NAMES)] for i in range(len(w))]
    other = w.index[w["removal_reason"].eq("other").fillna(False)]
    w.loc[other, "removal_reason"] = [FREE_TEXTS[i % len(FREE_TEXTS)] for i in range(len(other))]
    w.to_parquet(path)
    # 1-4 unbooked return visits in a few weeks of the weekly file (a stock without flows)
    activity = data_dir / "gyn_activity.csv"
    text = activity.read_text(encoding="utf-8-sig").splitlines()
    header = text[0].split(";")
    col = header.index("Ej bokade återbesök")
    for k, value in zip(range(-30, -22), (3, 0, 1, 12, 4, 2, 40, 2)):
        cells = text[k].split(";")
        cells[col] = str(value)
        text[k] = ";".join(cells)
    activity.write_text("\n".join(text) + "\n", encoding="utf-8-sig")
    return {"at": at}


def _liten(data_dir: Path, params_dir: Path, end: pd.Timestamp) -> None:
    """A tiny clinic from a waiting-list extract only: about two referrals a week over two years."""
    rng = np.random.default_rng(12)
    days = pd.date_range(end - pd.Timedelta(days=7 * 104 - 1), end, freq="D")
    referral = np.repeat(days.to_numpy(), rng.poisson(0.3, len(days)))
    n = len(referral)
    referral = pd.to_datetime(referral)
    visit = referral + pd.to_timedelta(rng.geometric(1 / 35, n), unit="D")
    removed = rng.random(n) < 0.1
    removal = referral + pd.to_timedelta(rng.integers(5, 60, n), unit="D")
    decided = ~removed & (rng.random(n) < 0.45)
    treatment = visit + pd.to_timedelta(rng.geometric(1 / 50, n), unit="D")
    late = pd.Series(treatment) > end
    frame = pd.DataFrame({
        "Personnummer": [_identity(i, dash=False) for i in range(n)],
        "Patient-id": [_identity(10_000 + i) for i in range(n)],
        "Namn": [NAMES[i % len(NAMES)] for i in range(n)],
        "Prioritet": rng.choice(["1", "2", "3"], n, p=[0.1, 0.3, 0.6]),
        "Remissdatum": referral,
        "Besöksdatum": pd.Series(visit).where(~removed & (pd.Series(visit) <= end)),
        "Beslutsdatum": pd.Series(visit).where(decided & (pd.Series(visit) <= end)),
        "Operationsdatum": pd.Series(treatment).where(decided & ~late),
        "Avförd datum": pd.Series(removal).where(removed & (pd.Series(removal) <= end)),
        "Avförandeorsak": pd.Series([FREE_TEXTS[i % len(FREE_TEXTS)] for i in range(n)]).where(
            removed & (pd.Series(removal) <= end)),
        "Patientvald väntan": "Nej",
    })
    new, _ = _waiting_at(frame.rename(columns={
        "Remissdatum": "referral_date", "Besöksdatum": "first_visit_date", "Beslutsdatum": "decision_date",
        "Operationsdatum": "treatment_date", "Avförd datum": "removal_date"}), end)
    frame.loc[new[new].index[:2], "Patientvald väntan"] = "Ja"  # 2 chosen waits
    for col in ("Remissdatum", "Besöksdatum", "Beslutsdatum", "Operationsdatum", "Avförd datum"):
        frame[col] = pd.to_datetime(frame[col]).dt.strftime("%Y-%m-%d")
    frame.to_csv(data_dir / "liten_vantelista.csv", sep=";", index=False, encoding="utf-8")
    yaml = (params_dir / "clinics" / "gyn.yaml").read_text(encoding="utf-8")
    yaml = re.sub(r"data:.*?\n\n", "data:\n  waiting_list: liten_vantelista.csv\n\n", yaml, flags=re.S)
    yaml = yaml.replace("name: Gynekologiska kliniken", "name: Lilla mottagningen")
    for key, value in (("new_visit_slots_per_week", 2), ("return_visit_slots_per_week", 2),
                       ("theatre_sessions_per_week", 1), ("operations_per_session", 1),
                       ("new_visits", 100), ("operations", 40)):
        yaml = re.sub(rf"(\n\s*{key}:\s*)[\d.]+", rf"\g<1>{value}", yaml)
    (params_dir / "clinics" / "liten.yaml").write_text(yaml, encoding="utf-8")


@pytest.fixture(scope="module")
def small_run(tmp_path_factory, demo_dir_current):
    """``(run_dir, truth)``: the run of gyn and liten; ``truth`` what the test knows of the extracts."""
    tmp = tmp_path_factory.mktemp("privacy")
    data_dir = tmp / "data"
    shutil.copytree(demo_dir_current, data_dir)  # a copy: the extracts are changed below
    params = small_region(tmp / "parameters", ("gyn",))  # 40 Monte Carlo runs: no assertion rests on them
    truth = _gyn(data_dir)
    _liten(data_dir, params, truth["at"])
    result = batch.run(clinics=["gyn", "liten"], data_dir=data_dir, parameters_dir=params, out_dir=tmp / "out",
                       workers=2)
    assert result.exit_code == 0, [r.error for r in result.results]
    return Path(result.run_dir), _truth(data_dir, params, ["gyn", "liten"])


def _truth(data_dir: Path, params_dir: Path, clinics) -> dict:
    """What the test knows of each clinic: the weekly data and who waits at the latest week's end."""
    from kps_analysis import parameters

    out = {}
    for clinic in clinics:
        loaded = data.load_clinic(parameters.load_parameters(clinic, params_dir), data_dir)
        weekly = loaded.weekly
        last = weekly["period"].iloc[-1]
        snap = data.waiting_snapshot(loaded.waiting_list, last.end_time.normalize())
        cells = {(m, _week(p)): float(v) for m in weekly.columns if m not in ("clinic", "period")
                 for p, v in zip(weekly["period"], weekly[m]) if v == v}
        for stage in ("new_visit", "treatment"):
            s = snap[snap["stage"] == stage]
            chosen = s["patient_chosen_wait"].astype(bool)
            cells[(f"waiting_counted_{stage}", _week(last))] = float((~chosen).sum())
            cells[(f"waiting_chosen_{stage}", _week(last))] = float(chosen.sum())
        for m in ("queue", "waiting_over_90", "waiting_counted", "waiting_chosen"):
            parts = ("queue_new_visit", "queue_treatment") if m == "queue" else (f"{m}_new_visit", f"{m}_treatment")
            for p in weekly["period"]:
                if all((q, _week(p)) in cells for q in parts):
                    cells[(m, _week(p))] = sum(cells[(q, _week(p))] for q in parts)
        out[clinic] = {"cells": cells, "last": _week(last), "snapshot": snap, "extract": loaded.waiting_list,
                       "periods": [_week(p) for p in weekly["period"]]}
    return out



# --- reading every file of a run ------------------------------------------------------------------------------

def _week(value) -> str:
    """A week as its ISO label (``2026-W48``) from a Period, a date, ``2026-W48`` or ``2026-11-23/2026-11-29``."""
    if isinstance(value, str):
        if re.fullmatch(r"\d{4}-W\d{2}", value):
            return value
        value = pd.Timestamp(value.split("/")[-1])
    if isinstance(value, pd.Period):
        value = value.end_time
    iso = pd.Timestamp(value).isocalendar()
    return f"{iso[0]}-W{iso[1]:02d}"


def _shift(week: str, k: int) -> str:
    return _week(pd.to_datetime(week + "-7", format="%G-W%V-%u") + pd.Timedelta(days=7 * k))


def _files(run_dir: Path):
    """``(name, text)`` of every file of the run: xlsx parts unzipped, Parquet as CSV text, the rest decoded."""
    paths = sorted(p for p in run_dir.rglob("*") if p.is_file())
    assert paths
    for path in paths:
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                for name in z.namelist():
                    yield f"{path}:{name}", z.read(name).decode("utf-8", "replace")
        elif path.suffix == ".parquet":
            yield str(path), pd.read_parquet(path).to_csv(index=False)
        else:
            yield str(path), path.read_bytes().decode("utf-8", "replace")


def _html_tables(name: str, html: str):
    """The ``<table>`` elements of a page as frames of text (header row = columns, first cell = row label)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for i, table in enumerate(soup.find_all("table")):
        rows = [[c.get_text(" ", strip=True) for c in r.find_all(["th", "td"])] for r in table.find_all("tr")]
        rows = [r for r in rows if r]
        if len(rows) < 2:
            continue
        width = max(len(r) for r in rows)
        rows = [r + [""] * (width - len(r)) for r in rows]
        caption = table.find("caption")
        frame = pd.DataFrame(rows[1:], columns=[f"{c}#{j}" if rows[0].count(c) > 1 else c
                                                for j, c in enumerate(rows[0])])
        frame.attrs["caption"] = caption.get_text(" ", strip=True) if caption else ""
        yield f"{name}:table{i}", frame


def _json_tables(name: str, value, path: str = ""):
    """Tables in a JSON document: every list of objects, and every object of scalars as one row."""
    if isinstance(value, dict):
        scalars = {k: v for k, v in value.items() if not isinstance(v, (dict, list))}
        if len(scalars) > 1:
            yield f"{name}:{path or '/'}", pd.DataFrame([scalars])
        for k, v in value.items():
            yield from _json_tables(name, v, f"{path}/{k}")
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        yield f"{name}:{path}", pd.DataFrame([{k: v for k, v in d.items() if not isinstance(v, (dict, list))}
                                              for d in value])
        for j, v in enumerate(value):
            for k, x in v.items():
                if isinstance(x, (dict, list)):
                    yield from _json_tables(name, x, f"{path}/{j}/{k}")


def _tables(run_dir: Path):
    """``(name, frame)`` of every table in every file of the run: CSV, every sheet of every xlsx, Parquet,
    JSON (also the fragments a run stores), HTML tables (pages, and HTML outputs of the executed notebooks)."""
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        name = str(path.relative_to(run_dir))
        if path.suffix == ".csv":
            yield name, pd.read_csv(path)
        elif path.suffix == ".parquet":
            yield name, pd.read_parquet(path)
        elif path.suffix == ".xlsx":
            for sheet, frame in pd.read_excel(path, sheet_name=None).items():
                yield f"{name}:{sheet}", frame
        elif path.suffix == ".html":
            yield from _html_tables(name, path.read_text(encoding="utf-8"))
        elif path.suffix in (".json", ".ipynb"):
            doc = json.loads(path.read_text(encoding="utf-8"))
            yield from _json_tables(name, doc)
            for j, html in enumerate(_html_in(doc)):
                yield from _html_tables(f"{name}:html{j}", html)


def _html_in(doc):
    """Every ``text/html`` output held in a JSON document (an executed notebook, stored fragments)."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k == "text/html":
                yield "".join(v) if isinstance(v, list) else str(v)
            else:
                yield from _html_in(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from _html_in(v)


# --- 1. no identifier, name or free text -----------------------------------------------------------------------

@slow
def test_no_identifier_name_or_free_text_in_any_file(small_run):
    run_dir, truth = small_run
    files = list(_files(run_dir))
    kinds = {Path(name.split(":")[0]).suffix for name, _ in files}
    assert {".html", ".ipynb", ".csv", ".xlsx", ".json"} <= kinds, kinds
    ids = {_identity(i) for i in range(20_000)}
    ids |= {i.replace("-", "") for i in ids} | {i[2:] for i in ids} | {i[2:].replace("-", "") for i in ids}
    token = re.compile(r"(?<![\dA-Za-z])\d{6,8}[-+]?\d{4}(?![\dA-Za-z])")
    dashed = re.compile(r"(?<![\d/])(?:19|20)\d{6}[-+]\d{4}(?!\d)")
    pseudonyms = set().union(*(set(t["extract"]["patient_id"].astype(str)) for t in truth.values()))
    pseudonym = re.compile(r"(?<![A-Za-z\d])P\d{7}(?!\d)")
    words = set(FREE_WORDS) | {n for person in NAMES for n in person.split()[1:]} | set(NAMES)
    for name, text in files:
        assert not dashed.search(text), f"{name}: an identity number"
        assert not set(token.findall(text)) & ids, f"{name}: an identity number"
        assert not set(pseudonym.findall(text)) & pseudonyms, f"{name}: a patient id"
        for word in words:
            assert word not in text, f"{name}: a name or free text of the extract"
        for reason in FREE_TEXTS:
            assert reason not in text, f"{name}: a free-text removal reason"


def test_no_file_names_a_folder_of_the_machine(small_run):
    """No file of the run names a folder of the machine it ran on (a user name in a home folder, a
    share): the executed notebooks' parameters are paths relative to their own folder and papermill's
    record of the notebook's paths keeps only the file names; the notebooks ran from them."""
    run_dir, _ = small_run
    tmp = run_dir.parent.parent                      # the data, the parameters and the output folders
    root = Path(batch.__file__).resolve().parents[1]  # the kit's notebooks
    folders = {str(tmp), str(tmp.resolve()), str(root)}
    notebooks = 0
    for name, text in _files(run_dir):
        notebooks += name.endswith(".ipynb")
        for folder in folders:
            assert folder not in text, f"{name}: names the folder {folder}"
    assert notebooks == 3   # two clinics and the region overview
    record = json.loads((run_dir / "gyn" / "report.ipynb").read_text(encoding="utf-8"))["metadata"]["papermill"]
    assert (record["input_path"], record["output_path"]) == ("clinic_report.ipynb", "report.ipynb")
    assert record["parameters"]["output_dir"] == "."


# --- 2. no table with a row per patient --------------------------------------------------------------------------

def _norm(name) -> str:
    """A header or label as lower-case ASCII words joined by ``_`` (å, ä -> a; ö -> o)."""
    text = str(name).lower().translate(str.maketrans("åäöéü", "aaoeu"))
    return "_".join(re.findall(r"[a-z0-9]+", text))


#: Columns that hold a patient's own data (canonical extract names and the usual headers).
PERSONAL = {"patient_id", "patient", "namn", "personnummer", "pnr", "referral_date", "decision_date",
            "first_visit_date", "treatment_date", "removal_date", "removal_reason", "remissdatum", "beslutsdatum"}


@pytest.fixture(scope="module")
def run_tables(small_run):
    """Every table of every file of the run, read once: ``[(name, frame)]``."""
    return list(_tables(small_run[0]))


@slow
def test_no_table_has_a_row_per_patient(small_run, run_tables):
    run_dir, truth = small_run
    sizes, signatures = set(), []
    for t in truth.values():
        snap, extract = t["snapshot"], t["extract"]
        chosen = snap["patient_chosen_wait"].astype(bool)
        groups = [snap, snap[~chosen]] + [snap[(snap["stage"] == s) & m] for s in ("new_visit", "treatment")
                                          for m in (chosen | True, ~chosen)]
        for g in groups:
            sizes.add(len(g))
            if len(g) >= LIMIT:
                signatures.append(np.sort(g["wait_days"].to_numpy(float)))
        sizes |= {len(extract), int(extract["removal_date"].notna().sum())}
    sizes = {n for n in sizes if n >= 10}
    per_patient = re.compile(r"(^|_)(wait_days|waited_days|prio|priority|prioritet|date|datum|patient|id)(_|$)")
    checked = 0
    for name, table in run_tables:
        cols = [_norm(c) for c in table.columns]
        assert not PERSONAL & set(cols), f"{name}: a column of patients' own data"
        assert not (len(table) in sizes and any(per_patient.search(c) for c in cols)), \
            f"{name}: {len(table)} rows, as many as patients waiting, with a per-patient column"
        for col in table.columns:
            values = pd.to_numeric(table[col], errors="coerce").dropna().to_numpy(float)
            if len(values) >= LIMIT:
                values = np.sort(values)
                assert not any(len(s) == len(values) and np.array_equal(s, values) for s in signatures), \
                    f"{name}: column {col!r} holds the waiting patients' waits, one row each"
        checked += 1
    assert checked > 100, checked


# --- 3. no observed count of patients below the limit is shown or recoverable ------------------------------------

#: Words that make a column (or row label) a count of patients observed in the waiting list (stocks: queues,
#: waits, chosen waits, bands), in the English identifiers of the CSV files and the Swedish words of the reports
#: and workbooks. Flows (referrals, visits, operations, removals) are the clinic's production and shown.
OBSERVED = {"queue", "waiting", "chosen", "counted", "over_90", "band", "bands", "patients", "ko", "kon", "koer",
            "koerna", "vantande", "vantar", "vantat", "valt", "patienter", "over"}
#: Words that make it something else: the model's projections (plan, purchase, breaches, moves), derived
#: figures (shares, ratios, changes, averages) and identifiers of time.
NOT_OBSERVED = {"start", "end", "breach", "breaches", "purchase", "purchased", "plan", "planned", "projected",
                "forecast", "capacity", "moved", "moves", "need", "gap", "ratio", "share", "pct", "change", "usual",
                "pressure", "suppressed", "kop", "kops", "kopt", "beraknat", "andel", "forandring", "snitt",
                "koproduktionskvot", "kvot", "slut", "inom", "chans", "prognos", "median", "percentil", "passerar",
                "12w", "52w", "p50", "p80", "p95", "year", "week", "month", "period", "horizon", "vecka", "manad",
                "ar", "dagar", "days", "mal", "andring", "fixed", "ledtiden", "kostnad", "sek", "kr", "skillnad",
                "direction", "unusual", "kapacitetsglapp", "behov"}
#: Tables (file names, sheet names, captions) that hold the model's projections: not suppressed (outputs/README.md).
MODEL_TABLES = {"plan", "production_plan", "purchase", "purchase_need", "capacity", "capacity_gap",
                "projected_breaches", "monte_carlo", "scenarios", "scenario", "flows", "moves", "uncertainty",
                "forecast", "history", "plan_history", "plan_vs_outcome", "follow_up", "settings", "capacity_check",
                "produktionsplan", "kopt", "kop", "simulerade", "scenarier", "kapacitet", "belastning", "prognos",
                "fastalld", "faststalld", "uppfoljning", "passerar", "chans", "flyttar", "behov", "region",
                "overview", "index"}


def _observed(label) -> bool:
    words = set(_norm(label).split("_"))
    words |= {"over_90"} if "over_90" in _norm(label) else set()
    return bool(words & OBSERVED) and not words & NOT_OBSERVED


def _model_table(name: str, caption: str = "") -> bool:
    parts = re.split(r"[/:]", name)
    words = set()
    for part in parts[1:] if len(parts) > 1 else parts:
        words |= set(_norm(Path(part).stem if "." in part else part).split("_")) | {_norm(Path(part).stem)}
    words |= set(_norm(caption).split("_"))
    return bool(words & MODEL_TABLES)


def _count(text) -> float | None:
    """A cell as a whole number when it shows one exactly (``"12"``, ``12.0``, ``"1 234"``), else None."""
    if isinstance(text, (int, float, np.integer, np.floating)) and not isinstance(text, bool):
        return float(text) if np.isfinite(text) and float(text).is_integer() else None
    t = str(text).replace("\xa0", "").replace(" ", "").replace("−", "-")
    return float(t) if re.fullmatch(r"[+-]?\d+(\.0+)?", t) else None


def _small_shown(name: str, table: pd.DataFrame):
    """The cells of ``table`` that show an observed count of 1 to LIMIT - 1 exactly: ``[(row, column, value)]``."""
    if _model_table(name, table.attrs.get("caption", "")):
        return []
    found = []
    cols = list(table.columns)
    measure = next((c for c in cols if _norm(c) in ("measure", "matt")), None)
    label = cols[0] if cols and (_norm(cols[0]) in ("", "steg", "matt", "klinik") or ".html" in name) else None
    for col in cols:
        col_observed = _observed(col)
        if col == measure or col == label:
            continue
        for i, value in table[col].items():
            row_observed = (measure is not None and _observed(table.at[i, measure])
                            and not set(_norm(col).split("_")) & NOT_OBSERVED)
            row_observed |= (label is not None and _observed(table.at[i, label])
                             and not set(_norm(col).split("_")) & NOT_OBSERVED)
            if col_observed or row_observed:
                v = _count(value)
                if v is not None and 0 < v < LIMIT:
                    found.append((i, col, v))
    return found


#: A count of patients in a sentence of a page ("20 patienter har väntat över 90 dagar").
PROSE_COUNT = re.compile(r"(?<![\d,.\-–−<])(?<!\d\s)(?<!\d\xa0)(\d+)\s+(patienter|patient|väntande|patients|waiting)\b")


#: Words of a sentence about the plan or its projections (not suppressed: outputs/README.md, "Small counts").
PROSE_PROJECTION = {"kop", "kops", "kopa", "kopt", "bestall", "beraknat", "plan", "planen", "planerad", "inom",
                    "om", "hogst", "passerar", "prognos", "avtalade", "kapacitet", "produktion", "purchase", "buy",
                    "planned", "within", "if", "forecast", "capacity", "production", "flyttas", "moved"}


def _prose(html: str) -> list[str]:
    """The sentences of a page outside its tables, scripts and styles, and the alt texts of its figures."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    alts = [img.get("alt") or "" for img in soup.find_all("img")]
    for tag in soup.find_all(["table", "script", "style"]):
        tag.decompose()
    return re.split(r"(?<=[.;:!?])\s+", soup.get_text(" ", strip=True)) + alts


@slow
def test_no_observed_count_below_the_limit_is_shown_in_any_table(small_run, run_tables):
    run_dir, _ = small_run
    found, seen = [], 0
    for name, table in run_tables:
        seen += 1
        found += [f"{name} row {i} column {c!r}" for i, c, _ in _small_shown(name, table)]
    assert seen > 100
    for page in sorted(run_dir.rglob("*.html")):  # and in the sentences of the pages
        for sentence in _prose(page.read_text(encoding="utf-8")):
            if set(_norm(sentence).split("_")) & PROSE_PROJECTION:
                continue
            found += [f"{page.name}: a sentence with {m.group(0)!r}" for m in PROSE_COUNT.finditer(sentence)
                      if 0 < int(m.group(1)) < LIMIT]
    assert not found, f"{len(found)} small counts shown, e.g. " + "; ".join(found[:8])


# --- the attacker: what the shown cells of all files of a clinic give away ---------------------------------------

#: Aliases of the tables' columns for the cells the attacker combines.
ALIASES = {"queue_change_1w": "change:queue", "queue_change_1p": "change:queue",
           "share_over_90_days": "share_over_90", "queue_production_ratio_weeks_new_visit": "ratio:new_visit",
           "queue_production_ratio_weeks_treatment": "ratio:treatment",
           "production_per_week_new_visit": "production:new_visit",
           "production_per_week_treatment": "production:treatment", "queue_new_visit_new_visit": "queue_new_visit",
           "queue_new_visit": "queue_new_visit", "queue_treatment_treatment": "queue_treatment"}
#: The flows of each stage's queue: ``queue[t] = queue[t-1] + in - out`` (kps_analysis.data.weekly_from_waiting_list).
FLOWS = {"new_visit": (("referrals_in",), ("referrals_forwarded", "removals_new_visit_other", "new_visits",
                                           "purchased_new_visits")),
         "treatment": (("treatment_decisions",), ("operations_elective", "purchased_operations",
                                                  "removals_treatment_other"))}
STOCK = re.compile(r"^(queue|waiting)")


def _decimals(value: float) -> int:
    text = repr(float(value))
    return len(text.split(".")[1]) if "." in text and "e" not in text else 6


def _cells(name: str, table: pd.DataFrame, last: str):
    """``[(key, value)]`` of a machine table: ``key = (measure, week)``; ``value`` a float when shown exactly,
    ``None`` when suppressed (blank with its ``<column>_suppressed`` flag, or a text in place of a number)."""
    cols = set(table.columns)
    out = []

    def state(i, col):
        v = table.at[i, col]
        flag = f"{col}_suppressed"
        if flag in cols and bool(table.at[i, flag]) is True:
            return None
        v = _count(v) if not isinstance(v, (float, np.floating)) else float(v)
        return v if v is not None and v == v else "missing"

    def period_of(i):
        for col in ("period", "data_end", "plan_start"):
            if col in cols and table.at[i, col] == table.at[i, col]:
                return _week(table.at[i, col]) if col == "period" else _shift(_week(table.at[i, col]), -int(
                    col == "plan_start"))
        return last

    for i in table.index:
        if {"measure", "year", "week", "value"} <= cols:
            week = f"{int(table.at[i, 'year'])}-W{int(table.at[i, 'week']):02d}"
            out.append(((table.at[i, "measure"], week), state(i, "value")))
            continue
        t = period_of(i)
        if "measure" in cols:
            m = table.at[i, "measure"]
            for col, key in (("this_period", (m, t)), ("this_week", (m, t)), ("last_period", (m, _shift(t, -1))),
                             ("last_week", (m, _shift(t, -1))), ("change", (f"change:{m}", t)),
                             ("usual", (f"usual:{m}", t))):
                if col in cols:
                    out.append((key, state(i, col)))
            if "direction" in cols:
                out.append(((f"direction:{m}", t), table.at[i, "direction"]))
            continue
        if "period_ahead" in cols and "queue_start" in cols and "stage" in cols:
            if int(table.at[i, "period_ahead"]) == 1:  # the plan starts from the counted queue (exact)
                out.append(((f"waiting_counted_{table.at[i, 'stage']}", last), state(i, "queue_start")))
            continue
        stage = table.at[i, "stage"] if "stage" in cols else None
        for col in cols:
            if str(col).endswith("_suppressed") or col in ("clinic", "period", "stage"):
                continue
            m = f"{col}_{stage}" if stage else str(col)
            m = ALIASES.get(m, m)
            if m.startswith(("ratio:", "production:")) or m in ("share_over_90", "change:queue") or STOCK.match(m) \
                    or any(m in (*a, *b) for a, b in FLOWS.values()):
                out.append(((m, t), state(i, col)))
    return [(k, v) for k, v in out if not (isinstance(v, str) and v == "missing")]


def _machine_tables(run_dir: Path, clinic: str):
    """The clinic's tables a program reads: CSV, Parquet, and the summary in its status.json."""
    folder = run_dir / clinic
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".csv":
            yield str(path), pd.read_csv(path)
        elif path.suffix == ".parquet":
            yield str(path), pd.read_parquet(path)
    status = json.loads((folder / "status.json").read_text(encoding="utf-8"))
    if isinstance(status.get("summary"), dict):
        yield f"{folder}/status.json:summary", pd.DataFrame([status["summary"]])
    yield f"{folder}/report.html:alt", _alt_cells(folder / "report.html")


def _alt_cells(page: Path) -> pd.DataFrame:
    """The weekly values the report's figures name in their alt texts (the situation week by week: "Väntande
    nybesök per vecka ... Senast (vecka 48 2026): 13, samma vecka 2025: 10."), as a table of weeks."""
    from bs4 import BeautifulSoup

    from kps_analysis.report import label

    alts = [img.get("alt") or "" for img in BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
            .find_all("img")]
    measures = ["referrals_in", "new_visits", "operations_elective", "treatment_decisions", *(
        f"{m}_{s}" for m in ("queue", "waiting_over_90") for s in ("new_visit", "treatment")),
        "queue_return_unbooked"]
    rows = []
    for alt in alts:
        for m in measures:
            name = re.escape(label(m, "sv").lower())
            hit = re.search(rf"{name} per vecka under åren.*?Senast \(vecka (\d+) (\d{{4}})\): ([\d\s\xa0]+)"
                            rf"(?:, samma vecka (\d{{4}}): ([\d\s\xa0]+))?", alt)
            if hit:
                week, year = int(hit.group(1)), int(hit.group(2))
                rows.append({"period": f"{year}-W{week:02d}", m: float(re.sub(r"\s", "", hit.group(3)))})
                if hit.group(4):
                    before = pd.to_datetime(f"{year}-W{week:02d}-7", format="%G-W%V-%u") - pd.DateOffset(years=1)
                    rows.append({"period": _week(before), m: float(re.sub(r"\s", "", hit.group(5)))})
    assert rows, f"{page}: no alt text of the situation week by week"
    return pd.DataFrame(rows)


def _relations(t: dict):
    """The relations between a clinic's cells a reader can use: ``[(coefficients, low, high)]`` with
    ``low <= sum(coefficient * cell) <= high``; ``t['known']`` is used for the products (ratio, share)."""
    weeks, last, known = t["periods"], t["last"], t["known"]
    rel = []
    for k, week in enumerate(weeks):
        rel.append(({("queue", week): 1, ("queue_new_visit", week): -1, ("queue_treatment", week): -1}, 0, 0))
        rel.append(({("waiting_over_90", week): 1, ("waiting_over_90_new_visit", week): -1,
                     ("waiting_over_90_treatment", week): -1}, 0, 0))
        if k:
            before = weeks[k - 1]
            for stage, (ins, outs) in FLOWS.items():
                c = {(f"queue_{stage}", week): 1, (f"queue_{stage}", before): -1}
                c.update({(m, week): -1 for m in ins})
                c.update({(m, week): 1 for m in outs})
                rel.append((c, 0, 0))
        for stage in ("new_visit", "treatment"):  # the köproduktionskvot times the production is the queue
            r, p = known.get((f"ratio:{stage}", week)), known.get((f"production:{stage}", week))
            if r is not None and p is not None and p > 0:
                h = 0.5 * 10.0 ** -max(2, _decimals(r))
                rel.append(({(f"queue_{stage}", week): 1}, (r - h) * p, (r + h) * p))
    measures = {m for m, _ in t["cells"]} | {m.split(":", 1)[1] for m, _ in known if ":" in m}
    for m in measures:
        for k, week in enumerate(weeks):
            if k and (f"change:{m}", week) in t["keys"]:
                rel.append(({(f"change:{m}", week): 1, (m, week): -1, (m, weeks[k - 1]): 1}, 0, 0))
            if k >= 4 and (f"usual:{m}", week) in t["keys"]:
                rel.append(({(f"usual:{m}", week): 4, **{(m, weeks[k - j]): -1 for j in range(1, 5)}}, 0, 0))
            d = t["direction"].get((f"direction:{m}", week))
            if k and d in ("up", "down", "same"):
                c = {(m, week): 1, (m, weeks[k - 1]): -1}
                rel.append((c, 0.5, np.inf) if d == "up" else (c, -np.inf, -0.5) if d == "down" else (c, 0, 0))
    rel.append(({("change:queue", last): 1, ("queue", last): -1, ("queue", _shift(last, -1)): 1}, 0, 0))
    for stage in ("new_visit", "treatment"):
        rel.append(({(f"queue_{stage}", last): 1, (f"waiting_counted_{stage}", last): -1,
                     (f"waiting_chosen_{stage}", last): -1}, 0, 0))
        rel.append(({(f"waiting_over_90_{stage}", last): 1, (f"waiting_counted_{stage}", last): -1}, -np.inf, 0))
    for m in ("waiting_counted", "waiting_chosen"):
        rel.append(({(m, last): 1, (f"{m}_new_visit", last): -1, (f"{m}_treatment", last): -1}, 0, 0))
    share, counted = known.get(("share_over_90", last)), known.get(("waiting_counted", last))
    if share is not None and counted is not None:
        h = 0.5 * 10.0 ** -max(2, _decimals(share))
        rel.append(({("waiting_over_90", last): 1}, (share - h) * counted, (share + h) * counted))
    return rel


def _bounds(target, relations, known, small, limit):
    """The least and greatest value of ``target`` that the relations allow (integer counts; scipy's MILP)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    # the relations that reach the target through cells not known
    unknown_of = [{k for k in c if k not in known} for c, _, _ in relations]
    reach, frontier, used = {target}, {target}, set()
    while frontier:
        nxt = set()
        for j, u in enumerate(unknown_of):
            if j not in used and u & frontier:
                used.add(j)
                nxt |= u - reach
        reach |= nxt
        frontier = nxt
    cells = sorted(reach, key=str)
    index = {k: n for n, k in enumerate(cells)}
    rows, lo, hi = [], [], []
    for j in sorted(used):
        c, a, b = relations[j]
        row = np.zeros(len(cells))
        fixed = 0.0
        for k, v in c.items():
            if k in known:
                fixed += v * known[k]
            else:
                row[index[k]] += v
        rows.append(row)
        lo.append(a - fixed)
        hi.append(b - fixed)
    lower = np.array([1.0 if k in small else (-np.inf if ":" in k[0] else 0.0) for k in cells])
    upper = np.array([limit - 1.0 if k in small else np.inf for k in cells])
    integral = np.array([0 if k[0].startswith("usual:") else 1 for k in cells])
    out = []
    for sign in (1, -1):
        cost = np.zeros(len(cells))
        cost[index[target]] = sign
        res = milp(cost, integrality=integral, bounds=Bounds(lower, upper),
                   constraints=[LinearConstraint(np.array(rows), lo, hi)] if rows else [])
        assert res.status in (0, 3), f"the relations of {target} contradict the shown cells: {res.message}"
        out.append(sign * res.fun if res.status == 0 else sign * -np.inf)
    return out[0], out[1]


def _attack(run_dir: Path, clinic: str, t: dict, limit: int = LIMIT):
    """Every way a count of 1 to limit - 1 suppressed somewhere can be had from the clinic's files."""
    shown, hidden, where, direction = {}, set(), {}, {}
    for name, table in _machine_tables(run_dir, clinic):
        for key, value in _cells(name, table, t["last"]):
            if key[0].startswith("direction:"):
                direction[key] = value
            elif value is None:
                hidden.add(key)
                where.setdefault(key, name)
            else:
                shown.setdefault(key, (value, name))
    leaks = [f"{k} suppressed in {where[k]} but shown in {shown[k][1]}" for k in sorted(hidden & set(shown))]
    known = {k: v for k, (v, _) in shown.items()}
    small = {k for k in hidden if STOCK.match(k[0]) and 0 < t["cells"].get(k, 0) < limit}
    ctx = {**t, "known": known, "direction": {k: v for k, v in direction.items() if
                                               (f"change:{k[0].split(':', 1)[1]}", k[1]) in hidden},
           "keys": hidden | set(known)}
    relations = _relations(ctx)
    for key in sorted(small - set(shown)):
        lo, hi = _bounds(key, relations, known, small, limit)
        if hi - lo < 0.5:
            leaks.append(f"{key} (suppressed in {where[key]}) follows from the shown cells: {lo:g}")
    return leaks, len(small)


@slow
def test_no_suppressed_count_is_recoverable_from_the_files(small_run):
    run_dir, truth = small_run
    leaks, targets = [], 0
    for clinic, t in truth.items():
        found, n = _attack(run_dir, clinic, t)
        leaks += [f"{clinic}: {x}" for x in found]
        targets += n
    assert targets >= 20, targets  # the run has small counts to protect
    assert not leaks, f"{len(leaks)} suppressed counts recoverable, e.g. " + "; ".join(leaks[:6])


@slow
def test_the_workbooks_hide_what_the_csv_files_hide(small_run):
    run_dir, _ = small_run
    for path in sorted(run_dir.glob("*/tables/*.csv")):
        table = pd.read_csv(path)
        flags = [c for c in table.columns if c.endswith("_suppressed") and c[:-len("_suppressed")] in table]
        sheet = pd.read_excel(path.with_suffix(".xlsx"))
        assert len(sheet) == len(table), path.name
        masks = [tuple(sheet[c].isin(["dolt", "hidden"])) for c in sheet.columns]
        for c in flags:  # every column hidden in the CSV is hidden in the same rows of a column of the xlsx
            mask = tuple(table[c].astype(bool))
            assert not any(mask) or mask in masks, f"{path.name}: {c[:-len('_suppressed')]} shown in the xlsx"



def test_the_reports_changes_table_hides_what_week_changes_csv_hides():
    """gyn's report showed last week's 10 over 90 days (and onh's 30) where week_changes.csv
    hid them; weekly.csv showed the first-visit part 6, so 10 - 6 gave the hidden 4 back."""
    import pandas as pd

    from kps_analysis import report
    from kps_analysis.summary import week_changes

    periods = pd.period_range("2026-10-05", periods=8, freq="W-SUN")
    weekly = pd.DataFrame({"clinic": "a", "period": periods, "queue_new_visit": 120.0, "queue_treatment": 80.0,
                           "waiting_over_90_new_visit": [9.0, 8, 8, 7, 7, 6, 6, 6],
                           "waiting_over_90_treatment": [5.0, 5, 6, 5, 5, 6, 4, 5]})
    changes = week_changes(weekly)
    hidden = report.suppress_tables({"weekly": weekly, "week_changes": changes}, report.Shown(), limit=5)
    assert hidden["weekly"]["waiting_over_90_treatment"].isna().tolist() == [False] * 6 + [True, False]
    table = report.changes_table(hidden["week_changes"], limit=5, language="sv")
    over = table.loc[report.label("waiting_over_90", "sv")].tolist()
    # last week's 10 = 6 + 4 and the change 11 - 10 would give the hidden 4 back; the usual level rests on it
    assert over[:4] == ["dolt", "11", "dolt", "dolt"], over
    # the values beside the flags (as the report passes them): a small count still reads "<5", not "dolt"
    flagged = changes.assign(**{c: hidden["week_changes"][c].to_numpy() for c in hidden["week_changes"].columns
                                if c.endswith("_suppressed")})
    small = report.changes_table(flagged.assign(this_week=3.0, this_period=3.0), limit=5, language="sv")
    assert small.loc[report.label("waiting_over_90", "sv")].tolist()[:2] == ["dolt", "<5"]
    # without the flags (an unsuppressed frame) the counts are shown as before
    assert "10" in report.changes_table(changes, limit=5, language="sv").loc[
        report.label("waiting_over_90", "sv")].tolist()
