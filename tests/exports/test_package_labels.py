"""Labels and values as people read them: CSV and XLSX headers in the package's language, JSON under the raw keys,
dates, decimals and booleans per format, read back by openpyxl and LibreOffice."""

import csv
import io
import json
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from exports.package import Category
from exports.package.values import humanise
from tests.exports.packages import REQ, build, members, rows
from tests.support import libreoffice_csv

ORDERS = [{"placed": "2026-12-01", "shipped_at": "2026-12-01T14:05:00Z", "local_time": "2026-12-01T09:07:00",
           "total": 69.4, "count": 3, "paid": True, "gift": False, "postal_code": "00100", "old": "1899-12-31",
           "note": "=1+1"}]
LABELS = {
    "fi": ("Verkkokauppa", "Tilaukset", {"placed": "Tilauspäivä", "total": "Summa", "paid": "Maksettu",
                                         "note": "=Huomautus"}),
    "en": ("Web shop", "Orders", {"placed": "Order date", "total": "Total", "paid": "Paid", "note": "=Remark"}),
}


def labelled(tmp_path: Path, language: str, records=ORDERS, name: str = "p.zip") -> dict[str, bytes]:
    source, category, columns = LABELS[language]
    cats = [Category("shop", "orders", rows(records), label=category, column_labels=columns, provided=True)]
    return members(build(tmp_path / name, cats, language=language, source_labels={"shop": source}))


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("language", ["fi", "en"])
def test_csv_header_is_labelled_and_values_stay_machine_readable(tmp_path, language):
    files = labelled(tmp_path, language)
    for path in (f"{REQ}/data/shop/orders.csv", f"{REQ}/portability/shop/orders.csv"):
        header, row = csv_rows(files[path])
        _, _, columns = LABELS[language]
        assert header == [columns.get(key, humanise(key)).replace("=", "'=") for key in ORDERS[0]]
        assert header[1:3] == ["Shipped at", "Local time"]  # unlabelled: the key made readable
        assert header[-1] == f"'={columns['note'][1:]}"  # a label is no formula either
        assert row == ["2026-12-01", "2026-12-01T14:05:00Z", "2026-12-01T09:07:00", "69.4", "3", "true", "false",
                       "00100", "1899-12-31", "'=1+1"]


@pytest.mark.parametrize("language", ["fi", "en"])
def test_json_keeps_the_raw_keys_and_exact_values_and_the_schema_maps_labels_back(tmp_path, language):
    files = labelled(tmp_path, language)
    assert json.loads(files[f"{REQ}/data/shop/orders.json"]) == ORDERS
    assert b"\"total\": 69.4\n" in files[f"{REQ}/data/shop/orders.json"]  # a number, no trailing zeros
    schema = json.loads(files[f"{REQ}/schema/data/shop/orders.json"])
    titles = {key: prop["title"] for key, prop in schema["items"]["properties"].items()}
    header = csv_rows(files[f"{REQ}/data/shop/orders.csv"])[0]
    assert [titles[key].replace("=", "'=") for key in ORDERS[0]] == header


