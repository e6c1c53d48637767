"""Tests for kps_analysis.data: readers, header mapping, derivation, validation."""

from __future__ import annotations

import codecs
import dataclasses
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kps_analysis import data as kd
from kps_analysis.data import (
    DERIVED_MEASURES,
    FLOW_MEASURES,
    MEASURES,
    STOCK_MEASURES,
    DataError,
    load_clinic_data,
    raise_for_errors,
    read_waiting_list,
    read_weekly,
    validate,
    waiting_snapshot,
    weekly_from_waiting_list,
)

DATA = Path(__file__).parent / "data"


def weeks(*labels):
    """ISO week labels -> list of W-SUN periods (via Monday dates, independent of the reader)."""
    out = []
    for label in labels:
        year, week = label.split("-W")
        monday = pd.Timestamp.fromisocalendar(int(year), int(week), 1)
        out.append(pd.Period(monday, freq="W-SUN"))
    return out


def write(path: Path, text: str, encoding="utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# ============================================================================ schema
def test_measure_tuples_partition_the_schema():
    assert len(MEASURES) == 22 and len(set(MEASURES)) == 22
    assert set(FLOW_MEASURES) | set(STOCK_MEASURES) == set(MEASURES)
    assert not set(FLOW_MEASURES) & set(STOCK_MEASURES)
    assert set(DERIVED_MEASURES) <= set(MEASURES)
    assert "queue_return_unbooked" in STOCK_MEASURES and "bed_days" in FLOW_MEASURES


def test_header_aliases_are_unambiguous_and_cover_the_primary_swedish_names():
    primary = {
        "Klinik": "clinic", "Grupp": "group", "Vecka": "period:week", "Månad": "period:month",
        "Remisser in": "referrals_in", "Vidarebefordrade remisser": "referrals_forwarded",
        "Avförda ur nybesökskö": "removals_new_visit_other", "Nybesök": "new_visits",
        "Återbesök": "return_visits", "Akuta besök": "emergency_visits",
        "Behandlingsbeslut": "treatment_decisions", "Avförda ur behandlingskö": "removals_treatment_other",
        "Elektiva operationer": "operations_elective", "Akuta operationer": "operations_acute",
        "Vårddagar": "bed_days", "Väntande nybesök": "queue_new_visit",
        "Väntande behandling": "queue_treatment", "Ej bokade återbesök": "queue_return_unbooked",
        "Väntat över 90 dagar nybesök": "waiting_over_90_new_visit",
        "Väntat över 90 dagar behandling": "waiting_over_90_treatment",
        "Köpt vård nybesök": "purchased_new_visits", "Köpt vård operationer": "purchased_operations",
        "Planerade nybesök": "planned_new_visits", "Planerade operationer": "planned_operations",
        "Uteblivna besök": "no_shows", "Lediga tider": "available_slots",
        # aliases
        "Inkomna remisser": "referrals_in", "Remisser": "referrals_in", "Väntande": "queue_new_visit",
        "Kö nybesök": "queue_new_visit", "Operationer": "operations_elective",
        "Köpt vård": "purchased_new_visits", "Köpta operationer": "purchased_operations",
        "Enhet": "group", "Team": "group", "Diagnosgrupp": "group", "Week": "period:week",
    }
    for header, role in primary.items():
        assert kd.headers.WEEKLY_LOOKUP[kd.normalise_header(header)] == role, header
    for m in MEASURES:  # English canonical names, any spelling
        assert kd.headers.WEEKLY_LOOKUP[kd.normalise_header(m.upper().replace("_", " "))] == m
    # building the lookup raises on an alias with two meanings; it did not
    assert len(kd.headers.WEEKLY_LOOKUP) > 200


def test_normalise_header_ignores_case_space_punctuation_and_swedish_letters():
    same = ["Väntat över 90 dagar nybesök", "VÄNTAT ÖVER 90 DAGAR NYBESÖK", " vantat_over-90 dagar nybesok ",
            "Väntat över 90 dagar, nybesök."]
    assert len({kd.normalise_header(s) for s in same}) == 1


# ============================================================================ read_weekly: CSV
def test_swedish_excel_csv_with_bom_semicolon_and_decimal_comma():
    frame = read_weekly(DATA / "weekly_sv_excel.csv")
    assert list(frame.columns) == ["clinic", "period", "referrals_in", "referrals_forwarded", "new_visits",
                                   "return_visits", "bed_days", "queue_new_visit",
                                   "waiting_over_90_new_visit", "purchased_new_visits"]
    assert frame["clinic"].tolist() == ["ort_nord"] * 3
    assert frame["period"].tolist() == weeks("2024-W05", "2024-W06", "2024-W07")
    assert frame["referrals_in"].tolist() == [1204.0, 1187.0, 1250.0]  # "1 204"
    assert frame["queue_new_visit"].tolist() == [2345.0, 2401.0, 2460.0]  # "2\xa0345" (no-break space)
    assert frame["new_visits"].tolist() == [310.0, 298.0, 305.0]  # "310,0" is a whole number
    assert frame["bed_days"].tolist() == [87.5, 90.25, 88.0]
    assert frame["purchased_new_visits"].iloc[:2].tolist() == [0.0, 15.0]
    assert np.isnan(frame["purchased_new_visits"].iloc[2])  # empty cell = not reported
    assert all(frame[m].dtype == np.float64 for m in frame.columns[2:])
    assert isinstance(frame["period"].dtype, pd.PeriodDtype) and frame["period"].dtype.freq.freqstr == "W-SUN"


def test_comma_csv_with_english_names_quoted_thousands_and_groups():
    frame = read_weekly(DATA / "weekly_en.csv")
    assert list(frame.columns[:3]) == ["clinic", "group", "period"]
    assert frame[["clinic", "group"]].values.tolist() == [["hud", "A"], ["hud", "A"], ["hud", "B"]]
    assert frame["period"].tolist() == weeks("2024-W05", "2024-W06", "2024-W05")
    assert frame["referrals_in"].tolist() == [1204.0, 980.0, 15.0]  # "1,204" in a comma file
    assert frame["bed_days"].iloc[:2].tolist() == [2.5, 0.0] and np.isnan(frame["bed_days"].iloc[2])
    assert frame["queue_new_visit"].tolist() == [310.0, 320.0, 41.0]


def test_clinic_comes_from_argument_then_file_stem(tmp_path):
    path = write(tmp_path / "kir_export.csv", "Vecka;Nybesök\n2024-W05;3\n")
    assert read_weekly(path)["clinic"].tolist() == ["kir_export"]
    assert read_weekly(path, clinic="kir")["clinic"].tolist() == ["kir"]
    with_col = write(tmp_path / "x.csv", "Klinik;Vecka;Nybesök\nonh;2024-W05;3\n")
    assert read_weekly(with_col, clinic="kir")["clinic"].tolist() == ["onh"]


@pytest.mark.parametrize("encoding,bom,sep", [
    ("utf-8", b"", ";"),
    ("utf-8", codecs.BOM_UTF8, ";"),
    ("cp1252", b"", ";"),
    ("utf-16-le", codecs.BOM_UTF16_LE, "\t"),  # Excel "Unicode text"
    ("utf-16-be", codecs.BOM_UTF16_BE, "\t"),
    ("utf-16-le", b"", "\t"),
])
def test_encodings(tmp_path, encoding, bom, sep):
    text = sep.join(["Klinik", "Vecka", "Återbesök", "Väntande behandling"]) + "\r\n" \
        + sep.join(["Öron", "2024-W05", "12", "4"]) + "\r\n"
    path = tmp_path / "enc.csv"
    path.write_bytes(bom + text.encode(encoding))
    frame = read_weekly(path)
    assert frame["clinic"].tolist() == ["Öron"]
    assert frame["return_visits"].tolist() == [12.0] and frame["queue_treatment"].tolist() == [4.0]


def test_preamble_lines_blank_rows_total_rows_and_sep_hint(tmp_path):
    path = write(tmp_path / "cognos.csv",
                 "sep=;\nRapport ortopedi, 2024\n\nVecka;Nybesök;Återbesök\n2024-W05;10;20\n\n"
                 "2024-W06;11;21\nTotalt;21;41\n")
    with pytest.warns(UserWarning, match="total row"):
        frame = read_weekly(path)
    assert frame["new_visits"].tolist() == [10.0, 11.0]
    # the row numbers of errors are the spreadsheet rows (the sep= line is hidden by Excel)
    bad = write(tmp_path / "cognos_bad.csv", "Rapport\n\nVecka;Nybesök\n2024-W05;10\n2024-W06;x\n")
    with pytest.raises(DataError, match=r"cognos_bad\.csv, column 'Nybesök', row 5: 'x' is not a number"):
        read_weekly(bad)


def test_unknown_measure_looking_column_is_left_out_with_a_finding(tmp_path):
    path = write(tmp_path / "u.csv", "Vecka;Nybesök;Telefonsamtal;Kommentar\n2024-W05;10;55;lugn vecka\n")
    with pytest.warns(UserWarning, match="'Telefonsamtal' is not a known measure"):
        frame = read_weekly(path)
    assert list(frame.columns) == ["clinic", "period", "new_visits"]
    findings = validate(frame, today="2025-01-01")
    assert findings[["severity", "column"]].values.tolist() == [["warning", "Telefonsamtal"]]


def test_personnummer_column_never_reaches_a_weekly_frame(tmp_path):
    path = write(tmp_path / "p.csv", "Personnummer;Vecka;Nybesök\n19121212-1212;2024-W05;1\n")
    with pytest.warns(UserWarning, match="'Personnummer'"):
        frame = read_weekly(path)
    assert "19121212-1212" not in frame.to_string()


# ============================================================================ week and month labels
WEEK_FORMS = ["2024-W05", "2024W05", "2024-w5", "2024 v5", "2024 v.5", "2024 V 05", "v5 2024", "v.5 2024",
              "V05-2024", "vecka 5 2024", "202405", "2024-05", "2024/05", "2024-01-29", "2024-02-04",
              "2024-01-31 00:00:00", "31.01.2024", "20240201"]


@pytest.mark.parametrize("label", WEEK_FORMS)
def test_every_week_label_form_means_iso_week_5(tmp_path, label):
    path = write(tmp_path / "w.csv", f"Vecka;Nybesök\n{label};7\n")
    assert read_weekly(path)["period"].tolist() == weeks("2024-W05")


def test_week_53_and_year_boundaries(tmp_path):
    path = write(tmp_path / "w53.csv", "Vecka;Nybesök\n2020-W53;1\n2021-W01;2\n2024-12-30;3\n2026-W53;4\n")
    frame = read_weekly(path)
    assert frame["period"].tolist() == weeks("2020-W53", "2021-W01", "2025-W01", "2026-W53")
    assert str(frame["period"].iloc[0].start_time.date()) == "2020-12-28"


def test_week_53_in_a_52_week_year_is_an_error(tmp_path):
    path = write(tmp_path / "w53bad.csv", "Vecka;Nybesök\n2021-W52;1\n2021-W53;2\n")
    with pytest.raises(DataError) as info:
        read_weekly(path)
    message = str(info.value)
    assert "w53bad.csv" in message and "column 'Vecka'" in message and "row 3" in message
    assert "week 53 does not exist in 2021" in message
    assert info.value.row == 3 and info.value.column == "Vecka"


def test_year_and_week_number_in_separate_columns(tmp_path):
    path = write(tmp_path / "yw.csv", "År;Vecka;Nybesök\n2024;5;1\n2024;v6;2\n2025;1;3\n")
    assert read_weekly(path)["period"].tolist() == weeks("2024-W05", "2024-W06", "2025-W01")


@pytest.mark.parametrize("header,labels", [
    ("Månad", ["2024-01", "2024-02", "2024-03"]),
    ("Månad", ["jan 2024", "feb 2024", "mars 2024"]),
    ("Month", ["januari 2024", "Februari 2024", "March 2024"]),
    ("Månad", ["2024-01-31", "2024-02-29", "2024-03-31"]),
    ("Månad", ["202401", "202402", "202403"]),
    ("Period", ["2024-01", "2024-02", "2024-03"]),
    ("Period", ["2024-01-01", "2024-02-01", "2024-03-01"]),
    ("Datum", ["Jan-2024", "Feb-2024", "Mar-2024"]),
])
def test_monthly_files(tmp_path, header, labels):
    rows = "\n".join(f"{lab};{i}" for i, lab in enumerate(labels, 1))
    path = write(tmp_path / "m.csv", f"{header};Remisser in\n{rows}\n")
    frame = read_weekly(path)
    assert frame["period"].tolist() == [pd.Period(f"2024-0{i}", freq="M") for i in (1, 2, 3)]
    assert frame["referrals_in"].tolist() == [1.0, 2.0, 3.0]


def test_year_and_month_columns(tmp_path):
    path = write(tmp_path / "ym.csv", "År;Månad;Nybesök\n2024;1;5\n2024;december;6\n")
    assert read_weekly(path)["period"].tolist() == [pd.Period("2024-01", "M"), pd.Period("2024-12", "M")]


def test_neutral_header_decides_from_labels(tmp_path):
    weekly = write(tmp_path / "a.csv", "Period;Nybesök\n2024-W05;1\n2024-W06;2\n")
    assert read_weekly(weekly)["period"].tolist() == weeks("2024-W05", "2024-W06")
    dates = write(tmp_path / "b.csv", "Datum;Nybesök\n2024-01-29;1\n2024-02-05;2\n")
    assert read_weekly(dates)["period"].tolist() == weeks("2024-W05", "2024-W06")
    numbers = write(tmp_path / "c.csv", "Period;Nybesök\n2024-12;1\n2024-13;2\n")  # 13 > 12: weeks
    assert read_weekly(numbers)["period"].tolist() == weeks("2024-W12", "2024-W13")


def test_month_label_under_week_header_is_an_error(tmp_path):
    path = write(tmp_path / "mw.csv", "Vecka;Nybesök\n2024-W05;1\njan 2024;2\n")
    with pytest.raises(DataError, match=r"mw\.csv, column 'Vecka', row 3: 'jan 2024' is a month"):
        read_weekly(path)


@pytest.mark.parametrize("label", ["2024-W60", "hej", "2024-W00", "v5"])
def test_unreadable_week_labels(tmp_path, label):
    path = write(tmp_path / "bad.csv", f"Vecka;Nybesök\n2024-W04;1\n{label};2\n")
    with pytest.raises(DataError, match=r"bad\.csv, column 'Vecka', row 3"):
        read_weekly(path)


# ============================================================================ read_weekly: XLSX, Parquet
def test_xlsx_round_trip_with_swedish_headers(tmp_path):
    source = pd.DataFrame({
        "Klinik": ["kir", "kir", "kir"],
        "Vecka": ["2024-W05", "2024-W06", "2024-W07"],
        "Elektiva operationer": [31, 28, 30],
        "Vårddagar": [101.5, 98.0, 99.25],
        "Väntande behandling": [412, 420, None],
    })
    path = tmp_path / "kir_weekly.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="Info", index=False)
        source.to_excel(writer, sheet_name="Data", index=False)
    frame = read_weekly(path, sheet="Data")
    assert frame["period"].tolist() == weeks("2024-W05", "2024-W06", "2024-W07")
    assert frame["operations_elective"].tolist() == [31.0, 28.0, 30.0]
    assert frame["bed_days"].tolist() == [101.5, 98.0, 99.25]
    assert frame["queue_treatment"].iloc[:2].tolist() == [412.0, 420.0]
    assert np.isnan(frame["queue_treatment"].iloc[2])
    # first sheet by default: no table there, and the message lists the sheets
    with pytest.raises(DataError) as info:
        read_weekly(path)
    assert str(info.value) == (
        f"{path}: not a recognised table: no cell in the first rows is a known column header (expected e.g. "
        "'Vecka', 'Nybesök', 'Väntande nybesök'); the file's content is not shown (the first sheet was read; "
        "the workbook has sheets 'Info', 'Data': name the one with the data in the clinic parameter data.sheet)")
    with pytest.raises(DataError, match=r"no sheet 'Blad1'; the workbook has sheet\(s\) 'Info', 'Data'"):
        read_weekly(path, sheet="Blad1")


def test_xlsx_dates_and_errors_report_spreadsheet_rows(tmp_path):
    source = pd.DataFrame({"Vecka": pd.to_datetime(["2024-01-29", "2024-02-05"]), "Nybesök": [3, -1]})
    path = tmp_path / "neg.xlsx"
    source.to_excel(path, index=False)
    with pytest.raises(DataError, match=r"neg\.xlsx, column 'Nybesök', row 3: negative count -1"):
        read_weekly(path)
    source["Nybesök"] = [3, 4]
    source.to_excel(path, index=False)
    assert read_weekly(path)["period"].tolist() == weeks("2024-W05", "2024-W06")


def test_parquet_round_trip_canonical_and_labels(tmp_path):
    frame = pd.DataFrame({
        "clinic": ["ogon", "ogon"],
        "period": pd.PeriodIndex(weeks("2024-W05", "2024-W06")),
        "new_visits": [120.0, 118.0],
        "queue_new_visit": [900.0, 910.0],
    })
    path = tmp_path / "ogon.parquet"
    frame.to_parquet(path)
    back = read_weekly(path)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    assert back["new_visits"].dtype == np.float64
    labels = frame.assign(period=["2024-W05", "2024-W06"]).rename(columns={"period": "Vecka"})
    labels.to_parquet(path)
    pd.testing.assert_frame_equal(read_weekly(path), frame, check_dtype=False)


# ============================================================================ read_weekly: count errors
@pytest.mark.parametrize("value,reason", [
    ("tolv", "'tolv' is not a number"),
    ("-3", "negative count -3"),
    ("12,5", "'12,5' is not a whole number"),
    ("1.5", "'1.5' is not a whole number"),
])
def test_bad_counts_name_file_column_and_row(tmp_path, value, reason):
    path = write(tmp_path / "counts.csv", f"Vecka;Återbesök;Nybesök\n2024-W05;1;2\n2024-W06;3;{value}\n")
    with pytest.raises(DataError) as info:
        read_weekly(path)
    assert str(info.value).startswith(f"{path}, column 'Nybesök', row 3: {reason}")


def test_decimals_are_fine_in_bed_days_and_whole_decimals_everywhere(tmp_path):
    path = write(tmp_path / "ok.csv", "Vecka;Nybesök;Vårddagar\n2024-W05;12,0;12,5\n2024-W06;1 000,00;3\n")
    frame = read_weekly(path)
    assert frame["new_visits"].tolist() == [12.0, 1000.0] and frame["bed_days"].tolist() == [12.5, 3.0]


def test_duplicate_week_names_the_week_and_the_rows(tmp_path):
    path = write(tmp_path / "dup.csv", "Klinik;Vecka;Nybesök\nA;2024-W05;1\nA;2024-W06;1\nA;2024 v5;2\n")
    with pytest.raises(DataError) as info:
        read_weekly(path)
    message = str(info.value)
    assert "dup.csv" in message and "rows 2, 4" in message and "week 2024-W05" in message
    assert "column 'Vecka'" in message
    # the same week in two clinics is no duplicate
    ok = write(tmp_path / "ok.csv", "Klinik;Vecka;Nybesök\nA;2024-W05;1\nB;2024-W05;1\n")
    assert read_weekly(ok)["clinic"].tolist() == ["A", "B"]


def test_missing_period_or_measure_columns(tmp_path):
    with pytest.raises(DataError, match=r"noperiod\.csv: no week or month column"):
        read_weekly(write(tmp_path / "noperiod.csv", "Klinik;Nybesök\nA;1\n"))
    with pytest.raises(DataError, match=r"nomeasure\.csv: no measure column"):
        read_weekly(write(tmp_path / "nomeasure.csv", "Klinik;Vecka;Kommentar\nA;2024-W05;x\n"))
    with pytest.raises(DataError, match=r"missing\.csv: file not found"):
        read_weekly(tmp_path / "missing.csv")
    with pytest.raises(DataError, match=r"both mean 'new_visits'"):
        read_weekly(write(tmp_path / "twice.csv", "Vecka;Nybesök;New visits\n2024-W05;1;1\n"))


def test_data_error_attributes_and_pickling():
    error = DataError("bad", path="f.csv", column="Vecka", row=[3, 7], period=weeks("2024-W05")[0])
    assert str(error) == "f.csv, column 'Vecka', rows 3, 7, week 2024-W05: bad"
    assert isinstance(error, ValueError)
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error) and again.row == [3, 7] and again.column == "Vecka"


