"""report.xlsx as openpyxl and LibreOffice read it: text stays text, sheets split, names fit."""

import csv
import io
import zipfile

import openpyxl
import pytest
from openpyxl import Workbook

from exports.package.xlsx_report import MAX_SHEET_NAME, sheet_name, write_sheets
from tests.exports.packages import HOSTILE, REQ, build, members
from tests.support import libreoffice_csv


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("xlsx") / "report.xlsx"
    path.write_bytes(members(build(path.with_name("p.zip")))[f"{REQ}/report.xlsx"])
    return path


def test_no_cell_holds_a_formula(report):
    workbook = openpyxl.load_workbook(report)
    assert workbook.sheetnames == ["Crm – Customer", "Crm – Empty", "Crm – Orders", "Crm eu – Hostile",
                                   "Support mail – Messages"]
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row]
    assert len(cells) > 50
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    hostile = workbook["Crm eu – Hostile"]
    assert [hostile.cell(row, 1).value for row in range(2, 2 + len(HOSTILE))] == HOSTILE
    assert all(hostile.cell(row, 1).data_type == "s" for row in range(1, 2 + len(HOSTILE)))
    assert hostile.cell(2, 2).value == 0 and hostile.cell(2, 2).data_type == "n"  # numbers stay numbers
    assert hostile.freeze_panes == "A2"
    customer = workbook["Crm – Customer"]
    assert [c.value for c in customer[1]] == ["Email", "First name", "City", "Nested", "Id", "Vip", "Score", "Note"]
    assert [c.value for c in customer[2]] == ["x@example.fi", "Äijä", "Hämeenlinna öö", '{"a": [1, 2], "b": 1}',
                                              7, "kyllä", 1.5, None]  # a Finnish package: a boolean as a word


def test_the_workbook_carries_generated_at_not_the_clock(report):
    with zipfile.ZipFile(report) as zf:
        core = zf.read("docProps/core.xml").decode()
        assert {i.date_time for i in zf.infolist()} == {(2025, 3, 14, 9, 26, 52)}
    assert core.count("2025-03-14T09:26:53Z") == 2


def test_libreoffice_shows_the_text_literally(report, tmp_path):
    """A control workbook with a real formula proves LibreOffice would have evaluated one."""
    control = Workbook()
    control.active.append(['=HYPERLINK("http://x","y")'])
    control.save(tmp_path / "control.xlsx")
    (tmp_path / "report.xlsx").write_bytes(report.read_bytes())
    out = libreoffice_csv([tmp_path / "control.xlsx", tmp_path / "report.xlsx"], tmp_path)
    [control_row] = list(csv.reader((out / "control-Sheet.csv").open(encoding="utf-8")))
    assert control_row == ["y"]  # evaluated: the formula's value, not its text
    hostile_rows = list(csv.reader(io.StringIO(
        (out / "report-Crm eu – Hostile.csv").read_text(encoding="utf-8"), newline="")))
    assert hostile_rows[0] == ["Text", "N"]
    # XML reads a lone carriage return as a line feed: a line break, no formula either way.
    assert [row[0] for row in hostile_rows[1:]] == [t.replace("\r", "\n") for t in HOSTILE]
    customer = list(csv.reader((out / "report-Crm – Customer.csv").open(encoding="utf-8")))
    assert customer[1][:3] == ["x@example.fi", "Äijä", "Hämeenlinna öö"]


def test_a_long_category_continues_on_the_next_sheet(tmp_path):
    workbook = Workbook(write_only=True)
    taken: set[str] = set()
    count = write_sheets(workbook, "crm.orders", ["i"], ({"i": i} for i in range(5)), taken, max_rows=3)
    write_sheets(workbook, "crm.other", ["i"], iter([]), taken, max_rows=3)
    workbook.save(tmp_path / "r.xlsx")
    read = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert count == 5
    assert read.sheetnames == ["crm.orders", "crm.orders (2)", "crm.orders (3)", "crm.other"]
    assert [[c.value for c in row] for row in read["crm.orders"].iter_rows()] == [["i"], [0], [1]]
    assert [[c.value for c in row] for row in read["crm.orders (2)"].iter_rows()] == [["i"], [2], [3]]
    assert [[c.value for c in row] for row in read["crm.orders (3)"].iter_rows()] == [["i"], [4]]
    assert [[c.value for c in row] for row in read["crm.other"].iter_rows()] == [["i"]]
    assert all(read[name].freeze_panes == "A2" for name in read.sheetnames)


def test_sheet_names_are_short_safe_and_unique():
    taken: set[str] = set()
    long = "a" * 40 + ".b"
    names = [sheet_name(long, taken), sheet_name(long, taken), sheet_name("x[1]:y*?/\\'", taken),
             sheet_name("A" * 31, taken), sheet_name("a" * 31, taken)]
    # Excel compares sheet names ignoring case.
    assert names == ["a" * 31, "a" * 27 + " (2)", "x_1__y_____", "A" * 27 + " (3)", "a" * 27 + " (4)"]
    assert all(len(n) <= MAX_SHEET_NAME for n in names)
