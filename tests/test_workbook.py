"""plan.xlsx and the tables' .xlsx as analysts open them (kps_analysis.workbook).

The workbooks are read back with openpyxl and checked cell by cell: Swedish headers and
values, number formats, frozen panes, Excel tables with filters, real dates and ISO week
numbers; every formula is evaluated here by a small independent evaluator (IF, OR,
SUMIFS, COUNTIFS and arithmetic, Excel's semantics for empty cells) and compared with
the numbers the model computed itself (plan_vs_outcome, plan_history), so a formula that
reads the wrong column or row cannot pass.
"""

from __future__ import annotations

import csv
import datetime as dt
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest

from kps_analysis import workbook
from kps_analysis.plan import export_plan_xlsx, plan_vs_outcome
from kps_analysis.report import write_table
from kps_analysis.report.outputs import plan_export_table

# ----------------------------------------------------------------------------- a formula evaluator
_TOKEN = re.compile(r'\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>"[^"]*")|(?P<range>\$?[A-Z]+\$?\d+:\$?[A-Z]+\$?\d+)'
                    r'|(?P<cell>\$?[A-Z]+\$?\d+)|(?P<func>[A-Z]+)\(|(?P<op><>|<=|>=|[-+*/&=<>(),]))')


def _tokens(text):
    pos, out = 0, []
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        assert m and m.end() > pos, f"cannot read formula at {text[pos:]!r}"
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Eval:
    """Evaluate one formula on a worksheet (values of other formula cells evaluated on demand)."""

    def __init__(self, ws):
        self.ws = ws
        self.cache = {}

    def value(self, ref):
        ref = ref.replace("$", "")
        if ref not in self.cache:
            v = self.ws[ref].value
            if isinstance(v, str) and v.startswith("="):
                self.cache[ref] = None  # guards against cycles
                v = self.formula(v)
            self.cache[ref] = v
        return self.cache[ref]

    def formula(self, text):
        saved = getattr(self, "toks", None), getattr(self, "i", 0)  # a cell's formula may need another's
        self.toks, self.i = _tokens(text[1:]), 0
        result = self.compare()
        assert self.i == len(self.toks), text
        self.toks, self.i = saved
        return result

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, expected=None):
        tok = self.toks[self.i]
        assert expected is None or tok[1] == expected, (tok, expected)
        self.i += 1
        return tok

    def compare(self):
        left = self.additive()
        while self.peek()[1] in ("=", "<>", "<", ">", "<=", ">="):
            op = self.take()[1]
            right = self.additive()
            # Excel: an empty cell is "" against text and 0 against a number; a number is
            # never equal to text (0="" is FALSE) and sorts before it
            a = ("" if isinstance(right, str) else 0) if left is None else left
            b = ("" if isinstance(a, str) else 0) if right is None else right
            if isinstance(a, str) != isinstance(b, str):
                a, b = (0, 1) if isinstance(b, str) else (1, 0)
            left = {"=": a == b, "<>": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
        return left

    def additive(self):
        left = self.term()
        while self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            right = self.term()
            left = (left or 0) + (right or 0) if op == "+" else (left or 0) - (right or 0)
        return left

    def term(self):
        left = self.unary()
        while self.peek()[1] in ("*", "/"):
            op = self.take()[1]
            right = self.unary()
            left = (left or 0) * (right or 0) if op == "*" else (left or 0) / right
        return left

    def unary(self):
        if self.peek()[1] == "-":
            self.take()
            return -(self.unary() or 0)
        return self.atom()

    def atom(self):
        kind, text = self.take()
        if kind == "num":
            return float(text)
        if kind == "str":
            return text[1:-1]
        if kind == "cell":
            return self.value(text)
        if kind == "range":
            a, b = text.replace("$", "").split(":")
            ca, ra = re.match(r"([A-Z]+)(\d+)", a).groups()
            cb, rb = re.match(r"([A-Z]+)(\d+)", b).groups()
            assert ca == cb, "ranges here are one column"
            return [self.value(f"{ca}{r}") for r in range(int(ra), int(rb) + 1)]
        if text == "(":
            v = self.compare()
            self.take(")")
            return v
        if kind == "func":
            return self.call(text)
        raise AssertionError(f"unexpected {text!r}")

    def args(self, lazy=False):
        out = []
        while True:
            if lazy:
                start = self.i
                depth = 0
                while not (depth == 0 and self.peek()[1] in (",", ")")):
                    t = self.take()
                    depth += (t[0] == "func" or t[1] == "(") - (t[1] == ")")
                out.append((start, self.i))
            else:
                out.append(self.compare())
            if self.take()[1] == ")":
                return out

    def call(self, name):
        if name == "IF":
            spans = self.args(lazy=True)
            end = self.i
            self.i = spans[0][0]
            cond = self.compare()
            branch = spans[1] if cond else spans[2]
            self.i = branch[0]
            v = self.compare()
            self.i = end
            return v
        args = self.args()
        if name == "OR":
            return any(args)
        if name in ("SUMIFS", "COUNTIFS"):
            total, pairs = (args[0], args[1:]) if name == "SUMIFS" else (None, args)
            n = len(pairs[0])
            keep = [all(_meets(rng[k], crit) for rng, crit in zip(pairs[::2], pairs[1::2])) for k in range(n)]
            if name == "COUNTIFS":
                return float(sum(keep))
            return float(sum(v for v, k in zip(total, keep) if k and isinstance(v, (int, float))))
        raise AssertionError(f"function {name} not known to the test")


def _meets(value, criterion):
    if criterion == "<>":
        return value not in (None, "")
    if criterion == "":
        return value in (None, "")
    return value == criterion or (isinstance(value, (int, float)) and isinstance(criterion, (int, float))
                                  and float(value) == float(criterion))


def _rows(ws, header_row=1):
    head = [c.value for c in ws[header_row]]
    return head, {h: i for i, h in enumerate(head)}


def _column(ws, head, name, first, last, ev=None):
    j = head.index(name) + 1
    out = []
    for r in range(first, last + 1):
        v = ws.cell(row=r, column=j).value
        if isinstance(v, str) and v.startswith("=") and ev is not None:
            v = ev.value(ws.cell(row=r, column=j).coordinate)
        out.append(np.nan if v in (None, "") else v)
    return out


# ----------------------------------------------------------------------------- inputs
def _plan(stages=("new_visit", "treatment"), weeks=4, start="2026-12-21"):
    """A hand-made production plan (two stages across a year end, flow identity holding)."""
    rows = []
    periods = pd.period_range(start, periods=weeks, freq="W-SUN")
    for s, stage in enumerate(stages):
        queue = 100.0 + 50 * s
        for k, p in enumerate(periods):
            inflow, own, buy = 40.0 + k, 38.0, float(3 * (k % 2) + s)
            end = queue + inflow - own - buy
            rows.append({"clinic": "uro", "stage": stage, "period_ahead": k + 1, "period": p,
                         "month": (p.start_time + pd.Timedelta(days=3)).to_period("M"), "fixed": k < 2,
                         "origin": "previous" if k == 0 else "model", "inflow": inflow, "capacity": 38.4,
                         "own_production": own, "purchase": buy, "order_by_period": k + 1 - 2,
                         "within_lead_time": k < 2, "moved_in": 0.0, "moved_out": 0.0, "queue_start": queue,
                         "queue_end": end, "breaches_if_nothing_bought": 7.0 + k, "breaches_before_purchase": 5.0,
                         "breaches_after_purchase": 2.0, "share_within_guarantee": 1 - 2.0 / end, "gap": buy,
                         "unused_capacity": 0.4, "agreement": 37.0 + s, "cost_external_sek": 2300.0 * buy,
                         "cost_internal_sek": 2000.0 * buy})
            queue = end
    return pd.DataFrame(rows)


def _follow_up():
    """plan_vs_outcome over a year end, with a week the plan is missing and one without last year."""
    periods = pd.period_range("2025-12-01", periods=12, freq="W-SUN")
    plan = pd.DataFrame({"clinic": "uro", "period": periods, "planned_new_visits": 40.0,
                         "planned_operations": 20.0})
    plan.loc[6, "planned_new_visits"] = np.nan  # 2026-W03: no plan for first visits
    actual = pd.DataFrame({"clinic": "uro", "period": periods,
                           "new_visits": [41.0, 39, 40, 30, 35, 44, 38, 42, 37, 36, 45, 40],
                           "operations_elective": [20.0, 21, 19, 10, 22, 18, 25, 19, 20, 21, 17, 23]})
    ly_periods = pd.period_range("2024-12-02", periods=58, freq="W-SUN")
    last_year = pd.DataFrame({"clinic": "uro", "period": ly_periods, "new_visits": 39.0,
                              "operations_elective": 19.0})
    last_year = last_year[last_year["period"] != pd.Period("2025-01-13", "W-SUN")]  # one week missing
    return plan_vs_outcome(plan, actual, last_year=last_year, measures={"new_visits": "planned_new_visits",
                                                                       "operations_elective": "planned_operations"})


@pytest.fixture(scope="module")
def plan_book(tmp_path_factory):
    plan = plan_export_table(_plan())
    follow = _follow_up()
    path = export_plan_xlsx(plan, tmp_path_factory.mktemp("wb") / "plan.xlsx",
                            tables={"Uppföljning": follow})
    return plan, follow, path


# ----------------------------------------------------------------------------- plan.xlsx
def test_plan_sheet_headers_values_formats_and_dates(plan_book):
    plan, _, path = plan_book
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Produktionsplan", "Uppföljning"]
    ws = wb["Produktionsplan"]
    head, col = _rows(ws)
    assert head[:8] == ["Klinik", "Steg", "Veckor framåt", "År", "Vecka", "Veckan börjar", "Månad", "Fastställd"]
    # no identifier or English code left in headers or values
    for ident in ("stage", "own_production", "new_visit", "treatment", "previous", "True", "False", "guarantee"):
        assert all(ident != str(c.value) for row in ws.iter_rows() for c in row), ident
    r2 = list(ws[2])
    assert [r2[col[h]].value for h in ("Steg", "Ursprung", "Fastställd", "Inom ledtiden")] == [
        "Nybesök", "Föregående plan", "Ja", "Ja"]
    # 2026-12-21 is ISO 2026-W52; the fourth week is 2027-W02 (2026 has 53 weeks)
    years = [ws.cell(row=r, column=col["År"] + 1).value for r in range(2, 6)]
    weeks = [ws.cell(row=r, column=col["Vecka"] + 1).value for r in range(2, 6)]
    assert years == [2026, 2026, 2027, 2027] and weeks == [52, 53, 1, 2]
    monday = ws.cell(row=2, column=col["Veckan börjar"] + 1)
    assert monday.value == dt.datetime(2026, 12, 21) and monday.number_format == "yyyy-mm-dd"
    month = ws.cell(row=4, column=col["Månad"] + 1)
    assert month.value == dt.datetime(2027, 1, 1) and month.number_format == "yyyy-mm"
    # the order-by week: period_ahead 1 ordered by -1 -> two weeks earlier, 2026-W50
    assert ws.cell(row=2, column=col["Beställ senast, vecka"] + 1).value == 50
    assert ws.cell(row=2, column=col["Beställ senast (veckan börjar)"] + 1).value == dt.datetime(2026, 12, 7)
    # number formats: whole patients with a thousands separator, kr, per cent as a fraction
    assert ws.cell(row=2, column=col["Planerad egen produktion"] + 1).number_format == "#,##0"
    assert ws.cell(row=3, column=col["Kostnad köpt (kr)"] + 1).number_format == '#,##0 "kr"'
    share = ws.cell(row=2, column=col["Andel inom vårdgarantin"] + 1)
    assert share.number_format == "0.0%" and 0 < share.value < 1
    assert ws.cell(row=2, column=col["Egen kapacitet"] + 1).number_format == "#,##0.0"
    # the same numbers as the plan, row by row
    assert _column(ws, head, "Kö vid veckans slut (utan egna val)", 2, 9) == plan["queue_end"].tolist()
    assert _column(ws, head, "Kostnad köpt (kr)", 2, 9) == plan["cost_external_sek"].tolist()


def test_plan_sheet_is_a_table_with_filters_frozen_header_and_widths(plan_book):
    _, _, path = plan_book
    ws = openpyxl.load_workbook(path)["Produktionsplan"]
    (name, ref), = ws.tables.items()
    table = ws.tables[name]
    last = openpyxl.utils.get_column_letter(ws.max_column)
    assert ref == f"A1:{last}9" and table.autoFilter is not None and table.autoFilter.ref == ref
    assert ws.freeze_panes == "G2"  # header row and the key columns up to the week's Monday
    assert ws.column_dimensions["A"].width >= 6 and ws.column_dimensions["F"].width >= 10
    assert openpyxl.load_workbook(path).calculation.fullCalcOnLoad
    # printed: landscape, header repeated; the 34 columns run over pages with the key columns repeated
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$1:$1"
    assert ws.print_title_cols == "$A:$F" and not ws.sheet_properties.pageSetUpPr.fitToPage


def test_plan_sheet_accumulations_are_formulas_per_stage(plan_book):
    plan, _, path = plan_book
    ws = openpyxl.load_workbook(path)["Produktionsplan"]
    head, col = _rows(ws)
    letter = {h: openpyxl.utils.get_column_letter(i + 1) for i, h in enumerate(head)}
    cell = ws.cell(row=7, column=col["Ackumulerat köp"] + 1).value
    k, a, b = letter["Köp"], letter["Klinik"], letter["Steg"]
    assert cell == f"=SUMIFS(${k}$2:{k}7,${a}$2:{a}7,{a}7,${b}$2:{b}7,{b}7)"
    ev = _Eval(ws)
    acc = _column(ws, head, "Ackumulerat köp", 2, 9, ev)
    by_hand = plan.groupby("stage", sort=False)["purchase"].cumsum().tolist()
    assert acc == by_hand and acc[5] == plan["purchase"].iloc[4:6].sum()  # restarts with the second stage
    cost = _column(ws, head, "Ackumulerad kostnad köpt (kr)", 2, 9, ev)
    assert cost == plan.groupby("stage", sort=False)["cost_external_sek"].cumsum().tolist()
    diff = _column(ws, head, "Ackumulerad plan − vårdöverenskommelse", 2, 9, ev)
    expected = (plan.groupby("stage")["own_production"].cumsum() - plan.groupby("stage")["agreement"].cumsum())
    assert diff == expected.tolist()


def test_follow_up_is_the_current_year_wide_and_its_formulas_equal_the_model(plan_book):
    _, follow, path = plan_book
    ws = openpyxl.load_workbook(path)["Uppföljning"]
    assert ws["E1"].value == "Nybesök" and "E1:N1" in [str(r) for r in ws.merged_cells.ranges]
    head, col = _rows(ws, header_row=2)
    assert head[:4] == ["Klinik", "År", "Vecka", "Veckan börjar"]
    assert ws.freeze_panes == "E3"
    (name, ref), = ws.tables.items()
    assert ref.startswith("A2:") and ws.tables[name].autoFilter.ref == ref
    current = follow[follow["year"] == 2026]
    n = current["period"].nunique()
    assert n == 8 and ws.max_row == 2 + n  # only 2026's weeks (1-8): one row per week
    assert _column(ws, head, "Vecka", 3, 2 + n) == sorted(current["week"].unique().tolist())
    ev = _Eval(ws)
    for measure, label in (("new_visits", "Nybesök"), ("operations_elective", "Elektiva operationer")):
        m = current[current["measure"] == measure].set_index("week").reindex(range(1, n + 1))
        got = {w: _column(ws, head, f"{label}: {w}", 3, 2 + n, ev) for w in (
            "plan", "utfall", "avvikelse", "ack. plan", "ack. utfall", "ack. avvikelse", "ack. avvikelse %",
            "i fjol", "ack. i fjol", "status")}
        np.testing.assert_allclose(np.array(got["utfall"], float), m["actual"].to_numpy(float))
        np.testing.assert_allclose(np.array(got["avvikelse"], float), m["deviation"].to_numpy(float))
        for sheet_col, model_col in (("ack. plan", "cum_plan"), ("ack. utfall", "cum_actual"),
                                     ("ack. avvikelse", "cum_deviation"), ("ack. i fjol", "cum_last_year")):
            np.testing.assert_allclose(np.array(got[sheet_col], float), m[model_col].to_numpy(float),
                                       err_msg=f"{label}: {sheet_col}")
        # per cent as a fraction with a % format: the model's 100-based figure / 100
        np.testing.assert_allclose(np.array(got["ack. avvikelse %"], float), m["cum_deviation_pct"] / 100)
        pct = ws.cell(row=3, column=col[f"{label}: ack. avvikelse %"] + 1)
        assert pct.number_format == "0.0%"
        words = {"green": "Grön", "yellow": "Gul", "red": "Röd"}
        assert got["status"] == [words.get(s, np.nan) if isinstance(s, str) else np.nan for s in m["status"]]
    # the week without a plan for first visits: blank plan, blank deviation, accumulation carried
    w3 = 3 + 2  # row of 2026-W03
    assert ws.cell(row=w3, column=col["Nybesök: plan"] + 1).value is None
    assert ev.value(ws.cell(row=w3, column=col["Nybesök: avvikelse"] + 1).coordinate) == ""
    # a hand check of one accumulation: 2026 weeks 1-2 and 4 of planned first visits (week 3 has no plan)
    first_visits = current[(current["measure"] == "new_visits") & current["week"].isin([1, 2, 4])]
    assert ev.value(ws.cell(row=3 + 3, column=col["Nybesök: ack. plan"] + 1).coordinate) == 120.0
    assert first_visits["plan"].sum() == 120.0


def test_history_sheet_formulas_equal_the_model(tmp_path):
    from kps_analysis.planning import plan_history

    weeks = pd.period_range("2026-11-02", periods=6, freq="W-SUN")
    weekly = pd.DataFrame({"clinic": "a", "period": weeks, "new_visits": [38.0, 36, 41, 40, 39, 35],
                           "operations_elective": [10.0, 12, 9, 11, 10, 8]})
    prev = pd.DataFrame({"clinic": "a", "stage": ["new_visit"] * 3 + ["treatment"] * 3,
                         "period": [str(p) for p in weeks[2:5]] * 2, "fixed": True,
                         "own_production": [40.0, 38, 42, 10, 11, 12], "purchase": 0.0,
                         "agreement": [39.0, 39, 40, 10, 10, 10]})
    history = plan_history(weekly, prev)
    path = export_plan_xlsx(plan_export_table(_plan()), tmp_path / "p.xlsx", tables={"Plan mot utfall": history})
    ws = openpyxl.load_workbook(path)["Plan mot utfall"]
    head, _ = _rows(ws)
    ev = _Eval(ws)
    last = 1 + len(history)
    for sheet_col, model_col, scale in (("Ackumulerad fastställd plan", "cum_planned_own", 1),
                                        ("Ackumulerat utfall", "cum_actual_own", 1),
                                        ("Ackumulerad vårdöverenskommelse", "cum_agreement", 1),
                                        ("Avvikelse (%)", "deviation_pct", 100),
                                        ("Ackumulerad avvikelse (%)", "cum_deviation_pct", 100),
                                        ("Ackumulerat mot vårdöverenskommelsen (%)", "vs_agreement_pct", 100)):
        got = np.array(_column(ws, head, sheet_col, 2, last, ev), float)
        np.testing.assert_allclose(got, history[model_col].to_numpy(float) / scale, err_msg=sheet_col)
    dev = _column(ws, head, "Avvikelse (utfall − plan)", 2, last, ev)
    assert dev == (history["actual_own"] - history["planned_own"]).tolist()


def test_english_headers_and_values(tmp_path):
    path = export_plan_xlsx(plan_export_table(_plan()), tmp_path / "p.xlsx", tables={"Follow-up": _follow_up()},
                            language="en")
    wb = openpyxl.load_workbook(path)
    ws = wb["Production plan"]
    head, col = _rows(ws)
    assert head[:6] == ["Clinic", "Stage", "Weeks ahead", "Year", "Week", "Week starts"]
    assert ws.cell(row=2, column=col["Stage"] + 1).value == "First visit"
    assert ws.cell(row=3, column=col["Cost bought (SEK)"] + 1).number_format == '#,##0 "SEK"'
    head, _ = _rows(wb["Follow-up"], header_row=2)
    assert "New visits: acc. deviation %" in head


def test_monthly_plan_has_months_as_dates_and_no_week_numbers(tmp_path):
    plan = _plan(weeks=3)
    plan["period"] = pd.PeriodIndex(["2027-01", "2027-02", "2027-03"] * 2, freq="M")
    plan = plan.drop(columns="month").assign(period_days=[31, 28, 31] * 2)
    ws = openpyxl.load_workbook(export_plan_xlsx(plan, tmp_path / "m.xlsx"))["Produktionsplan"]
    head, col = _rows(ws)
    assert "Vecka" not in head and "Månader framåt" in head and "Dagar i perioden" in head
    cell = ws.cell(row=3, column=col["Månad"] + 1)
    assert cell.value == dt.datetime(2027, 2, 1) and cell.number_format == "yyyy-mm"
    assert ws.cell(row=2, column=col["Beställ senast (månad)"] + 1).value == dt.datetime(2026, 11, 1)


def test_bad_input_names_the_argument(tmp_path):
    plan = plan_export_table(_plan())
    with pytest.raises(ValueError, match="language"):
        export_plan_xlsx(plan, tmp_path / "p.xlsx", language="de")
    with pytest.raises(ValueError, match="1-31 characters"):
        export_plan_xlsx(plan, tmp_path / "p.xlsx", tables={"x" * 32: plan})
    with pytest.raises(ValueError, match="used twice"):
        export_plan_xlsx(plan, tmp_path / "p.xlsx", tables={"Produktionsplan": plan})
    with pytest.raises(ValueError, match="language"):
        workbook.write_table_xlsx(plan, tmp_path / "t.xlsx", language="fi")


# ----------------------------------------------------------------------------- the tables' .xlsx
def _weekly_with_suppression():
    periods = pd.period_range("2026-11-16", periods=3, freq="W-SUN")
    t = pd.DataFrame({"clinic": "uro", "period": periods, "referrals_in": [51.0, 56.0, 1234.0],
                      "queue_new_visit": [212.0, np.nan, 3.0], "queue_new_visit_suppressed": [False, True, False],
                      "share_over_90_days": [0.2869, 0.25, 0.3], "purchase_cost_12w": [10490300.0, 0.0, 2300.5],
                      "escalation": ["red", "yellow", "green"], "stage": ["new_visit", "treatment", "new_visit"]})
    return t


def test_table_xlsx_beside_the_csv_holds_the_same_numbers(tmp_path):
    t = _weekly_with_suppression()
    csv_path = write_table(t, tmp_path / "weekly.csv")
    path = workbook.write_table_xlsx(t, tmp_path / "weekly.xlsx")
    ws = openpyxl.load_workbook(path).active
    assert ws.title == "Veckodata"
    head, col = _rows(ws)
    assert head == ["Klinik", "År", "Vecka", "Veckan börjar", "Remisser in", "Väntande nybesök",
                    "Andel väntat över 90 dagar", "Kostnad köpt vård 12 veckor (kr)", "Eskalering", "Steg"]
    # the CSV, read as the machine contract documents it (comma, decimal point, UTF-8, identifiers)
    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for r, row in enumerate(rows, start=2):
        assert ws.cell(row=r, column=col["Remisser in"] + 1).value == float(row["referrals_in"])
        assert ws.cell(row=r, column=col["Kostnad köpt vård 12 veckor (kr)"] + 1).value == pytest.approx(
            float(row["purchase_cost_12w"]), abs=0)
        monday = ws.cell(row=r, column=col["Veckan börjar"] + 1).value.date()
        assert f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}" == row["period"]
    # a suppressed count is "dolt", never in clear; its flag column is not written
    hidden = ws.cell(row=3, column=col["Väntande nybesök"] + 1)
    assert hidden.value == "dolt" and rows[1]["queue_new_visit"] == ""
    assert not any("suppressed" in str(h) for h in head)
    assert ws.cell(row=4, column=col["Väntande nybesök"] + 1).value == 3  # the rule's own decision stands
    assert [ws.cell(row=r, column=col["Eskalering"] + 1).value for r in (2, 3, 4)] == ["Röd", "Gul", "Grön"]
    assert ws.cell(row=2, column=col["Andel väntat över 90 dagar"] + 1).number_format == "0.0%"
    assert ws.cell(row=2, column=col["Kostnad köpt vård 12 veckor (kr)"] + 1).number_format == '#,##0 "kr"'
    assert ws.cell(row=4, column=col["Remisser in"] + 1).number_format == "#,##0"
    assert ws.freeze_panes == "E2" and list(ws.tables.values())[0].autoFilter.ref == "A1:J4"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1  # narrow: one page wide