# ============================================================================ waiting list
HAND_EXTRACT = pd.DataFrame({
    "patient_id": [f"P{i}" for i in range(1, 11)],
    "clinic": ["A"] * 10,
    "priority": ["1", "2", "3", "1", "2", "1", "3", "2", "1", "2"],
    "referral_date": pd.to_datetime(["2023-10-01", "2023-10-10", "2024-01-02", "2024-01-03", "2024-01-09",
                                     "2024-01-10", "2023-09-01", "2023-08-01", "2024-01-29", "2023-12-20"]),
    "first_visit_date": pd.to_datetime([None, "2024-01-24", None, None, "2024-01-30", "2024-01-17",
                                        "2023-09-20", "2023-08-15", None, "2024-01-08"]),
    "decision_date": pd.to_datetime([None, "2024-01-24", None, None, None, "2024-01-17", "2023-09-20",
                                     "2023-08-15", None, None]),
    "treatment_date": pd.to_datetime([None, "2024-02-01", None, None, None, "2024-02-02", None, None, None,
                                      None]),
    "removal_date": pd.to_datetime([None, None, "2024-01-16", "2024-01-05", None, None, None, "2024-01-20",
                                    None, None]),
    "removal_reason": [None, None, "forwarded", "declined", None, None, None, "other", None, None],
    "external": [False, False, False, False, True, True, False, False, False, False],
    "patient_chosen_wait": [False, False, False, False, False, False, True, False, False, False],
})

