"""Patient-level waiting-list extracts: headers as hospitals export them, messages that name
the column a value is missing from, ``kps validate`` on an extract, and reading in parts
(kps_analysis.extract) equal to the whole-frame path."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kps_analysis import cli
from kps_analysis import data as kd
from kps_analysis import extract as kx
from kps_analysis.data import DataError, read_waiting_list, weekly_from_waiting_list

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "waiting_list_export_sv.csv"
TODAY = "2024-06-01"

# The headers issue 13 names, as the hospitals' systems export them, and what each means.
EXPORT_HEADERS = {
    "Beslut om operation": "decision_date",
    "Beslutsdatum": "decision_date",
    "Remissdatum": "referral_date",
    "Ankomstdatum": "referral_date",
    "Besöksdatum": "first_visit_date",
    "Operationsdatum": "treatment_date",
    "Avförd": "removal_date",
    "Avförd orsak": "removal_reason",
    "Prioritet": "priority",
    "Patientvald väntan": "patient_chosen_wait",
}
# A cell for each role that is valid on the row below (referred 2 January 2024).
CELL = {"patient_id": "L1", "clinic": "uro", "group": "sten", "priority": "2", "referral_date": "2024-01-02",
        "first_visit_date": "2024-01-10", "decision_date": "2024-01-10", "treatment_date": "2024-02-01",
        "removal_date": "2024-02-01", "removal_reason": "Avböjd", "external": "Nej", "patient_chosen_wait": "Ja"}
EXPECTED = {"priority": "2", "removal_reason": "declined", "patient_chosen_wait": True, "external": False,
            "clinic": "uro", "group": "sten", "patient_id": "L1"}


def write(path: Path, text: str, encoding="utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def one_row(tmp_path, header: str, role: str) -> Path:
    """A one-referral extract with the referral date and ``header`` (meaning ``role``)."""
    columns = {"Remissdatum": CELL["referral_date"]} if role != "referral_date" else {}
    if role == "removal_date":  # a removal needs no visit; keep the order valid
        columns = {"Remissdatum": CELL["referral_date"]}
    if role in ("decision_date", "treatment_date"):
        columns["Besöksdatum"] = CELL["first_visit_date"]
    if role == "treatment_date":
        columns["Beslutsdatum"] = CELL["decision_date"]
    columns[header] = CELL[role]
    if role == "removal_reason":
        columns["Avförd datum"] = CELL["removal_date"]
    return write(tmp_path / "one.csv", ";".join(columns) + "\n" + ";".join(columns.values()) + "\n")


# ============================================================================ headers
@pytest.mark.parametrize("header, role", sorted(EXPORT_HEADERS.items()))
def test_the_headers_hospitals_export_are_read(tmp_path, header, role):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "not recognised" warning
        extract = read_waiting_list(one_row(tmp_path, header, role), today=TODAY)
    value = extract[role].iloc[0]
    if role.endswith("_date"):
        assert value == pd.Timestamp(CELL[role])
    else:
        assert value == EXPECTED[role]


@pytest.mark.parametrize("header, role", [(h, r) for r, hs in kd.EXTRACT_ALIASES.items() for h in (*hs, r)])
def test_every_accepted_header_means_its_column(tmp_path, header, role):
    extract = read_waiting_list(one_row(tmp_path, header, role), today=TODAY)
    value = extract[role].iloc[0]
    if role.endswith("_date"):
        assert value == pd.Timestamp(CELL[role])
    else:
        assert value == EXPECTED[role]


def test_personnummer_header_becomes_pseudonyms_for_the_duplicate_check_only(tmp_path):
    text = "Personnummer;Ankomstdatum\n19121212-1212;2024-01-02\n19121212-1212;2024-01-03\n"
    with pytest.warns(UserWarning, match="'Personnummer'.*dropped"):
        extract = read_waiting_list(write(tmp_path / "p.csv", text), today=TODAY)
    assert extract["patient_id"].tolist() == ["P0000001", "P0000001"]
    assert "19121212" not in extract.to_string()
    twice = write(tmp_path / "p2.csv", text.replace("2024-01-03", "2024-01-02"))
    with pytest.raises(DataError) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        read_waiting_list(twice, today=TODAY)
    assert str(info.value) == (f"{twice}, column 'Personnummer', rows 2, 3: the same patient id occurs more "
                               "than once for one clinic and referral date")


def test_the_sample_export_in_the_readme_reads_with_every_column():
    with pytest.warns(UserWarning, match="Personnummer"):
        extract = read_waiting_list(SAMPLE, today=TODAY)
    assert len(extract) == 16 and sorted(extract["clinic"].unique()) == ["Gynekologi", "Urologi"]
    for column in ("priority", "first_visit_date", "decision_date", "treatment_date", "removal_date",
                   "removal_reason", "patient_chosen_wait"):
        assert extract[column].notna().any() and extract[column].astype(bool).any(), column
    assert not any(re.search(r"\d{8}-\d{4}", str(v)) for v in extract["patient_id"])
    # hand count: Urologi, ISO week 2024-W03 (15-21 January): two referrals in (15 and 17 Jan),
    # one first visit (16 Jan) and one decision (16 Jan), one forwarded (19 Jan)
    weekly = weekly_from_waiting_list(extract)
    w03 = weekly[(weekly["clinic"] == "Urologi") & (weekly["period"] == pd.Period("2024-01-15", "W-SUN"))].iloc[0]
    assert (w03["referrals_in"], w03["new_visits"], w03["treatment_decisions"], w03["referrals_forwarded"]) \
        == (2, 1, 1, 1)
    # the queue for a first visit at the end of W03: referred 2, 3, 5, 8, 9, 10, 15, 17 Jan, less
    # those seen (2 Jan -> 16 Jan) or removed (5 Jan -> 19 Jan) by Sunday 21 January
    assert w03["queue_new_visit"] == 6


def test_the_readme_lists_every_accepted_header_and_the_sample_file():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### The waiting-list extract"):]
    section = section[:section.index("\n## ")]
    for role, headers in kd.EXTRACT_ALIASES.items():
        row = next(line for line in section.splitlines() if line.startswith(f"| `{role}` |"))
        assert all(f'"{h}"' in row for h in headers), role
    assert all(f'"{h}"' in section for h in kd.PERSONAL_ID_HEADERS)
    assert "tests/data/waiting_list_export_sv.csv" in section and SAMPLE.exists()


def test_an_unknown_header_is_reported_with_a_suggestion(tmp_path):
    path = write(tmp_path / "x.csv", "Remissdatum;Besoksdattum;Journalanteckning\n2024-01-02;2024-01-05;x\n")
    with pytest.warns(UserWarning) as caught:
        read_waiting_list(path, today=TODAY)
    message = " ".join(str(w.message) for w in caught)
    assert "'Besoksdattum', 'Journalanteckning' not recognised and left out" in message
    assert "did you mean 'Besöksdatum' for 'Besoksdattum'" in message


# ============================================================================ messages
HEADER = "Patient-id;Klinik;Prioritet;Remissdatum;Besöksdatum;Beslutsdatum;Behandlingsdatum;Avförd datum;Extern\n"


@pytest.mark.parametrize("row,column,reason", [
    ("X2;A;1;2024-01-10;;;;2024-01-09;Nej", "Avförd datum", "removal before the referral"),
    ("X2;A;1;2024-01-10;2024-01-02;;;;Nej", "Besöksdatum", "first visit before the referral"),
    ("X2;A;1;2024-01-10;2024-01-12;2024-01-12;2024-01-05;;Nej", "Behandlingsdatum", "treatment before the referral"),
    # a "without": the column the date is missing from, and the one that has a date
    ("X2;A;1;2024-01-10;;2024-01-12;;;Nej", "Besöksdatum",
     "decision to treat without a first visit (the cell is empty; column 'Beslutsdatum' has a date)"),
    ("X2;A;1;2024-01-10;2024-01-12;;2024-01-20;;Nej", "Beslutsdatum",
     "treatment without a decision to treat (the cell is empty; column 'Behandlingsdatum' has a date)"),
    ("X2;A;1;2024-01-10;2024-01-12;2024-01-12;2024-01-20;2024-01-15;Nej", "Avförd datum",
     "removal before the treatment"),
    ("X2;A;1;2024-01-10;2024-01-20;;;2024-01-15;Nej", "Avförd datum", "removal before the first visit"),
    ("X2;A;7;2024-01-10;;;;;Nej", "Prioritet", "unknown priority code '7'"),
    ("X2;A;A;2024-01-10;;;;;Nej", "Prioritet", "unknown priority code 'A'"),
    ("X2;A;1;2024-13-10;;;;;Nej", "Remissdatum", "not a valid calendar date"),
    ("X2;A;1;igår;;;;;Nej", "Remissdatum", "not a date (expected e.g. 2024-01-31)"),
    ("X2;A;1;2024-01-10;2031-01-01;;;;Nej", "Besöksdatum", "a date more than 7 days after 2024-03-01 (the run date)"),
    ("X2;A;1;1989-12-31;;;;;Nej", "Remissdatum", "a date before 1990-01-01 (the earliest plausible date, parameter"),
    ("X2;A;1;0001-01-01;;;;;Nej", "Remissdatum", "a date before 1990-01-01"),
    ("X2;A;1;2024-01-10;9999-12-31;;;;Nej", "Besöksdatum", "a date more than 7 days after 2024-03-01"),
    ("X2;A;1;tolvan tolvansson 19121212-1212;;;;;Nej", "Remissdatum", "not a date (expected e.g. 2024-01-31)"),
    ("X2;A;tolvan 19121212-1212;2024-01-10;;;;;Nej", "Prioritet", "unknown priority code (not shown) (expected"),
    ("X2;A;1;2024-01-10;;;;;tolvan 19121212-1212", "Extern", "the cell is not yes/no"),
    ("X2;A;1;2024-01-10;;;;;kanske", "Extern", "'kanske' is not yes/no"),
])
@pytest.mark.parametrize("reader", ["whole", "parts"])
def test_waiting_list_errors_name_file_column_and_row(tmp_path, row, column, reason, reader):
    path = write(tmp_path / "wl_bad.csv", HEADER + "X1;A;2;2024-01-02;;;;;Nej\n" + row + "\n")
    with pytest.raises(DataError) as info:
        if reader == "whole":
            read_waiting_list(path, today="2024-03-01")
        else:  # in parts of one row: the same message
            kx.aggregate_waiting_list(path, today="2024-03-01", chunk_rows=1)
    message = str(info.value)
    assert message.startswith(f"{path}, column '{column}', row 3: "), message
    assert reason in message
    # the cell's content is never quoted: dates and ids are personal, codes only when short
    for cell in row.split(";")[1:]:
        if cell and cell not in ("A", "1", "7", "Nej", "kanske"):
            assert cell not in message


def test_a_date_column_with_an_unknown_header_is_named_not_blamed_on_the_row(tmp_path):
    """Issue 13: 'Beslut om op.datum' (not recognised) beside 'Operationsdatum' gave
    'treatment without a decision to treat' on a row that has a decision date."""
    text = ("Löpnummer;Personnummer;Ankomstdatum;Besöksdatum;Beslut om op.datum;Operationsdatum\n"
            "A1;19121212-1212;2024-01-02;2024-01-10;2024-01-10;2024-02-01\n")
    path = write(tmp_path / "export.csv", text)
    with pytest.raises(DataError) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        read_waiting_list(path, today=TODAY)
    message = str(info.value)
    assert message.startswith(f"{path}, column 'Operationsdatum', row 2: treatment without a decision to treat: "
                              "the file has no decision date column (accepted headers: 'Beslutsdatum', "
                              "'Beslut om operation', ")
    assert "column(s) not recognised: 'Beslut om op.datum'" in message
    assert "19121212" not in message and "2024-01-10" not in message


def test_no_referral_date_column_lists_the_accepted_headers(tmp_path):
    path = write(tmp_path / "x.csv", "Löpnummer;Inskrivningsdag;Prioritet\nA1;2024-01-02;1\n")
    with pytest.raises(DataError, match="accepted headers: 'Remissdatum', .*'Ankomstdatum', .*'referral_date'"):
        read_waiting_list(path, today=TODAY)


# ============================================================================ kps validate FILE
def test_validate_an_extract_on_its_own(capsys):
    assert cli.main(["validate", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert f"{SAMPLE}: waiting-list extract, 16 referrals -> 22 clinic-weeks (2 clinic(s)), 0 errors, 1 warnings" in out
    assert "'Personnummer'" in out and "19121212" not in out
    assert not re.search(r"\d{6}-\d{4}", out)


def test_validate_tells_an_extract_from_a_weekly_file(tmp_path, capsys):
    weekly = write(tmp_path / "uro.csv", "Klinik;Vecka;Remisser in;Nybesök\nUrologi;2024-W01;40;35\n"
                   "Urologi;2024-W02;42;38\n")
    assert kx.extract_or_aggregate(weekly) == "aggregate" and kx.extract_or_aggregate(SAMPLE) == "extract"
    frame = read_waiting_list(DATA / "waiting_list_sv.csv", today=TODAY)
    frame.to_parquet(tmp_path / "wl.parquet")
    frame.to_excel(tmp_path / "wl.xlsx", index=False)
    assert kx.extract_or_aggregate(tmp_path / "wl.parquet") == "extract"
    assert kx.extract_or_aggregate(tmp_path / "wl.xlsx") == "extract"
    assert cli.main(["validate", str(weekly), str(tmp_path / "wl.parquet")]) == 0
    out = capsys.readouterr().out
    assert "uro.csv: 2 rows, 0 errors" in out and "wl.parquet: waiting-list extract, 10 referrals" in out


def test_validate_an_extract_names_the_column_and_never_the_cell(tmp_path, capsys):
    text = SAMPLE.read_text(encoding="utf-8-sig").replace("Beslut om operation", "Beslut om op.datum")
    path = write(tmp_path / "export.csv", text)
    assert cli.main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"error: {path}, column 'Operationsdatum', row 2: treatment without a decision to treat: the file " \
           "has no decision date column" in err
    assert "'Beslut om op.datum'" in err
    assert not re.search(r"\d{8}-\d{4}", err) and "2024-01-16" not in err


# ============================================================================ reading in parts
@pytest.fixture(scope="module")
def demo_extracts(demo_dir_current):
    """The demo clinics' extracts as ``make run`` writes them (outputs/demo-data/*_waiting_list.parquet)."""
    folder = demo_dir_current  # tests/conftest.py
    files = sorted(Path(folder).glob("*_waiting_list.parquet"))
    assert len(files) == 4
    return files