def test_no_suppressed_value_anywhere_in_the_xlsx(tmp_path):
    t = _weekly_with_suppression()
    t.loc[1, "queue_new_visit"] = np.nan
    path = workbook.write_table_xlsx(t, tmp_path / "w.xlsx")
    values = [c.value for row in openpyxl.load_workbook(path).active.iter_rows() for c in row]
    assert values.count("dolt") == 1 and 212 in values and 3 in values


def test_every_table_column_has_a_header_in_both_languages():
    """The columns of the run's tables (outputs/README.md) are all translated, and uniquely."""
    columns = ["clinic", "stage", "period_ahead", "period", "month", "fixed", "origin", "inflow", "capacity",
               "own_production", "purchase", "order_by_period", "within_lead_time", "moved_in", "moved_out",
               "queue_start", "queue_end", "breaches_if_nothing_bought", "breaches_before_purchase",
               "breaches_after_purchase", "share_within_guarantee", "gap", "unused_capacity", "agreement",
               "cost_external_sek", "cost_internal_sek", "need", "policy", "basis", "lo_80", "hi_80", "mean", "model",
               "demonstrated_per_week", "resources_per_week", "finding", "tolerance", "planned_own", "actual_own",
               "cum_planned_own", "vs_agreement_pct", "purchase_p80", "p_no_breach_fixed", "scenario",
               "purchase_change", "clinic_from", "saving_sek", "load", "queue_change", "bottleneck",
               "production_per_week", "queue_production_ratio_weeks", "this_week", "usual", "mase", "coverage_80",
               "severity", "message", "waiting_counted", "first_order_by", "escalation_reason",
               "purchase_need_12w", "purchase_need_fixed", "capacity_gap_fixed", "purchase_cost_12w", "year",
               "week", "measure", "deviation", "cum_deviation_pct", "status", "level", "red_weeks", "referrals_in",
               "waiting_over_90_treatment", "escalation_level", "order_by", "first_week", "until_week", "boundary"]
    for language in ("sv", "en"):
        names = [workbook.header(c, language) for c in columns]
        untranslated = [c for c, n in zip(columns, names) if n == c and c not in ("mase",)]
        assert not untranslated, untranslated
    # unique (follow-up's "level" and the summary's "escalation_level" are one meaning in two tables)
    sv = [workbook.header(c) for c in columns if c != "level"]
    assert len(set(sv)) == len(sv), [n for n in sv if sv.count(n) > 1]