def test_xlsx_headers_title_and_typed_cells_in_finnish(tmp_path):
    report = tmp_path / "report.xlsx"
    report.write_bytes(labelled(tmp_path, "fi")[f"{REQ}/report.xlsx"])
    workbook = openpyxl.load_workbook(report)
    assert workbook.sheetnames == ["Verkkokauppa – Tilaukset"]
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Tilauspäivä", "Shipped at", "Local time", "Summa"] and header[-1] == "=Huomautus"
    assert all(c.data_type == "s" for c in sheet[1])
    cells = {key: cell for key, cell in zip(ORDERS[0], sheet[2], strict=True)}
    assert cells["placed"].value == datetime(2026, 12, 1) and cells["placed"].is_date
    assert cells["placed"].number_format == 'd"."m"."yyyy'
    assert cells["shipped_at"].value == datetime(2026, 12, 1, 14, 5)
    assert cells["shipped_at"].number_format == 'd"."m"."yyyy "klo" h"."mm "UTC"'
    assert cells["local_time"].value == datetime(2026, 12, 1, 9, 7)
    assert (cells["total"].value, cells["total"].data_type, cells["count"].value) == (69.4, "n", 3)
    assert (cells["paid"].value, cells["gift"].value) == ("kyllä", "ei")
    assert cells["postal_code"].value == "00100" and cells["postal_code"].data_type == "s"  # text stays text
    assert cells["old"].value == "1899-12-31"  # before a spreadsheet's calendar: left as text
    assert cells["note"].value == "=1+1" and cells["note"].data_type == "s"
    assert [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"] == []


def test_libreoffice_shows_dates_in_the_packages_language_and_keeps_numbers(tmp_path):
    """LibreOffice's CSV of the workbook as shown on screen: our formats, the numbers it can sum."""
    for language in ("fi", "en"):
        (tmp_path / f"{language}.xlsx").write_bytes(labelled(tmp_path, language, name=f"{language}.zip")[
            f"{REQ}/report.xlsx"])
    out = libreoffice_csv([tmp_path / "fi.xlsx", tmp_path / "en.xlsx"], tmp_path, as_shown=True)
    fi = csv_rows((out / "fi-Verkkokauppa – Tilaukset.csv").read_bytes())
    en = csv_rows((out / "en-Web shop – Orders.csv").read_bytes())
    assert fi[0][:4] == ["Tilauspäivä", "Shipped at", "Local time", "Summa"]
    assert fi[1] == ["1.12.2026", "1.12.2026 klo 14.05 UTC", "1.12.2026 klo 9.07", "69.4", "3", "kyllä", "ei",
                     "00100", "1899-12-31", "=1+1"]
    assert en[0][:4] == ["Order date", "Shipped at", "Local time", "Total"]
    assert en[1] == ["1 December 2026", "1 December 2026, 14:05 UTC", "1 December 2026, 09:07", "69.4", "3", "yes",
                     "no", "00100", "1899-12-31", "=1+1"]


def test_sheet_titles_fall_back_to_the_category_then_the_raw_names_and_stay_unique(tmp_path):
    long_source = "Asiakas- ja kanta-asiakasrekisteri"  # with any category past 31 characters
    cats = [Category("crm", "orders", rows([{"a": 1}]), label="Tilaukset"),
            Category("shop", "orders", rows([{"a": 1}]), label="Tilaukset"),
            Category("web", "visits", rows([{"a": 1}]), label="Käynnit verkkokaupassa viime vuosina"),
            Category("web", "x", rows([{"a": 1}]), label="a/b")]
    report = tmp_path / "r.xlsx"
    labels = {"crm": long_source, "shop": long_source, "web": long_source}
    report.write_bytes(members(build(tmp_path / "p.zip", cats, source_labels=labels))[f"{REQ}/report.xlsx"])
    assert openpyxl.load_workbook(report).sheetnames == ["Tilaukset", "Tilaukset (2)", "web.visits", "web.x"]


def test_two_columns_with_one_label_are_told_apart_by_their_keys(tmp_path):
    cats = [Category("crm", "people", rows([{"email": "a", "alt_email": "b"}]),
                     column_labels={"email": "Sähköposti", "alt_email": "Sähköposti"})]
    header = csv_rows(members(build(tmp_path / "p.zip", cats))[f"{REQ}/data/crm/people.csv"])[0]
    assert header == ["Sähköposti (email)", "Sähköposti (alt_email)"]


def test_a_label_that_reads_like_a_told_apart_header_still_leaves_every_header_unique(tmp_path):
    cats = [Category("crm", "people", rows([{"a": 1, "b": 2, "c": 3}]),
                     column_labels={"a": "X", "b": "X", "c": "X (a)"})]
    data = members(build(tmp_path / "p.zip", cats))
    header = csv_rows(data[f"{REQ}/data/crm/people.csv"])[0]
    assert header == ["X (a)", "X (b)", "X (a) (c)"]
    schema = json.loads(data[f"{REQ}/schema/data/crm/people.json"])
    assert sorted(p["title"] for p in schema["items"]["properties"].values()) == sorted(header)


def test_same_records_and_labels_give_the_same_bytes_and_labels_leave_json_alone(tmp_path):
    fi_a, fi_b = labelled(tmp_path, "fi", name="a.zip"), labelled(tmp_path, "fi", name="b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert fi_a == fi_b
    en = labelled(tmp_path, "en", name="c.zip")
    assert en[f"{REQ}/data/shop/orders.json"] == fi_a[f"{REQ}/data/shop/orders.json"]
    assert en[f"{REQ}/data/shop/orders.csv"] != fi_a[f"{REQ}/data/shop/orders.csv"]


@pytest.mark.parametrize(("key", "shown"), [("sukunimi", "Sukunimi"), ("created_at", "Created at"),
                                            ("alt_email", "Alt email"), ("order-items", "Order items"),
                                            ("ID", "ID"), ("__x__", "X"), ("_", "_")])
def test_humanise(key, shown):
    assert humanise(key) == shown


def test_a_date_is_a_date_not_only_its_look(tmp_path):
    """openpyxl reads the cell back as a date: a spreadsheet sorts and subtracts it."""
    report = tmp_path / "r.xlsx"
    cats = [Category("crm", "d", rows([{"d": "2026-02-28"}, {"d": "2025-12-31"}]))]
    report.write_bytes(members(build(tmp_path / "p.zip", cats, language="en"))[f"{REQ}/report.xlsx"])
    values = [row[0].value for row in openpyxl.load_workbook(report).active.iter_rows(min_row=2)]
    assert [v.date() for v in values] == [date(2026, 2, 28), date(2025, 12, 31)]


def test_a_time_whose_utc_falls_outside_the_calendar_stays_text(tmp_path):
    """9999-12-31 23:00 at -05:00 is year 10000 in UTC, 0001-01-01 at +05:00 is year 0: neither breaks the build."""
    late, early = "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00"
    report = tmp_path / "r.xlsx"
    cats = [Category("crm", "d", rows([{"d": late}, {"d": early}]))]
    report.write_bytes(members(build(tmp_path / "p.zip", cats))[f"{REQ}/report.xlsx"])
    cells = [row[0] for row in openpyxl.load_workbook(report).active.iter_rows(min_row=2)]
    assert [(c.value, c.data_type) for c in cells] == [(late, "s"), (early, "s")]