def test_parts_equal_the_whole_frame_on_the_demo_extracts(demo_extracts):
    for path in demo_extracts:
        whole = read_waiting_list(path, today="2030-01-01")
        weekly = weekly_from_waiting_list(whole)
        for chunk_rows in (997, 50_000):
            parts = kx.aggregate_waiting_list(path, today="2030-01-01", chunk_rows=chunk_rows)
            pd.testing.assert_frame_equal(parts, weekly)
        monthly = kx.aggregate_waiting_list(path, freq="M", today="2030-01-01", chunk_rows=3000,
                                            start="2020-01", end="2024-12")
        pd.testing.assert_frame_equal(monthly, kx.periods_from_waiting_list(whole, freq="M", start="2020-01",
                                                                            end="2024-12"))


def test_a_large_csv_is_streamed_by_arrow_with_the_same_result_and_rows(tmp_path, demo_extracts, monkeypatch):
    whole = read_waiting_list(demo_extracts[0], today="2030-01-01")
    csv = tmp_path / "export.csv"
    whole.assign(external=np.where(whole["external"], "Ja", "Nej")).to_csv(csv, index=False)
    monkeypatch.setattr(kd.files, "ARROW_CSV_MIN_BYTES", 0)
    source = kd.extract_parts._Source(csv, chunk_rows=5000, layout_kw={"today": "2030-01-01"})
    assert source.kind == "csv"
    weekly, rows = kx.aggregate_waiting_list(csv, today="2030-01-01", chunk_rows=5000, return_rows=True)
    assert rows == len(whole)
    pd.testing.assert_frame_equal(weekly, weekly_from_waiting_list(whole))
    # a bad cell far down the file is named by its line, as the whole read names it
    lines = csv.read_text().splitlines()
    lines[-3] = lines[-3].replace(",2", ",X2", 1)
    csv.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as parts:
        kx.aggregate_waiting_list(csv, today="2030-01-01", chunk_rows=5000)
    with pytest.raises(DataError) as at_once:
        read_waiting_list(csv, today="2030-01-01")
    assert parts.value.row == at_once.value.row == len(lines) - 2
    assert parts.value.column == at_once.value.column