def test_the_monthly_purchase_sheet_has_no_column_left_untranslated():
    """Every column purchase_by_month gives (plan.xlsx "Köp per månad") has a header of its own,
    the month the fixed weeks end inside too ('boundary' was left in English)."""
    from kps_analysis.planning import purchase_by_month

    weeks = pd.period_range("2026-12-21", periods=4, freq="W-SUN")
    plan = pd.DataFrame({"clinic": "a", "stage": "treatment", "period_ahead": [1, 2, 3, 4], "period": weeks,
                         "fixed": [True, True, False, False], "purchase": [1.0, 2.0, 3.0, 4.0],
                         "cost_external_sek": 1.0, "cost_internal_sek": 1.0, "order_by_period": [1, 1, 1, 1]})
    table = purchase_by_month(plan)
    assert "boundary" in table.columns
    for language in ("sv", "en"):
        assert all(workbook.header(c, language) != c for c in table.columns), list(table.columns)


@pytest.mark.parametrize("bought", [0.0, 2.0])
def test_a_monthly_purchase_sheet_is_headed_in_months_bought_or_not(bought):
    """A monthly plan's "Köp per månad" had "Första veckan", "Till och med veckan" and "Fastställda
    veckor slutar i månaden" over rows that are whole months; with nothing bought (an empty table)
    too. A weekly plan keeps them (its months hold several weeks)."""
    from kps_analysis.planning import purchase_by_month

    plan = pd.DataFrame({"clinic": "a", "stage": "treatment", "period_ahead": [1, 2, 3],
                         "period": pd.period_range("2026-12", periods=3, freq="M"), "fixed": [True, True, False],
                         "purchase": [0.0, bought, bought], "cost_external_sek": bought, "cost_internal_sek": bought,
                         "order_by_period": [1, 1, 2]})
    headers = list(workbook.purchase_month_sheet(purchase_by_month(plan)).frame.columns)
    assert "Månad" in headers and "Beställ senast" in headers
    assert not [h for h in headers if "veck" in h.lower()], headers
    weekly = plan.assign(period=pd.period_range("2026-12-07", periods=3, freq="W-SUN"))
    headers = list(workbook.purchase_month_sheet(purchase_by_month(weekly)).frame.columns)
    assert "Första veckan (veckan börjar)" in headers