# Hand count, ISO weeks 2024-W01 (1-7 Jan) .. 2024-W05 (29 Jan - 4 Feb); see the patients above.
HAND_WEEKLY = pd.DataFrame({
    "referrals_in":              [2, 2, 0, 0, 1],  # P3 P4 | P5 P6 | | | P9
    "referrals_forwarded":       [0, 0, 1, 0, 0],  # P3
    "removals_new_visit_other":  [1, 0, 0, 0, 0],  # P4 (declined)
    "new_visits":                [0, 1, 1, 1, 0],  # P10 | P6 (decision, so in-house) | P2
    "treatment_decisions":       [0, 0, 1, 1, 0],  # P6 | P2
    "removals_treatment_other":  [0, 0, 1, 0, 0],  # P8
    "operations_elective":       [0, 0, 0, 0, 1],  # P2
    "queue_new_visit":           [4, 5, 3, 2, 2],  # P1 P2 P3 P10 | P1 P2 P3 P5 P6 | P1 P2 P5 | P1 P5 | P1 P9
    "queue_treatment":           [2, 2, 2, 3, 1],  # P7 P8 | P7 P8 | P7 P6 | P7 P6 P2 | P7
    "waiting_over_90_new_visit": [1, 2, 2, 1, 1],  # P1 (98 d; P2 89 d) | P1 P2 | P1 P2 | P1 | P1
    "waiting_over_90_treatment": [1, 1, 0, 0, 0],  # P8 (P7 chose to wait) | P8 | -
    "purchased_new_visits":      [0, 0, 0, 0, 1],  # P5 (external, no decision)
    "purchased_operations":      [0, 0, 0, 0, 1],  # P6
}, dtype=np.float64)


def test_read_waiting_list_swedish_csv_equals_the_hand_extract():
    extract = read_waiting_list(DATA / "waiting_list_sv.csv", today="2024-02-04")
    assert list(extract.columns) == [c for c in kd.EXTRACT_COLUMNS if c != "group"]
    expected = HAND_EXTRACT
    for col in ("patient_id", "clinic", "priority"):
        assert extract[col].tolist() == expected[col].tolist(), col
    for col in kd.schema.DATE_COLUMNS:
        assert extract[col].dtype == np.dtype("datetime64[ns]")
        assert extract[col].tolist() == expected[col].astype("datetime64[ns]").tolist(), col
    def text_or_none(series):
        return [r if isinstance(r, str) else None for r in series]

    assert text_or_none(extract["removal_reason"]) == text_or_none(expected["removal_reason"])
    assert extract["external"].tolist() == expected["external"].tolist()
    assert extract["patient_chosen_wait"].tolist() == expected["patient_chosen_wait"].tolist()


def test_weekly_from_waiting_list_equals_the_hand_count():
    weekly = weekly_from_waiting_list(HAND_EXTRACT, start="2024-01-01", end="2024-02-04")
    assert list(weekly.columns) == ["clinic", "period", *DERIVED_MEASURES]
    assert weekly["clinic"].tolist() == ["A"] * 5
    assert weekly["period"].tolist() == weeks("2024-W01", "2024-W02", "2024-W03", "2024-W04", "2024-W05")
    pd.testing.assert_frame_equal(weekly[list(HAND_WEEKLY.columns)], HAND_WEEKLY)
    # week labels work as start/end as well
    again = weekly_from_waiting_list(HAND_EXTRACT, start="2024-W01", end="2024-W05")
    pd.testing.assert_frame_equal(again, weekly)


def test_weekly_from_waiting_list_default_range_and_groups():
    weekly = weekly_from_waiting_list(HAND_EXTRACT)
    # from the first referral week (P8, 1 Aug 2023 = 2023-W31) to the latest date (2 Feb 2024, W05)
    assert weekly["period"].iloc[0] == weeks("2023-W31")[0]
    assert weekly["period"].iloc[-1] == weeks("2024-W05")[0]
    assert len(weekly) == 27
    tail = weekly.iloc[-5:].reset_index(drop=True)
    pd.testing.assert_frame_equal(tail[["queue_new_visit", "queue_treatment"]],
                                  HAND_WEEKLY[["queue_new_visit", "queue_treatment"]])
    grouped = HAND_EXTRACT.assign(group=["x", "y"] * 5, clinic=["A"] * 5 + ["B"] * 5)
    by_group = weekly_from_waiting_list(grouped, start="2024-01-01", end="2024-02-04")
    assert list(by_group.columns[:3]) == ["clinic", "group", "period"]
    assert by_group[["clinic", "group"]].drop_duplicates().values.tolist() == [
        ["A", "x"], ["A", "y"], ["B", "x"], ["B", "y"]]
    summed = by_group.groupby("period")[list(HAND_WEEKLY.columns)].sum().reset_index(drop=True)
    pd.testing.assert_frame_equal(summed, HAND_WEEKLY)