def test_a_streamed_csv_finds_its_header_below_a_preamble_and_counts_rows_as_the_whole_read(tmp_path, monkeypatch):
    text = "Väntelista urologi;;;\nUttag 2024-06-01;;;\n\n" + SAMPLE.read_text(encoding="utf-8-sig")
    text = text.replace("Urologi;2;2024-01-24", "Urologi;9;2024-01-24")  # priority 9: line 14
    path = write(tmp_path / "preamble.csv", text)
    monkeypatch.setattr(kd.files, "ARROW_CSV_MIN_BYTES", 0)
    source = kd.extract_parts._Source(path, chunk_rows=3, layout_kw={"today": TODAY, "warn": False})
    assert (source.kind, source.layout.header_row) == ("csv", 4)
    with pytest.raises(DataError) as parts, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kx.aggregate_waiting_list(path, today=TODAY, chunk_rows=3)
    assert str(parts.value).startswith(f"{path}, column 'Prioritet', row 14: unknown priority code '9'")
    monkeypatch.setattr(kd.files, "ARROW_CSV_MIN_BYTES", 10**9)
    with pytest.raises(DataError) as whole, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        read_waiting_list(path, today=TODAY)
    assert str(whole.value) == str(parts.value)


def test_a_large_windows_1252_csv_is_streamed_too(tmp_path, monkeypatch):
    text = SAMPLE.read_text(encoding="utf-8-sig")
    path = write(tmp_path / "excel.csv", text, encoding="cp1252")
    monkeypatch.setattr(kd.files, "ARROW_CSV_MIN_BYTES", 0)
    source = kd.extract_parts._Source(path, chunk_rows=4, layout_kw={"today": TODAY, "warn": False})
    assert (source.kind, source._encoding) == ("csv", "cp1252")
    assert source.layout.header("decision_date") == "Beslut om operation"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = weekly_from_waiting_list(read_waiting_list(SAMPLE, today=TODAY))
        pd.testing.assert_frame_equal(kx.aggregate_waiting_list(path, today=TODAY, chunk_rows=4), expected)