def test_the_csv_beside_stays_the_machine_contract(tmp_path):
    """The CSV is read by machines with their defaults: comma, decimal point, UTF-8 without BOM,
    identifiers as headers; pandas gives back the frame written (periods as ISO labels)."""
    t = _weekly_with_suppression()
    path = write_table(t, tmp_path / "weekly.csv")
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.splitlines()[0].decode("utf-8").split(",")[:3] == ["clinic", "period", "referrals_in"]
    back = pd.read_csv(path)
    expected = t.assign(period=["2026-W47", "2026-W48", "2026-W49"])
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)


def test_table_xlsx_in_english(tmp_path):
    ws = openpyxl.load_workbook(workbook.write_table_xlsx(_weekly_with_suppression(), tmp_path / "weekly.xlsx",
                                                          language="en")).active
    head, col = _rows(ws)
    assert ws.title == "Weekly data" and head[:4] == ["Clinic", "Year", "Week", "Week starts"]
    assert ws.cell(row=3, column=col["Waiting for first visit"] + 1).value == "hidden"
    assert ws.cell(row=2, column=col["Escalation"] + 1).value == "Red"


def test_user_text_is_never_a_formula_nor_breaks_the_file(tmp_path):
    t = pd.DataFrame({"clinic": ["=HYPERLINK(\"http://x\",\"klicka\")", "ok\x00\x07"], "scenario": ["a", "baseline"],
                      "description": ["=1+1", "+SUM(A1)"], "purchase": [1.0, 2.0]})
    ws = openpyxl.load_workbook(workbook.write_table_xlsx(t, tmp_path / "scenarios.xlsx")).active
    assert ws["A2"].data_type == "s" and ws["A2"].value.startswith("=HYPERLINK")
    assert ws["C2"].data_type == "s" and ws["C2"].value == "=1+1"
    assert ws["A3"].value == "ok" and ws["B3"].value == "Planen (nuläge)"