def test_weekly_from_waiting_list_rejects_impossible_input():
    with pytest.raises(ValueError, match="extract lacks"):
        weekly_from_waiting_list(HAND_EXTRACT.drop(columns="referral_date"))
    broken = HAND_EXTRACT.assign(removal_date=HAND_EXTRACT["referral_date"] - pd.Timedelta(days=1))
    with pytest.raises(ValueError, match="removal before the referral"):
        weekly_from_waiting_list(broken)


def test_waiting_snapshot_on_a_hand_checked_day():
    snap = waiting_snapshot(HAND_EXTRACT, "2024-01-14")
    assert "patient_id" not in snap.columns
    assert list(snap.columns) == ["clinic", "priority", "stage", "wait_days", "patient_chosen_wait"]
    assert snap[["stage", "wait_days", "priority"]].values.tolist() == [
        ["new_visit", 105, "1"], ["new_visit", 96, "2"], ["new_visit", 12, "3"], ["new_visit", 5, "2"],
        ["new_visit", 4, "1"], ["treatment", 152, "2"], ["treatment", 116, "3"]]
    assert snap["patient_chosen_wait"].tolist() == [False] * 6 + [True]
    # the snapshot at a Sunday agrees with the weekly queues of that week (2024-W02)
    week = weekly_from_waiting_list(HAND_EXTRACT, start="2024-01-01", end="2024-02-04").iloc[1]
    assert (snap["stage"] == "new_visit").sum() == week["queue_new_visit"]
    counted = snap[(snap["wait_days"] > 90) & ~snap["patient_chosen_wait"]]
    assert (counted["stage"] == "new_visit").sum() == week["waiting_over_90_new_visit"]
    assert (counted["stage"] == "treatment").sum() == week["waiting_over_90_treatment"]


WL_HEADER = "Patient-id;Klinik;Prioritet;Remissdatum;Besöksdatum;Beslutsdatum;Behandlingsdatum;Avförd datum;Extern\n"


# test_waiting_list_errors_name_file_column_and_row: in test_extract.py


def test_duplicate_patient_names_rows_but_not_the_id(tmp_path):
    rows = ("X1;A;2;2024-01-02;;;;;Nej\nX9;A;2;2024-01-02;;;;;Nej\nX1;A;1;2024-01-02;;;;;Nej\n"
            "X1;B;1;2024-01-02;;;;;Nej\n")
    path = write(tmp_path / "wl_dup.csv", WL_HEADER + rows)
    with pytest.raises(DataError) as info:
        read_waiting_list(path, today="2024-03-01")
    message = str(info.value)
    assert message.startswith(f"{path}, column 'Patient-id', rows 2, 4: ") and "X1" not in message
    # the same patient with another referral date is a new referral
    ok = write(tmp_path / "wl_ok.csv", WL_HEADER + "X1;A;2;2024-01-02;;;;;Nej\nX1;A;2;2024-01-03;;;;;Nej\n")
    assert len(read_waiting_list(ok, today="2024-03-01")) == 2


def test_priority_codes_are_normalised(tmp_path):
    path = write(tmp_path / "prio.csv", "Remissdatum,Prioritet\n2024-01-02,Prio 1\n2024-01-02,2.0\n"
                 "2024-01-02,P3\n2024-01-02,prioritet 2\n")
    assert read_waiting_list(path, today="2024-03-01")["priority"].tolist() == ["1", "2", "3", "2"]
    frame = pd.DataFrame({"Remissdatum": pd.to_datetime(["2024-01-02"] * 3), "Prioritet": [1, 2, 3]})
    frame.to_parquet(tmp_path / "prio.parquet")
    assert read_waiting_list(tmp_path / "prio.parquet", today="2024-03-01")["priority"].tolist() == ["1", "2", "3"]


def test_personnummer_is_never_carried_into_the_extract(tmp_path):
    text = ("Personnummer;Löpnummer;Remissdatum;Anteckning\n19121212-1212;L1;2024-01-02;x\n"
            "19850101-2389;L2;2024-01-03;y\n")
    path = write(tmp_path / "pnr.csv", text)
    with pytest.warns(UserWarning, match="Personnummer"):
        extract = read_waiting_list(path, today="2024-03-01")
    assert "19121212" not in extract.to_string() and extract["patient_id"].tolist() == ["L1", "L2"]
    # a patient id column that holds personnummer is replaced by pseudonyms
    as_id = write(tmp_path / "pnr_id.csv", "Patient-id;Remissdatum\n191212121212;2024-01-02\n"
                  "19121212-1212;2024-01-05\n850101-2389;2024-01-03\n")
    with pytest.warns(UserWarning, match="pseudonyms"):
        extract = read_waiting_list(as_id, today="2024-03-01")
    assert extract["patient_id"].tolist() == ["P0000001", "P0000002", "P0000003"]
    # an unnamed column full of personnummer is found by its content
    hidden = write(tmp_path / "pnr_hidden.csv", "Löpnummer;Remissdatum;Info\nL1;2024-01-02;19121212-1212\n"
                   "L2;2024-01-02;198501012389\n")
    with pytest.warns(UserWarning, match="'Info'"):
        read_waiting_list(hidden, today="2024-03-01")


def test_waiting_list_xlsx_and_parquet_round_trips(tmp_path):
    sv = pd.DataFrame({
        "Löpnummer": ["A1", "A2", "A3"],
        "Klinik": ["gyn"] * 3,
        "Diagnosgrupp": ["endo", "endo", "pro"],
        "Prioritet": ["1", "2", "3"],
        "Remissdatum": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"]),
        "Besöksdatum": pd.to_datetime(["2024-01-20", None, "2024-02-01"]),
        "Beslutsdatum": pd.to_datetime(["2024-01-20", None, None]),
        "Operationsdatum": pd.to_datetime([None, None, None]),
        "Avförd datum": pd.to_datetime([None, "2024-01-09", None]),
        "Avförandeorsak": [None, "vidarebefordrad", None],
        "Köpt vård": ["Nej", "Nej", "Ja"],
    })
    sv.to_excel(tmp_path / "gyn.xlsx", index=False)
    from_xlsx = read_waiting_list(tmp_path / "gyn.xlsx", today="2024-03-01")
    assert from_xlsx["group"].tolist() == ["endo", "endo", "pro"]
    assert from_xlsx["removal_reason"].iloc[1] == "forwarded"
    assert from_xlsx["external"].tolist() == [False, False, True]
    from_xlsx.to_parquet(tmp_path / "gyn.parquet")
    from_parquet = read_waiting_list(tmp_path / "gyn.parquet", today="2024-03-01")
    pd.testing.assert_frame_equal(from_parquet.astype(object), from_xlsx.astype(object))
    wanted = weekly_from_waiting_list(from_xlsx)
    pd.testing.assert_frame_equal(weekly_from_waiting_list(from_parquet), wanted)
    assert wanted["purchased_new_visits"].sum() == 1 and wanted["referrals_forwarded"].sum() == 1


# ============================================================================ identities (hypothesis)
@st.composite
def extracts(draw):
    n = draw(st.integers(1, 40))
    day0 = np.datetime64("2023-12-27")  # a Wednesday: weeks are cut mid-pattern
    rows = []
    for i in range(n):
        ref = draw(st.integers(0, 150))
        stage = draw(st.sampled_from(["waiting", "removed", "visited", "decided", "treated", "dropped"]))
        vis = dec = trt = rem = None
        reason = None
        if stage == "removed":
            rem = ref + draw(st.integers(0, 120))
            reason = draw(st.sampled_from(["forwarded", "declined", "other", None]))
        if stage in ("visited", "decided", "treated", "dropped"):
            vis = ref + draw(st.integers(0, 130))
        if stage in ("decided", "treated", "dropped"):
            dec = vis + draw(st.sampled_from([0, 0, 0, 5]))
        if stage == "treated":
            trt = dec + draw(st.integers(0, 130))
        if stage == "dropped":
            rem = dec + draw(st.integers(0, 100))
            reason = draw(st.sampled_from(["declined", "other", None]))

        def date(x):
            return None if x is None else day0 + np.timedelta64(x, "D")

        rows.append({"patient_id": f"P{i}", "clinic": draw(st.sampled_from(["A", "B"])),
                     "referral_date": date(ref), "first_visit_date": date(vis), "decision_date": date(dec),
                     "treatment_date": date(trt), "removal_date": date(rem), "removal_reason": reason,
                     "external": draw(st.booleans()), "patient_chosen_wait": draw(st.booleans())})
    frame = pd.DataFrame(rows)
    for c in kd.schema.DATE_COLUMNS:
        frame[c] = pd.to_datetime(frame[c])
    return frame


