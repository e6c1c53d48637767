import pandas as pd
import pytest

from kps_analysis import report


def test_labels_swedish_default_and_english():
    assert report.label("queue_new_visit") == "Väntande nybesök"
    assert report.label("queue_new_visit", "en") == "Waiting for first visit"
    assert report.label("not_a_key") == "not_a_key"
    with pytest.raises(ValueError, match="language"):
        report.label("clinic", "de")


def test_suppress_small_hides_1_to_4_but_not_zero_and_keeps_input():
    t = pd.DataFrame({"n": [0, 1, 4, 5, 1234]})
    out = report.suppress_small(t, ["n"], limit=5)
    assert out["n"].tolist() == ["0", "<5", "<5", "5", "1\u00a0234"]
    assert t["n"].tolist() == [0, 1, 4, 5, 1234]  # input untouched
    assert report.suppress_small(t, ["n"], limit=0)["n"].tolist() == [0, 1, 4, 5, 1234]


def test_format_count_swedish_and_english():
    assert report.format_count(1234567.891, decimals=2) == "1\u00a0234\u00a0567,89"
    assert report.format_count(1234567.891, language="en", decimals=2) == "1,234,567.89"


def test_atomic_write_keeps_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "tables" / "summary.csv"
    report.write_table(pd.DataFrame({"a": [1]}), path)
    before = path.read_text()
    with pytest.raises(RuntimeError):
        with report.atomic_path(path) as tmp:
            tmp.write_text("half a fi")
            raise RuntimeError("killed")
    assert path.read_text() == before
    assert [p.name for p in path.parent.iterdir()] == ["summary.csv"]  # no temp file left


def test_write_table_writes_iso_week_labels(tmp_path):
    periods = pd.period_range("2020-12-21", periods=3, freq="W-SUN")  # 2020 has week 53
    path = report.write_table(pd.DataFrame({"period": periods, "x": [1, 2, 3]}), tmp_path / "t.csv")
    assert pd.read_csv(path)["period"].tolist() == ["2020-W52", "2020-W53", "2021-W01"]


def test_excel_has_one_sheet_per_table(tmp_path):
    import openpyxl

    path = report.write_excel({"plan": pd.DataFrame({"a": [1, 2]}), "gap": pd.DataFrame({"b": [3]})},
                              tmp_path / "plan.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["plan", "gap"]
    assert wb["plan"]["A3"].value == 2


def test_table_of_contents_lists_h2_and_h3():
    page = '<body><main><h2 id="l">Läget<a class="anchor-link" href="#l">¶</a></h2><h3 id="k">Kö</h3></main></body>'
    out = report.add_table_of_contents(page)
    assert '<a href="#l">Läget</a>' in out and '<a href="#k">Kö</a>' in out
    assert report.add_table_of_contents("<main>no headings</main>") == "<main>no headings</main>"


def test_region_table_ranks_by_pressure_and_signs_the_weekly_change():
    import pandas as pd

    from kps_analysis import report

    s = pd.DataFrame({"clinic": ["a", "b", "c"], "waiting_list_pressure": [0.8, 2.4, 1.1],
                      "queue_production_ratio_weeks": [3.0, 9.0, 4.0], "queue_change_1w": [-7.0, 12.0, 0.0]})
    t = report.region_table(s, language="sv")
    assert list(t.index) == ["b", "c", "a"]
    assert t[report.label("queue_change_1w", "sv")].tolist() == ["+12", "0", "−7"]