def test_follow_up_percent_of_a_zero_plan_as_the_model(tmp_path):
    """0 % when plan and outcome are both 0 (a clinic without operations), empty when only the plan is."""
    periods = pd.period_range("2026-01-05", periods=3, freq="W-SUN")
    plan = pd.DataFrame({"clinic": "hud", "period": periods, "planned_new_visits": 0.0, "planned_operations": 0.0})
    actual = pd.DataFrame({"clinic": "hud", "period": periods, "new_visits": [0.0, 5.0, 0.0],
                           "operations_elective": 0.0})
    follow = plan_vs_outcome(plan, actual, measures={"new_visits": "planned_new_visits",
                                                     "operations_elective": "planned_operations"})
    ws = openpyxl.load_workbook(export_plan_xlsx(plan_export_table(_plan()), tmp_path / "p.xlsx",
                                                 tables={"Uppföljning": follow}))["Uppföljning"]
    head, _ = _rows(ws, header_row=2)
    ev = _Eval(ws)
    got = _column(ws, head, "Elektiva operationer: ack. avvikelse %", 3, 5, ev)
    assert got == [0.0, 0.0, 0.0] and follow.loc[follow["measure"] == "operations_elective",
                                                 "cum_deviation_pct"].tolist() == [0.0, 0.0, 0.0]
    got = _column(ws, head, "Nybesök: ack. avvikelse %", 3, 5, ev)
    assert got[0] == 0.0 and np.isnan(got[1]) and np.isnan(got[2])
    assert np.isnan(follow.loc[follow["measure"] == "new_visits", "cum_deviation_pct"].iloc[1])