def brute_force(extract, periods):
    """The derivation rules of the schema, literally, one week at a time (test oracle)."""
    day = {c: extract[c].to_numpy(dtype="datetime64[D]") for c in kd.schema.DATE_COLUMNS}
    ref, vis, dec, trt, rem = (day[c] for c in kd.schema.DATE_COLUMNS)
    ext = extract["external"].to_numpy(dtype=bool)
    pcw = extract["patient_chosen_wait"].to_numpy(dtype=bool)
    fwd = np.array([r == "forwarded" for r in extract["removal_reason"]], dtype=bool)
    no_vis, has_dec, no_trt = np.isnat(vis), ~np.isnat(dec), np.isnat(trt)
    out = []
    for p in periods:
        start = np.datetime64(p.start_time.date(), "D")
        end = start + 6

        def inw(d, start=start, end=end):
            return (d >= start) & (d <= end)  # NaT compares False

        def after(d, end=end):
            return np.isnat(d) | (d > end)

        qn = (ref <= end) & after(vis) & after(rem)
        qt = (dec <= end) & after(trt) & after(rem)
        long_n = (end - ref).astype(int) > 90
        long_t = ~np.isnat(dec) & ((end - dec).astype("timedelta64[D]").astype(float) > 90)
        out.append({
            "referrals_in": inw(ref).sum(),
            "referrals_forwarded": (fwd & inw(rem) & no_vis).sum(),
            "removals_new_visit_other": (~fwd & inw(rem) & no_vis).sum(),
            "new_visits": (inw(vis) & ~(ext & ~has_dec)).sum(),
            "purchased_new_visits": (inw(vis) & ext & ~has_dec).sum(),
            "treatment_decisions": inw(dec).sum(),
            "operations_elective": (inw(trt) & ~ext & has_dec).sum(),
            "purchased_operations": (inw(trt) & ext & has_dec).sum(),
            "removals_treatment_other": (inw(rem) & has_dec & no_trt).sum(),
            "queue_new_visit": qn.sum(),
            "queue_treatment": qt.sum(),
            "waiting_over_90_new_visit": (qn & long_n & ~pcw).sum(),
            "waiting_over_90_treatment": (qt & long_t & ~pcw).sum(),
        })
    return pd.DataFrame(out, dtype=np.float64)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extracts())
def test_conservation_identities_and_rules_hold_for_random_extracts(extract):
    weekly = weekly_from_waiting_list(extract)
    for clinic, one in weekly.groupby("clinic"):
        one = one.reset_index(drop=True)
        assert (one["period"].diff().iloc[1:].map(lambda d: d.n) == 1).all()  # every week present
        for queue, (inflow, outflow) in kd.CONSERVATION_IDENTITIES.items():
            change = one[queue].diff().fillna(one[queue].iloc[0])  # the queue was 0 before the first week
            net = one[list(inflow)].sum(axis=1) - one[list(outflow)].sum(axis=1)
            np.testing.assert_array_equal(change.to_numpy(), net.to_numpy())
        assert (one["waiting_over_90_new_visit"] <= one["queue_new_visit"]).all()
        assert (one["waiting_over_90_treatment"] <= one["queue_treatment"]).all()
        assert (one[list(DERIVED_MEASURES)] >= 0).all().all()
        expected = brute_force(extract[extract["clinic"] == clinic], one["period"])
        pd.testing.assert_frame_equal(one[list(expected.columns)], expected)


def test_weekly_from_waiting_list_scales_linearly():
    """No loop over patients or weeks: 300 000 referrals over ten years take well under a second."""
    import time

    rng = np.random.default_rng(7)
    n = 300_000
    ref = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3650, n), unit="D")
    visit = ref + pd.to_timedelta(rng.integers(0, 200, n), unit="D")
    extract = pd.DataFrame({"clinic": rng.choice(["A", "B", "C"], n), "referral_date": ref,
                            "first_visit_date": visit.where(rng.random(n) < 0.9)})
    began = time.perf_counter()
    weekly = weekly_from_waiting_list(extract)
    assert time.perf_counter() - began < 3.0
    assert weekly["referrals_in"].sum() == n
    # the last week holds the latest visit, so only the never-seen patients still wait
    assert weekly.groupby("clinic")["queue_new_visit"].last().sum() == extract["first_visit_date"].isna().sum()


# ============================================================================ validate
def test_validate_finds_gap_duplicate_negative_and_unreconciled_queue():
    frame = pd.DataFrame({
        "clinic": ["A"] * 5,
        "period": weeks("2024-W01", "2024-W02", "2024-W02", "2024-W05", "2024-W06"),
        "referrals_in": [10.0, 10, 10, 10, 10],
        "treatment_decisions": [5.0, 5, 5, 5, 5],
        "operations_elective": [4.0, 4, -1, 4, 4],
        "purchased_operations": [0.0, 0, 0, 0, 0],
        "removals_treatment_other": [0.0, 0, 0, 0, 0],
        "queue_treatment": [100.0, 101, 101, 102, 110],  # W06: +8, but 5 - 4 = +1
    })
    findings = validate(frame, source="a.csv", today="2024-06-01")
    got = findings[["severity", "period", "column"]].values.tolist()
    assert ["error", "2024-W02", "period"] in got  # duplicate
    assert ["error", "2024-W02", "operations_elective"] in got  # negative
    assert ["warning", "2024-W03", "period"] in got  # W03, W04 missing
    assert ["warning", "2024-W06", "queue_treatment"] in got
    assert len(findings) == 4 and findings["severity"].tolist()[:2] == ["error", "error"]
    gap = findings[findings["column"] == "period"]["message"].tolist()
    assert "2 weeks missing (2024-W03..2024-W04)" in gap
    message = findings.loc[findings["column"] == "queue_treatment", "message"].iloc[0]
    assert "changed by +8" in message and "+1" in message
    with pytest.raises(DataError, match=r"^a\.csv: 2 errors: A 2024-W02"):
        raise_for_errors(findings, "a.csv")
    assert raise_for_errors(findings[findings["severity"] == "warning"]) is not None


def test_validate_future_weeks_non_integers_and_zero_runs():
    p = pd.period_range(weeks("2024-W10")[0], periods=12, freq="W-SUN")
    frame = pd.DataFrame({"clinic": "A", "period": p,
                          "new_visits": [50.0, 52, 0, 0, 0, 0, 51, 49, 50.5, 50, 50, 50],
                          "planned_new_visits": 50.0})
    findings = validate(frame, today="2024-05-01")  # W18 starts 29 April; W19 onwards is the future
    got = findings[["severity", "period", "column"]].values.tolist()
    assert ["error", "2024-W18", "new_visits"] in got  # 50.5
    assert ["error", "2024-W19", "period"] in got  # future
    assert ["warning", "2024-W12", "new_visits"] in got  # four zero weeks
    assert "4 weeks of zeros (2024-W12..2024-W15)" in findings.loc[
        findings["column"].eq("new_visits") & findings["severity"].eq("warning"), "message"].iloc[0]
    # a plan alone in the future is fine, and summer zeros are a closure, not a gap
    plan = frame.assign(new_visits=np.where(p.start_time > pd.Timestamp("2024-05-01"), np.nan, 50.0))
    assert validate(plan, today="2024-05-01").empty
    summer = pd.DataFrame({"clinic": "A", "period": pd.period_range(weeks("2024-W26")[0], periods=10, freq="W-SUN"),
                           "operations_elective": [20.0, 20, 0, 0, 0, 0, 20, 20, 20, 20]})
    assert validate(summer, today="2025-01-01").empty


def test_validate_reconciles_derived_data_and_rejects_non_frames():
    weekly = weekly_from_waiting_list(HAND_EXTRACT, start="2024-01-01", end="2024-02-04")
    assert validate(weekly, today="2024-02-04").empty
    with pytest.raises(ValueError, match="frame lacks"):
        validate(pd.DataFrame({"x": [1]}))


# ============================================================================ load_clinic_data
def test_load_clinic_data_merges_derived_and_weekly_measures(tmp_path):
    read_waiting_list(DATA / "waiting_list_sv.csv", today="2024-02-04").to_parquet(tmp_path / "a_wl.parquet")
    write(tmp_path / "a_activity.csv", "Klinik;Vecka;Återbesök;Nybesök\nAvd A;2024-W04;30;99\nAvd A;2024-W05;31;99\n"
          "Avd A;2024-W06;32;99\n")
    data = load_clinic_data({"weekly": "a_activity.csv", "waiting_list": "a_wl.parquet"}, tmp_path, clinic="A")
    weekly = data.weekly.set_index("period")
    assert set(weekly["clinic"]) == {"A"}  # the weekly file's single clinic is relabelled
    w04, w05, w06 = weeks("2024-W04", "2024-W05", "2024-W06")
    assert weekly.loc[w04, "return_visits"] == 30 and weekly.loc[w05, "return_visits"] == 31
    assert weekly.loc[w05, "new_visits"] == 0 and weekly.loc[w04, "new_visits"] == 1  # derived wins
    assert weekly.loc[w06, "new_visits"] == 99  # a week the extract does not cover
    assert weekly.loc[w05, "queue_new_visit"] == 2
    assert list(data.weekly.columns[:2]) == ["clinic", "period"]
    assert data.weekly["period"].tolist() == [w04, w05, w06]  # the weekly file sets the first week
    assert len(data.waiting_list) == 10
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.weekly = None