def test_duplicates_across_parts_are_found_and_named(tmp_path):
    rows = [f"P{i};A;2024-01-{1 + i % 28:02d}" for i in range(200)] + ["P7;A;2024-01-08"]
    path = write(tmp_path / "dup.csv", "Patient-id;Klinik;Remissdatum\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError) as whole:
        read_waiting_list(path, today=TODAY)
    with pytest.raises(DataError) as parts:
        kx.aggregate_waiting_list(path, today=TODAY, chunk_rows=16)
    assert str(parts.value) == str(whole.value)
    assert str(whole.value).startswith(f"{path}, column 'Patient-id', rows 9, 202: the same patient id")
    assert "P7" not in str(whole.value)


def test_an_empty_clinic_part_is_refused_as_the_whole_read_refuses_it(tmp_path):
    rows = ["A1;uro;2024-01-02", "A2;;2024-01-03", "A3;uro;2024-01-04"]
    path = write(tmp_path / "c.csv", "Patient-id;Klinik;Remissdatum\n" + "\n".join(rows) + "\n")
    for call in (lambda: read_waiting_list(path, today=TODAY),
                 lambda: kx.aggregate_waiting_list(path, today=TODAY, chunk_rows=1)):
        with pytest.raises(DataError, match=r"column 'Klinik', row 3: empty clinic cell"):
            call()


def test_the_warnings_count_the_whole_file_once(tmp_path):
    rows = [f"A{i};;2024-01-{1 + i:02d};;{'hoppsan' if i % 3 == 0 else ''}" for i in range(9)]
    path = write(tmp_path / "w.csv", "Löpnummer;Prioritet;Remissdatum;Avförd datum;Avförandeorsak\n"
                 + "\n".join(rows) + "\n")
    with warnings.catch_warnings(record=True) as whole:
        warnings.simplefilter("always")
        read_waiting_list(path, today=TODAY)
    with warnings.catch_warnings(record=True) as parts:
        warnings.simplefilter("always")
        kx.aggregate_waiting_list(path, today=TODAY, chunk_rows=2)
    assert [str(w.message) for w in parts] == [str(w.message) for w in whole]
    assert any("9 row(s) without priority" in str(w.message) for w in whole)
    assert any("3 row(s) with a removal reason not recognised (1 different text(s), not shown)" in str(w.message)
               for w in whole)
    assert all("hoppsan" not in str(w.message) for w in whole)


# ============================================================================ properties
@st.composite
def extracts(draw):
    """Valid canonical extracts: referrals, then maybe a visit, a decision, a treatment or a removal."""
    n = draw(st.integers(1, 40))
    day0 = np.datetime64("2023-11-20")
    rows = []
    for _ in range(n):
        ref = draw(st.integers(0, 200))
        stage = draw(st.sampled_from(["waiting", "removed", "visited", "decided", "treated", "dropped"]))
        vis = dec = trt = rem = None
        reason = None
        if stage == "removed":
            rem = ref + draw(st.integers(0, 60))
            reason = draw(st.sampled_from(["forwarded", "declined", "other", None]))
        if stage in ("visited", "decided", "treated", "dropped"):
            vis = ref + draw(st.integers(0, 130))
        if stage in ("decided", "treated", "dropped"):
            dec = vis + draw(st.sampled_from([0, 0, 5]))
        if stage == "treated":
            trt = dec + draw(st.integers(0, 130))
        if stage == "dropped":
            rem = dec + draw(st.integers(0, 100))

        def date(x):
            return None if x is None else day0 + np.timedelta64(x, "D")

        rows.append({"clinic": draw(st.sampled_from(["A", "B"])), "group": draw(st.sampled_from(["x", "y"])),
                     "referral_date": date(ref), "first_visit_date": date(vis), "decision_date": date(dec),
                     "treatment_date": date(trt), "removal_date": date(rem), "removal_reason": reason,
                     "external": draw(st.booleans()), "patient_chosen_wait": draw(st.booleans())})
    frame = pd.DataFrame(rows)
    for c in kd.schema.DATE_COLUMNS:
        frame[c] = pd.to_datetime(frame[c])
    return frame


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extracts(), st.integers(1, 15), st.sampled_from(["W", "M"]), st.randoms(use_true_random=False))
def test_counting_in_parts_of_any_size_and_order_equals_counting_at_once(extract, chunk_rows, freq, rnd):
    at_once = kx.periods_from_waiting_list(extract, freq=freq, chunk_rows=len(extract))
    shuffled = extract.iloc[rnd.sample(range(len(extract)), len(extract))].reset_index(drop=True)
    in_parts = kx.periods_from_waiting_list(shuffled, freq=freq, chunk_rows=chunk_rows)
    pd.testing.assert_frame_equal(in_parts, at_once)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extracts())