def test_a_suppressed_count_is_hidden_under_its_new_and_old_names(tmp_path):
    """The period-generic names (this_period, last_period, queue_change_1p) carry the same
    counts as the old ones: the rule hides both, in the CSV and in the .xlsx beside it."""
    from kps_analysis import report

    shown = report.protect_counts({"queue:new_visit": 3.0, "queue:treatment": 100.0, "queue": 103.0},
                                  [("queue", ["queue:new_visit", "queue:treatment"])], limit=5)
    summary = pd.DataFrame({"clinic": ["a"], "queue_new_visit": [3.0], "queue_treatment": [100.0],
                            "queue_change_1w": [2.0], "queue_change_1p": [2.0]})
    changes = pd.DataFrame({"clinic": "a", "period": pd.Period("2026-11-23", "W-SUN"),
                            "measure": ["queue_new_visit", "new_visits"], "this_period": [3.0, 40.0],
                            "last_period": [1.0, 38.0], "change": [2.0, 2.0], "this_week": [3.0, 40.0],
                            "last_week": [1.0, 38.0]})
    out = report.suppress_tables({"summary": summary, "week_changes": changes}, shown, limit=5)
    for name, cols in (("summary", ["queue_new_visit", "queue_change_1w", "queue_change_1p"]),
                       ("week_changes", ["this_period", "last_period", "this_week", "last_week", "change"])):
        assert out[name].loc[0, cols].isna().all(), name
        back = pd.read_csv(write_table(out[name], tmp_path / f"{name}.csv"))
        assert back.loc[0, cols].isna().all() and back.loc[0, [f"{c}_suppressed" for c in cols]].all()
        ws = openpyxl.load_workbook(workbook.write_table_xlsx(out[name], tmp_path / f"{name}.xlsx")).active
        values = [c.value for c in ws[2]]
        shown_cols = [c for c in cols if c not in ("this_week", "last_week", "queue_change_1w")]  # old names left out
        assert values.count("dolt") == len(shown_cols) and 3 not in values and 1 not in values, values
    assert out["week_changes"].loc[1, ["this_period", "this_week"]].tolist() == [40.0, 40.0]  # flows stay