@pytest.mark.parametrize("spec,match", [
    ({"weekly": "../secret.csv"}, r"'\.\.' is not allowed"),
    ({"weekly": "sub/../../secret.csv"}, r"'\.\.' is not allowed"),
    ({"weekly": "/etc/passwd"}, "absolute paths are not allowed"),
    ({"weekly": "C:\\data\\x.csv"}, "absolute paths are not allowed"),
    ({"weekly": "..\\x.csv"}, r"'\.\.' is not allowed"),
    ({"weekly": "nothere.csv"}, r"nothere\.csv: file not found"),
    ({"wekly": "a.csv"}, r"unknown data key\(s\) \['wekly'\]"),
    ({}, "names no file"),
])
def test_load_clinic_data_rejects_bad_specs(tmp_path, spec, match):
    with pytest.raises(DataError, match=match):
        load_clinic_data(spec, tmp_path, clinic="A")


def test_load_clinic_data_filters_a_multi_clinic_file(tmp_path):
    write(tmp_path / "all.csv", "Klinik;Vecka;Nybesök\nA;2024-W05;1\nB;2024-W05;2\n")
    assert load_clinic_data({"weekly": "all.csv"}, tmp_path, clinic="B").weekly["new_visits"].tolist() == [2.0]
    with pytest.raises(DataError, match=r"no rows for clinic 'C'"):
        load_clinic_data({"weekly": "all.csv"}, tmp_path, clinic="C")


@pytest.mark.parametrize("dictionary", [False, True], ids=["plain", "few-valued-as-categorical"])
def test_parquet_extract_with_datetime_or_text_dates_reads_alike(tmp_path, monkeypatch, dictionary):
    if dictionary:  # small files too: text columns with few values come as categoricals
        monkeypatch.setattr(kd.files, "DICTIONARY_MIN_ROWS", 0)
    rng = np.random.default_rng(3)
    n = 400
    ref = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D")
    seen = rng.random(n) < 0.7
    visit = ref.where(seen, pd.NaT) + pd.to_timedelta(np.where(seen, rng.integers(0, 30, n), 0), unit="D")
    removed = ~seen & (rng.random(n) < 0.5)
    removal = (ref + pd.Timedelta(days=3)).where(removed, pd.NaT)
    typed = pd.DataFrame({
        "Löpnummer": [f" P{i:04d}" if i % 7 == 0 else f"P{i:04d}" for i in range(n)],
        "Klinik": rng.choice(["gyn", "gyn ", "GYN", "kir"], n),
        "Prioritet": rng.choice(["1", "Prio 2", "3", " p3", None], n),
        "Remissdatum": ref,
        "Besöksdatum": visit,
        "Avförd datum": removal,
        "Avförandeorsak": np.where(removed, rng.choice(["Avböjd", "Vidarebefordrad", "annan orsak"], n), None),
        "Köpt vård": rng.choice(["Ja", "Nej", "", None], n),
    })
    as_text = typed.assign(**{c: typed[c].dt.strftime("%Y-%m-%d").where(typed[c].notna(), None)
                              for c in ("Remissdatum", "Besöksdatum", "Avförd datum")})
    assert typed["Remissdatum"].dtype.kind == "M" and as_text["Remissdatum"].dtype.kind != "M"
    typed.to_parquet(tmp_path / "typed.parquet", index=False)
    as_text.to_parquet(tmp_path / "text.parquet", index=False)
    with pytest.warns(UserWarning):
        from_typed = read_waiting_list(tmp_path / "typed.parquet", today="2024-06-01")
    with pytest.warns(UserWarning):
        from_text = read_waiting_list(tmp_path / "text.parquet", today="2024-06-01")
    from_typed.attrs, from_text.attrs = {}, {}
    pd.testing.assert_frame_equal(from_typed, from_text, check_exact=True)
    assert from_typed["referral_date"].dtype == np.dtype("datetime64[ns]")
    assert from_typed["patient_id"].iloc[0] == "P0000"
    assert set(from_typed["clinic"]) == {"gyn", "GYN", "kir"}
    assert set(from_typed["priority"].dropna()) <= {"1", "2", "3"} and from_typed["priority"].isna().any()
    assert set(from_typed["removal_reason"].dropna()) == {"declined", "forwarded", "other"}
    # a bad cell reads as the same error either way
    for frame, name in ((typed, "typed"), (as_text, "text")):
        bad = frame.assign(Prioritet=frame["Prioritet"].where(frame.index != 5, "Akut"))
        bad.to_parquet(tmp_path / f"bad_{name}.parquet", index=False)
        with pytest.raises(DataError, match=r"column 'Prioritet', row 7: unknown priority code 'Akut'"):
            read_waiting_list(tmp_path / f"bad_{name}.parquet", today="2024-06-01")


# ============================================================================ issue 12: reading stays in its folder
SECRET = "root:x:0:0:root:/root:/bin/bash\nKPS_TOKEN=hunter2\n"


