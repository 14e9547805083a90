"""What a requester's tools read from the package: CSV in a spreadsheet, JSON against its schema."""

import csv
import io
import json
from typing import Any

import jsonschema
import pytest

from exports.package import Category, humanise
from exports.package.csv_data import csv_field
from exports.package.schema import Shape, array_schema
from tests.exports.packages import CUSTOMER, HOSTILE, REQ, build, members, rows


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "no byte-order mark: Excel would not read UTF-8"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_round_trips_finnish_letters_and_nested_values(tmp_path):
    files = members(build(tmp_path / "p.zip"))
    [row] = read_csv(files[f"{REQ}/data/crm/customer.csv"])
    # The header names each key by its label (humanised here: no labels given); the values stay machine-readable.
    assert row == {"Email": "x@example.fi", "First name": "Äijä", "City": "Hämeenlinna öö",
                   "Nested": '{"a": [1, 2], "b": 1}', "Id": "7", "Vip": "true", "Score": "1.5", "Note": ""}
    assert list(row) == [humanise(key) for key in CUSTOMER[0]]  # the header keeps the records' own key order


def test_csv_header_is_every_key_in_first_seen_order(tmp_path):
    records: list[dict[str, Any]] = [{"b": 1}, {"a": 2, "b": 3}, {"c": "x"}]
    files = members(build(tmp_path / "p.zip", [Category("crm", "mixed", rows(records))]))
    text = files[f"{REQ}/data/crm/mixed.csv"].decode("utf-8-sig")
    assert text == '"B","A","C"\r\n"1","",""\r\n"3","2",""\r\n"","","x"\r\n'


def test_a_spreadsheet_that_splits_on_semicolons_finds_no_formula_either(tmp_path):
    """Excel in Finnish splits CSV on `;`: "x;=41+1" must stay one quoted field, not give a field "=41+1"."""
    records = [{"note": "x;=41+1", "other": 'a;@SUM(1);"b"'}, {"note": "=1;+2", "other": "-3;4"}]
    files = members(build(tmp_path / "p.zip", [Category("crm", "notes", rows(records))]))
    text = files[f"{REQ}/data/crm/notes.csv"].decode("utf-8-sig")
    for delimiter in (",", ";"):
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            assert not [field for field in row if field.startswith(("=", "+", "-", "@"))], (delimiter, row)


def test_csv_fields_that_start_a_formula_get_a_quote(tmp_path):
    files = members(build(tmp_path / "p.zip"))
    got = [row["Text"] for row in read_csv(files[f"{REQ}/data/crm-eu/hostile.csv"])]
    assert got == ["'" + t if t[0] in "=+-@\t\r" else t for t in HOSTILE]
    assert got[0] == "'=cmd|' /C calc'!A0"
    assert [row["N"] for row in read_csv(files[f"{REQ}/data/crm-eu/hostile.csv"])][:2] == ["0", "1"]


@pytest.mark.parametrize(
    ("value", "field"),
    [(-5, "-5"), (2.5, "2.5"), ("-5", "'-5"), (None, ""), (False, "false"), ({"x": "=1"}, '{"x": "=1"}'),
     (["=1"], '["=1"]'), ("a=b", "a=b"), (" =1", " =1")],
)
def test_csv_field(value, field):
    assert csv_field(value) == field


def test_every_json_data_file_validates_against_its_schema(tmp_path):
    files = members(build(tmp_path / "p.zip"))
    index = json.loads(files[f"{REQ}/index.json"])
    checked = 0
    for entry in index["files"]:
        if entry["schema"] is None:
            continue
        schema = json.loads(files[entry["schema"]])
        jsonschema.Draft202012Validator.check_schema(schema)
        jsonschema.Draft202012Validator(schema).validate(json.loads(files[entry["path"]]))
        checked += 1
    assert checked == 7  # five data files and two portability files


def test_schema_describes_the_records(tmp_path):
    shape = Shape()
    for record in [{"a": 1, "b": {"c": [1, 2.5]}}, {"a": None, "d": True}]:
        shape.add(record)
    schema = array_schema("t", shape)
    assert schema["items"] == {
        "type": "object", "required": ["a"],
        "properties": {"a": {"type": ["integer", "null"]}, "d": {"type": "boolean"},
                       "b": {"type": "object", "required": ["c"],
                             "properties": {"c": {"type": "array", "items": {"type": "number"}}}}},
    }
    validator = jsonschema.Draft202012Validator(schema)
    assert not validator.is_valid([{"a": "text"}])
    assert not validator.is_valid([{"d": True}])  # a is required