def test_fast_cell_writer_writes_the_bytes_openpyxl_writes(tmp_path, monkeypatch):
    """workbook._save writes the cells' XML itself (openpyxl's writer is most of a run's
    workbook time); every part of the file is byte for byte what openpyxl's own save
    writes, for every kind of cell the sheets hold and a few they might."""
    import zipfile

    if workbook._fast_writer() is None:
        pytest.skip("this openpyxl writes through lxml: workbook._save is openpyxl's save")
    frame = pd.DataFrame({
        "Text": ["a & b < c > d", "  padded ", "=SUM(A1)", "#N/A", "", "tab\tand\nnewline", "ä €", None],
        "Tal": [1.0, -0.1, 1e20, 2.5e-7, float("nan"), 123456789.125, 0.0, 3.0],
        "Heltal": [1, 2, 3, 4, 5, 6, 7, 8],
        "Datum": [dt.date(2026, 12, 2), dt.datetime(2026, 1, 1, 12, 30), None, dt.date(1900, 3, 1),
                  dt.date(2026, 1, 1), None, None, dt.date(2030, 6, 30)],
        "Ja": [True, False, True, None, False, True, None, False],
        "Summa": [0.0] * 8,
    })
    sheet = workbook.Sheet(name="Blad", frame=frame, kinds={"Tal": "dec1", "Heltal": "int", "Datum": "date",
                                                            "Summa": "kr"},
                           formulas={"Summa": '=IF({Tal}{r}<>"",SUMIFS(${Tal}${first}:{Tal}{r},'
                                              '${Heltal}${first}:{Heltal}{r},">0"),"")'},
                           groups={"Tal": "Grupp", "Heltal": "Grupp"}, note="Not & <fotnot>",
                           status_columns=("Text",))
    # the same sheet without an error code as text, with "dolt" in number columns: its rows are written
    # as XML text (workbook._raw_rows); the first sheet, with "#N/A", cell by cell; two orders of sheets
    plain = frame.assign(Text=frame["Text"].replace("#N/A", "N/A"),
                         Tal=frame["Tal"].astype(object).where(frame.index != 2, "dolt"),
                         Heltal=frame["Heltal"].astype(object).where(frame.index != 5, "dolt"))
    other = workbook.Sheet(name="Blad 2", frame=plain, kinds=dict(sheet.kinds), formulas=dict(sheet.formulas),
                           groups=dict(sheet.groups), note="Not 2", status_columns=("Text",))
    third = workbook.Sheet(name="Blad 3", frame=plain.drop(columns=["Summa"]), kinds={"Tal": "dec2", "Datum": "date"})
    for order in ([sheet, other, third], [third, other, sheet]):
        files = {}
        for name, raw, save in (("raw", True, workbook._save), ("cells", False, workbook._save),
                                ("openpyxl", False, lambda wb, path: wb.save(path))):
            monkeypatch.setattr(workbook, "_RAW_CELLS", raw)
            monkeypatch.setattr(workbook, "_save", save)
            files[name] = workbook.write_workbook(order, tmp_path / f"{name}.xlsx")
        with zipfile.ZipFile(files["raw"]) as a, zipfile.ZipFile(files["cells"]) as b, \
                zipfile.ZipFile(files["openpyxl"]) as c:
            assert a.namelist() == b.namelist() == c.namelist()
            for name in a.namelist():
                if name != "docProps/core.xml":  # the time it was written
                    assert a.read(name) == b.read(name) == c.read(name), name
        monkeypatch.undo()