@pytest.fixture
def no_hang():
    """Fail instead of hanging if a test opens a named pipe after all."""
    import signal

    def stop(*_):
        raise TimeoutError("blocked: a named pipe was opened")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _data_dir(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    write(outside / "secret.csv", SECRET)
    write(outside / "ok_weekly.csv", "Vecka;Nybesök\n2024-W05;40\n")
    data = tmp_path / "data"
    data.mkdir()
    write(data / "a.csv", "Vecka;Nybesök\n2024-W05;40\n")
    return data, outside


@pytest.mark.parametrize("make, name", [
    (lambda d, o: (d / "link.csv").symlink_to(o / "secret.csv"), "link.csv"),
    (lambda d, o: (d / "link.csv").symlink_to(o / "ok_weekly.csv"), "link.csv"),  # even a good file
    (lambda d, o: (d / "sub").symlink_to(o, target_is_directory=True), "sub/secret.csv"),
    (lambda d, o: (d / "env.csv").symlink_to("/proc/self/environ"), "env.csv"),
    (lambda d, o: (d / "etc.csv").symlink_to("/etc/passwd"), "etc.csv"),
], ids=["file-link", "link-to-good-file", "linked-sub-folder", "environ", "passwd"])
def test_a_data_path_that_leads_out_of_the_data_folder_is_refused_unread(tmp_path, make, name):
    data, outside = _data_dir(tmp_path)
    make(data, outside)
    with pytest.raises(DataError) as info:
        load_clinic_data({"weekly": name}, data, clinic="a")
    assert str(info.value) == (f"{data / name}: data.weekly leads outside the data folder (through a symbolic "
                               "link); copy the file into the data folder")  # not where it leads, nor what


def test_links_that_stay_inside_the_data_folder_are_followed(tmp_path):
    data, _ = _data_dir(tmp_path)
    (data / "sub").mkdir()
    (data / "sub" / "b.csv").symlink_to(data / "a.csv")
    (data / "alias").symlink_to(data / "sub", target_is_directory=True)
    assert load_clinic_data({"weekly": "alias/b.csv"}, data, clinic="a").weekly["new_visits"].tolist() == [40.0]
    (data / "dangling.csv").symlink_to(data / "gone.csv")
    with pytest.raises(DataError, match=r"dangling\.csv: file not found \(named by the clinic parameter "
                                        r"data\.weekly; a symbolic link that leads nowhere\?\)"):
        load_clinic_data({"weekly": "dangling.csv"}, data, clinic="a")


def _streamed(monkeypatch, streamed: bool) -> None:
    """Read every file as a large one (in blocks, in parts) when ``streamed``."""
    if streamed:
        monkeypatch.setattr(kd.files, "ARROW_CSV_MIN_BYTES", 0)
        monkeypatch.setattr(kd.clinic, "STREAMED_EXTRACT_MIN_BYTES", 0)


@pytest.mark.parametrize("streamed", [False, True])
def test_a_named_pipe_or_a_device_is_never_opened(tmp_path, no_hang, monkeypatch, streamed):
    import os

    _streamed(monkeypatch, streamed)
    data, _ = _data_dir(tmp_path)
    os.mkfifo(data / "pipe.csv")
    expected = "is not a regular file (a named pipe, socket or device?); it was not opened"
    with pytest.raises(DataError) as info:
        load_clinic_data({"weekly": "pipe.csv"}, data, clinic="a")
    assert str(info.value) == f"{data / 'pipe.csv'}: {expected}"
    # a file the user names on the command line may lie anywhere, but must be a regular file too
    for reader in (read_weekly, read_waiting_list):
        with pytest.raises(DataError) as info:
            reader(data / "pipe.csv")
        assert str(info.value) == f"{data / 'pipe.csv'}: {expected}"
        with pytest.raises(DataError) as info:
            reader("/dev/zero")
        assert str(info.value) == f"/dev/zero: {expected}"
    with pytest.raises(DataError, match=r"sub: is a folder, not a file"):
        (data / "sub").mkdir()
        load_clinic_data({"weekly": "sub"}, data, clinic="a")


@pytest.mark.parametrize("streamed", [False, True])
def test_files_above_the_size_limit_are_refused_before_reading(tmp_path, monkeypatch, streamed):
    _streamed(monkeypatch, streamed)
    data, _ = _data_dir(tmp_path)
    write(data / "big.csv", "Vecka;Nybesök\n" + "2024-W05;40\n" * 200_000)  # 2.4 MB
    message = ("the file holds 2 MB, more than the limit of 1 MB (parameter max_file_megabytes); split the "
               "file or raise the limit")
    with pytest.raises(DataError) as info:
        read_weekly(data / "big.csv", max_bytes=1_000_000)
    assert str(info.value) == f"{data / 'big.csv'}: {message}"
    with pytest.raises(DataError, match="more than the limit of 1 MB"):
        load_clinic_data({"weekly": "big.csv"}, data, clinic="a", max_bytes=1_000_000)
    with pytest.raises(DataError, match="more than the limit of 1 MB"):
        read_waiting_list(data / "big.csv", max_bytes=1_000_000)
    with pytest.raises(DataError, match="more than the limit of 1 MB"):
        load_clinic_data({"waiting_list": "big.csv"}, data, clinic="a", max_bytes=1_000_000)
    assert kd.MAX_FILE_BYTES == 2_000_000_000


def test_a_file_that_is_not_a_table_is_not_quoted(tmp_path):
    path = write(tmp_path / "weekly.csv", SECRET)
    for reader in (read_weekly, read_waiting_list):
        with pytest.raises(DataError) as info:
            reader(path)
        message = str(info.value).replace(str(path), "")
        assert message.startswith(": not a recognised table: no cell in the first rows is a known column header")
        assert "root" not in message and "hunter2" not in message and "columns found" not in message
    # a table with one known header is a table: its header names may be shown, its cells not
    path = write(tmp_path / "t.csv", "Vecka;Anteckning\n2024-W05;tolvan 19121212-1212\n")
    with pytest.raises(DataError) as info:
        read_weekly(path)
    assert "columns found: 'Vecka', 'Anteckning'" in str(info.value) and "tolvan" not in str(info.value)


# ============================================================================ issue 12: cells are not quoted
@pytest.mark.parametrize("cell, column, words", [
    ("tolvan 19121212-1212", "Nybesök", "the cell is not a number"),
    ("ring 070-123 45 67", "Nybesök", "the cell is not a number"),
    ("a@b.se", "Nybesök", "the cell is not a number"),
    ("en mycket lång text i en cell som inte är ett tal", "Nybesök", "the cell is not a number"),
    ("12 st", "Nybesök", "'12 st' is not a number"),  # short and not personal: shown, it helps
    ("19121212-1212", "Vecka", "cannot read the cell as a week"),
])
def test_cells_that_may_be_personal_are_never_quoted(tmp_path, cell, column, words):
    rows = {"Vecka": ["2024-W05", "2024-W06"], "Nybesök": ["40", "41"]}
    rows[column][1] = cell
    path = write(tmp_path / "w.csv", "Vecka;Nybesök\n" + "".join(f"{a};{b}\n" for a, b in zip(*rows.values())))
    with pytest.raises(DataError) as info:
        read_weekly(path)
    assert str(info.value).startswith(f"{path}, column '{column}', row 3: {words}")
    if words.startswith(("the cell", "cannot read the cell")):
        assert cell not in str(info.value) and "1212" not in str(info.value)


def test_free_text_removal_reasons_are_never_echoed(tmp_path):
    path = write(tmp_path / "wl.csv", "Löpnummer;Remissdatum;Avförd datum;Avförandeorsak\n"
                 "A1;2024-01-02;2024-01-05;Avböjt\nA2;2024-01-02;2024-01-06;pat. Tolvan Tolvansson flyttat\n"
                 "A3;2024-01-03;2024-01-07;ringde 070-1234567\nA4;2024-01-03;2024-01-07;ringde 070-1234567\n")
    with pytest.warns(UserWarning) as caught:
        extract = read_waiting_list(path, today="2024-03-01")
    messages = [str(w.message) for w in caught]
    assert messages == [f"{path}: column 'Avförandeorsak': 3 row(s) with a removal reason not recognised "
                        "(2 different text(s), not shown) read as 'other' (first: row 3)"]
    assert extract["removal_reason"].tolist() == ["declined", "other", "other", "other"]


def test_no_message_of_an_extract_quotes_a_date_or_an_id(tmp_path):
    path = write(tmp_path / "wl.csv", WL_HEADER + "X1;A;2;2024-01-02;;;;;Nej\nX1;A;1;2024-01-02;;;;;Nej\n")
    with pytest.raises(DataError) as info:
        read_waiting_list(path, today="2024-03-01")
    assert str(info.value) == (f"{path}, column 'Patient-id', rows 2, 3: the same patient id occurs more than "
                               "once for one clinic and referral date")


# ============================================================================ issue 12: plausibility
def test_dates_beyond_the_nanosecond_range_are_refused_not_wrapped(tmp_path):
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    for day, words in ((dt.datetime(1, 1, 1), "a date before 1990-01-01"),
                       (dt.datetime(9999, 12, 31), "a date more than 7 days after 2024-03-01")):
        table = pa.table({"Remissdatum": pa.array([dt.datetime(2024, 1, 2), day], type=pa.timestamp("us"))})
        pq.write_table(table, tmp_path / "wl.parquet")
        with pytest.raises(DataError) as info:
            read_waiting_list(tmp_path / "wl.parquet", today="2024-03-01")
        assert str(info.value).startswith(f"{tmp_path / 'wl.parquet'}, column 'Remissdatum', row 3: {words}")
        # even with no window at all, nothing wraps round to another century
        with pytest.raises(DataError, match="a date outside the years 1678-2261"):
            kd.waiting_list._parse_dates(pd.Series(pd.array([pd.Timestamp(2024, 1, 2), pd.Timestamp(day)],
                                               dtype="datetime64[us]")), path="x", column="c", rows=np.array([2, 3]))


def test_the_plausible_window_is_a_parameter(tmp_path):
    path = write(tmp_path / "wl.csv", "Remissdatum\n1995-06-01\n")
    assert len(read_waiting_list(path, today="2024-03-01")) == 1
    with pytest.raises(DataError, match=r"row 2: a date before 2000-01-01"):
        read_waiting_list(path, today="2024-03-01", plausible_from="2000-01-01")
    weekly = write(tmp_path / "w.csv", "Vecka;Nybesök\n1995-W05;40\n1995-W06;2000\n")
    assert len(read_weekly(weekly)) == 2
    with pytest.raises(DataError, match=r"column 'Vecka', row 2: week 1995-W05 ends before 2000-01-01"):
        read_weekly(weekly, plausible_from="2000-01-01")
    with pytest.raises(DataError, match=r"column 'Nybesök', row 3: 2000 is more than the plausible maximum of "
                                        r"1000 per period"):
        read_weekly(weekly, max_count_per_period=1000)
    with pytest.raises(DataError, match=r"row 3: 2000 is more than the plausible maximum of 1000 per period"):
        load_clinic_data({"weekly": "w.csv"}, tmp_path, clinic="w", max_count_per_period=1000)


def test_validate_reports_implausible_frames_and_blank_columns():
    frame = pd.DataFrame({"clinic": "A", "period": pd.PeriodIndex(weeks("1989-W51", "1989-W52", "1990-W01")),
                          "new_visits": [10.0, 2e12, 12.0], "no_shows": np.nan})
    findings = validate(frame, today="2024-06-01")
    errors = findings[findings["severity"] == "error"][["period", "column", "message"]].values.tolist()
    assert sorted(errors, key=str) == sorted([
        [None, "no_shows", "the column has no value in any row (every cell is blank): fill it in or delete the "
                           "column"],
        ["1989-W52", "new_visits", "2e+12 is more than the plausible maximum of 1e+06 per week (parameter "
                                   "max_count_per_period)"],
        ["1989-W51", "period", "week ends before 1990-01-01 (the earliest plausible date, parameter "
                               "plausible_from)"],
        ["1989-W52", "period", "week ends before 1990-01-01 (the earliest plausible date, parameter "
                               "plausible_from)"],
    ], key=str)
    quiet = validate(frame.assign(no_shows=1.0, new_visits=10.0), today="2024-06-01", plausible_from="1980-01-01")
    assert not (quiet["severity"] == "error").any()


# ============================================================================ issue 12: files people have
def test_ambiguous_period_numbers_are_refused_but_iso_months_are_months(tmp_path):
    months = write(tmp_path / "m.csv", "Period;Nybesök\n" + "".join(f"2024-{m:02d};{m}\n" for m in range(1, 13)))
    assert read_weekly(months)["period"].dtype.freq.freqstr.startswith("M")
    weeks_ = write(tmp_path / "w.csv", "Period;Nybesök\n" + "".join(f"2024-{w};{w}\n" for w in range(1, 20)))
    assert read_weekly(weeks_)["period"].dtype.freq.freqstr.startswith("W")  # 13..19: weeks, no doubt
    for label in ("2024-5", "202405", "2024.5"):
        path = write(tmp_path / "a.csv", f"Period;Nybesök\n2024-04;1\n{label};2\n")
        with pytest.raises(DataError) as info:
            read_weekly(path)
        assert str(info.value).startswith(f"{path}, column 'Period', row 3: '{label}' could be a week or a month")
    under_week = write(tmp_path / "v.csv", "Vecka;Nybesök\n2024-5;1\n")  # the header says weeks
    assert read_weekly(under_week)["period"].tolist() == weeks("2024-W05")


def test_the_sheet_key_of_the_data_entry_selects_the_sheet(tmp_path):
    bad = DATA / "bad" / "weekly_xlsx_data_on_second_sheet.xlsx"
    (tmp_path / "uro.xlsx").write_bytes(bad.read_bytes())
    data = load_clinic_data({"weekly": "uro.xlsx", "sheet": "Data"}, tmp_path, clinic="uro")
    assert data.weekly["new_visits"].tolist() == [35.0, 38.0, 36.0]
    with pytest.raises(DataError, match=r"uro\.xlsx: no sheet 'Blad1'; the workbook has sheet\(s\) 'Info', 'Data'"):
        load_clinic_data({"weekly": "uro.xlsx", "sheet": "Blad1"}, tmp_path, clinic="uro")
    with pytest.raises(DataError, match=r"the workbook has sheets 'Info', 'Data': name the one with the data in "
                                        r"the clinic parameter data\.sheet"):
        load_clinic_data({"weekly": "uro.xlsx"}, tmp_path, clinic="uro")


# ============================================================================ issue 12: large files
def _outcome(reader, path):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = reader(path)
        except DataError as exc:
            return ("error", str(exc))
    frame.attrs = {k: v for k, v in frame.attrs.items() if k != "source"}
    return ("frame", frame, sorted(str(w.message) for w in caught))


def test_the_fast_paths_for_large_files_read_exactly_as_the_general_reader(monkeypatch):
    """Large CSV files are read by Arrow, plain whole numbers in Arrow, and period labels
    once per distinct label (the last two for every file); forced onto the general path
    (pandas' reader, every number and label parsed cell by cell), every file reads (or
    fails) as with the fast paths."""
    files = [DATA / "weekly_en.csv", DATA / "weekly_sv_excel.csv"] + sorted(
        p for p in (DATA / "bad").iterdir() if p.name.startswith("weekly_") and p.suffix in (".csv", ".txt"))
    cases = [(read_weekly, f) for f in files] + [(read_waiting_list, DATA / "waiting_list_sv.csv")]
    monkeypatch.setattr(kd.files, "ARROW_CSV_MIN_BYTES", 10**15)
    monkeypatch.setattr(kd.cells, "PLAIN_MIN_ROWS", 10**15)
    general = [_outcome(reader, f) for reader, f in cases]
    monkeypatch.setattr(kd.files, "ARROW_CSV_MIN_BYTES", 0)
    monkeypatch.setattr(kd.cells, "PLAIN_MIN_ROWS", 0)
    fast = [_outcome(reader, f) for reader, f in cases]
    for (_reader, f), a, b in zip(cases, general, fast):
        assert a[0] == b[0], (f.name, a, b)
        if a[0] == "error":
            assert a[1] == b[1], f.name
        else:
            pd.testing.assert_frame_equal(a[1], b[1], check_dtype=True)
            assert a[2] == b[2], f.name


def test_a_large_weekly_csv_is_read_in_bounded_time(tmp_path):
    """Six hundred thousand rows (18 MB, read by Arrow): seconds, not minutes (the 200 MB figures
    are in the commit that brought the fast paths)."""
    import time

    weeks_ = [f"{y}-W{w:02d}" for y in range(2019, 2025) for w in range(1, 53)]
    rng = np.random.default_rng(0)
    lines = ["Klinik;Grupp;Vecka;Remisser in;Nybesök;Väntande nybesök"]
    for g in range(2000):
        v = rng.integers(0, 500, size=(len(weeks_), 3))
        lines += [f"k{g % 40};g{g};{w};{a};{b};{c}" for w, (a, b, c) in zip(weeks_, v)]
    path = write(tmp_path / "big.csv", "\n".join(lines) + "\n")
    assert path.stat().st_size >= kd.files.ARROW_CSV_MIN_BYTES
    start = time.perf_counter()
    frame = read_weekly(path)
    validate(frame, today="2025-01-01")
    assert time.perf_counter() - start < 30
    assert len(frame) == 2000 * len(weeks_) and frame["new_visits"].notna().all()
    lines[-1] = lines[-1].rsplit(";", 1)[0] + ";tolvan 19121212-1212"
    bad = write(tmp_path / "bad.csv", "\n".join(lines) + "\n")
    with pytest.raises(DataError) as info:
        read_weekly(bad)
    assert str(info.value) == f"{bad}, column 'Väntande nybesök', row {len(lines)}: the cell is not a number"


def test_a_large_csv_read_in_blocks_reads_exactly_as_read_whole(monkeypatch):
    """Issue 12: a large weekly CSV is streamed in blocks (bounded memory); forced onto small
    files in blocks of two rows, every good and bad file reads (or fails) as read whole:
    the same frame, warnings and findings, the same error message."""
    files = [DATA / "weekly_en.csv", DATA / "weekly_sv_excel.csv"] + sorted(
        p for p in (DATA / "bad").iterdir() if p.name.startswith("weekly_") and p.suffix in (".csv", ".txt"))
    whole = [_outcome(read_weekly, f) for f in files]
    monkeypatch.setattr(kd.files, "ARROW_CSV_MIN_BYTES", 0)
    monkeypatch.setattr(kd.weekly, "BLOCK_ROWS", 2)
    blocks = []
    real = kd.weekly._read_block
    monkeypatch.setattr(kd.weekly, "_read_block", lambda *a: blocks.append(1) or real(*a))
    for f, a in zip(files, whole):
        b = _outcome(read_weekly, f)
        assert a[0] == b[0], (f.name, a, b)
        if a[0] == "error":
            assert a[1] == b[1], f.name
        else:
            pd.testing.assert_frame_equal(a[1], b[1], check_dtype=True)
            assert a[1].attrs == b[1].attrs and a[2] == b[2], f.name
    assert len(blocks) > len(files)  # files streamed in several blocks indeed


def test_a_large_extract_is_read_in_parts_for_a_run_with_the_same_data_and_snapshot(tmp_path, monkeypatch, demo_dir):
    """Issue 12: ``kps run`` reads a large extract in parts, keeping only the patients still
    waiting: the clinic's weekly frame and its waiting-time snapshot at the end of its data
    are those of the whole read (demo clinics in parts of 5,000 rows; a file of one clinic
    under another label; a file of several clinics)."""
    from functools import partial

    from kps_analysis.data import waiting_snapshot

    rows = (DATA / "waiting_list_sv.csv").read_text(encoding="utf-8").splitlines()
    write(tmp_path / "other_label.csv", "\n".join(rows) + "\n")
    write(tmp_path / "two.csv", "\n".join(rows + [r.replace(";A;", ";B;", 1) for r in rows[1:]]) + "\n")
    cases = [(demo_dir, {"weekly": f"{c}_activity.csv", "waiting_list": f"{c}_waiting_list.parquet"}, c)
             for c in ("ort_nord", "ogon", "gyn", "uro")]
    cases += [(tmp_path, {"waiting_list": "other_label.csv"}, "X"), (tmp_path, {"waiting_list": "two.csv"}, "B")]
    whole = [load_clinic_data(spec, folder, clinic=c) for folder, spec, c in cases]
    monkeypatch.setattr(kd.clinic, "STREAMED_EXTRACT_MIN_BYTES", 0)
    monkeypatch.setattr(kd.clinic, "read_clinic_extract", partial(kd.extract_parts.read_clinic_extract,
                                                                  chunk_rows=5000))
    for (folder, spec, c), a in zip(cases, whole):
        b = load_clinic_data(spec, folder, clinic=c)
        pd.testing.assert_frame_equal(a.weekly, b.weekly)
        assert a.weekly.attrs.get("findings") == b.weekly.attrs.get("findings")
        at = a.weekly["period"].max().end_time.normalize()
        pd.testing.assert_frame_equal(waiting_snapshot(a.waiting_list, at), waiting_snapshot(b.waiting_list, at))
        assert 0 < len(b.waiting_list) <= len(a.waiting_list) and set(b.waiting_list["clinic"]) == {c}
        assert list(b.waiting_list.columns) == list(a.waiting_list.columns)
    with pytest.raises(DataError, match=r"two\.csv: no rows for clinic 'C'; the file holds 'A', 'B'"):
        load_clinic_data({"waiting_list": "two.csv"}, tmp_path, clinic="C")