def test_monthly_counts_follow_the_definitions_month_by_month(extract):
    """An oracle written from the definitions, one month at a time."""
    monthly = kx.periods_from_waiting_list(extract.drop(columns="group"), freq="M", chunk_rows=7)
    day = {c: extract[c].to_numpy(dtype="datetime64[D]") for c in kd.schema.DATE_COLUMNS}
    ref, vis, dec, trt, rem = (day[c] for c in kd.schema.DATE_COLUMNS)
    fwd = (extract["removal_reason"] == "forwarded").to_numpy()
    ext, pcw = extract["external"].to_numpy(), extract["patient_chosen_wait"].to_numpy()
    for row in monthly.itertuples(index=False):
        mine = (extract["clinic"] == row.clinic).to_numpy()
        first = np.datetime64(row.period.start_time.date(), "D")
        last = np.datetime64(row.period.end_time.date(), "D")

        def inm(d, mine=mine, first=first, last=last):
            return mine & (d >= first) & (d <= last)

        def after(d, last=last):
            return np.isnat(d) | (d > last)

        queue_new = mine & (ref <= last) & after(vis) & after(rem)
        queue_trt = mine & (dec <= last) & after(trt) & after(rem)
        assert row.referrals_in == inm(ref).sum()
        assert row.referrals_forwarded == (inm(rem) & np.isnat(vis) & fwd).sum()
        assert row.new_visits + row.purchased_new_visits == inm(vis).sum()
        assert row.purchased_new_visits == (inm(vis) & ext & np.isnat(dec)).sum()
        assert row.operations_elective + row.purchased_operations == inm(trt).sum()
        assert row.queue_new_visit == queue_new.sum()
        assert row.queue_treatment == queue_trt.sum()
        assert row.waiting_over_90_new_visit == (queue_new & ~pcw & ((last - ref).astype(int) > 90)).sum()
        waited = np.where(np.isnat(dec), 0, (last - np.where(np.isnat(dec), last, dec)).astype(int))
        assert row.waiting_over_90_treatment == (queue_trt & ~pcw & (waited > 90)).sum()


def test_period_counts_refuses_what_the_frame_path_refuses():
    frame = pd.DataFrame({"clinic": ["A", "A"], "referral_date": pd.to_datetime(["2024-01-02", "2024-01-03"]),
                          "removal_date": pd.to_datetime(["2024-01-05", "2024-01-01"])})
    with pytest.raises(ValueError, match=r"1 row\(s\) with dates in an impossible order, e\.g\. removal before "
                                         r"the referral \(column 'removal_date', row index 1\)"):
        kx.periods_from_waiting_list(frame, chunk_rows=1)
    with pytest.raises(ValueError, match="freq must be"):
        kx.periods_from_waiting_list(frame, freq="Q")