def test_the_demo_workbooks_rows_as_text_are_the_cells_bytes(demo_dir, tmp_path, monkeypatch):
    """A clinic's 20 workbooks (tables/*.xlsx and plan.xlsx) with the table rows written as
    XML text (issue 15: 2.0 -> 1.35 s a demo clinic) are byte for byte those written cell by
    cell through openpyxl's cells."""
    import zipfile

    from batch_helpers import small_region

    from kps_analysis import sections

    if workbook._fast_writer() is None:
        pytest.skip("this openpyxl writes through lxml: workbook._save is openpyxl's save")
    params = small_region(tmp_path / "parameters", ("uro",))   # uro planned alone: seconds, not the region's 20
    ctx = sections.load("uro", params, demo_dir, tmp_path / "raw")
    sections.write_tables(ctx)
    ctx.output_dir = str(tmp_path / "cells")
    monkeypatch.setattr(workbook, "_RAW_CELLS", False)
    sections.write_tables(ctx)
    files = sorted((tmp_path / "raw").rglob("*.xlsx"))
    assert len(files) == 20
    for path in files:
        with zipfile.ZipFile(path) as a, zipfile.ZipFile(tmp_path / "cells" / path.relative_to(tmp_path / "raw")) as b:
            assert a.namelist() == b.namelist()
            for name in a.namelist():
                if name != "docProps/core.xml":
                    assert a.read(name) == b.read(name), (path.name, name)


def test_the_cycle_collector_is_left_as_it_was(tmp_path):
    """write_workbook pauses Python's cycle collector while it writes (workbook._gc_paused)
    and leaves it as it found it, also when it fails."""
    import gc

    frame = pd.DataFrame({"Klinik": ["uro"], "Köp": [3.0]})
    assert gc.isenabled()
    workbook.write_table_xlsx(frame, tmp_path / "a.xlsx")
    assert gc.isenabled()
    with pytest.raises(ValueError):
        workbook.write_workbook([workbook.Sheet(name="", frame=frame)], tmp_path / "b.xlsx")
    assert gc.isenabled()
    gc.disable()
    try:
        workbook.write_workbook([workbook.Sheet(name="Blad", frame=frame)], tmp_path / "c.xlsx")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_monthly_sheet_speaks_of_months_with_one_month_column():
    """A monthly clinic's Produktionsplan sheet had "Kö vid veckans början/slut" and two month
    columns ("Månad (period)", "Månad (month)")."""
    t = pd.DataFrame({"clinic": ["a"], "stage": ["treatment"], "period_ahead": [1],
                      "period": [pd.Period("2026-12", "M")], "month": ["2026-12"], "queue_start": [10.0],
                      "queue_end": [12.0]})
    sheet, _ = workbook.sheet_from_frame(t, "Produktionsplan")
    assert list(sheet.frame.columns) == ["Klinik", "Steg", "Månader framåt", "Månad",
                                         "Kö vid månadens början (utan egna val)",
                                         "Kö vid månadens slut (utan egna val)"]


def test_a_week_column_of_pandas_strings_is_written_as_its_monday():
    """summary.xlsx showed '2026-11-30/2026-12-06' for the week of the peak: on pandas 3 the column
    is a string dtype, not object, and was not recognised as a week."""
    s = pd.DataFrame({"clinic": ["gyn"], "projected_breaches_peak_week": pd.array(["2026-11-30/2026-12-06"],
                                                                                   dtype="string")})
    sheet, _ = workbook.sheet_from_frame(s, "S")
    assert str(sheet.frame.iloc[0, 1]) == "2026-11-30"


def test_codes_read_as_words_in_the_workbooks():
    """forecast_accuracy.xlsx showed "auto"/"seasonal_naive" and "all", plan_vs_outcome.xlsx
    "region"/"unit" beside Swedish headers."""
    from kps_analysis.workbook import header, value_text

    assert value_text("method", "auto") == "Automatiskt val"
    assert value_text("method", "seasonal_naive") == "Samma vecka i fjol"
    assert value_text("horizon", "all") == "Alla" and value_text("horizon", "1-13") == "1-13"
    assert value_text("level_if_at_risk", "region") == "Regionen"
    assert header("level_if_at_risk") == "Nivå om vårdgarantin vore i fara"
    assert header("counts_in_escalation") == "Räknas i klinikens eskalering"
