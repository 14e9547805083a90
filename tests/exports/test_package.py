import hashlib
import json
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from exports import build_package
from exports.package import _json_array

AT = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)


def categories():
    # Deliberately unsorted, with generators: records must stream.
    return [
        ("support_mail", "messages", ({"id": i, "subject": f"Viesti {i} äö"} for i in range(3))),
        ("crm", "customer", iter([{"email": "x@example.fi", "name": "Matti", "nested": {"b": 1, "a": [1, 2]}}])),
        ("crm", "orders", iter([])),
        ("crm-eu", "customer", iter([{"k": "v"}])),
    ]


def build(path: Path, cats=None):
    return build_package(path, "REQ-ABC123", "Esimerkki Oy", AT, cats or categories(), {"emails": 2, "phones": 1})


def test_same_input_gives_identical_bytes(tmp_path):
    a, b = build(tmp_path / "a.zip"), build(tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert a.sha256 == b.sha256 == hashlib.sha256((tmp_path / "a.zip").read_bytes()).hexdigest()
    assert a.manifest_sha256 == b.manifest_sha256


def test_timezone_of_generated_at_does_not_change_bytes(tmp_path):
    helsinki = AT.astimezone(timezone(timedelta(hours=2)))
    a = build(tmp_path / "a.zip")
    b = build_package(
        tmp_path / "b.zip", "REQ-ABC123", "Esimerkki Oy", helsinki, categories(), {"emails": 2, "phones": 1}
    )
    assert a.sha256 == b.sha256


def test_index_lists_every_file_with_matching_hash(tmp_path):
    result = build(tmp_path / "p.zip")
    with zipfile.ZipFile(result.path) as zf:
        names = zf.namelist()
        index_bytes = zf.read("REQ-ABC123/index.json")
        index = json.loads(index_bytes)
        assert names == sorted(names) and names[-1] == "REQ-ABC123/index.json"
        assert len(index["files"]) == 4 == len(names) - 1
        for entry in index["files"]:
            data = zf.read(entry["path"])
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
            assert len(data) == entry["bytes"]
            assert len(json.loads(data)) == entry["records"]
        for info in zf.infolist():
            assert info.date_time == (2025, 3, 14, 9, 26, 52)  # DOS time has 2 s resolution
            assert info.external_attr >> 16 == 0o100644
            assert info.compress_type == zipfile.ZIP_DEFLATED
    assert hashlib.sha256(index_bytes).hexdigest() == result.manifest_sha256
    assert index["schema_version"] == 1
    assert index["request_id"] == "REQ-ABC123"
    assert index["generated_at"] == "2025-03-14T09:26:53Z"
    assert index["record_counts"] == {
        "crm": {"customer": 1, "orders": 0},
        "crm-eu": {"customer": 1},
        "support_mail": {"messages": 3},
    }
    assert result.record_counts == index["record_counts"]
    assert index["redaction"] == {"emails": 2, "phones": 1}
    assert index["withheld"] == []
    assert [f.path for f in result.files] == [f["path"] for f in index["files"]]


def test_data_file_is_json_dumps_of_the_array(tmp_path):
    records = [{"b": "ä", "a": [1, {"z": None, "y": "x\ny"}]}, {}, {"n": 1.5}]
    result = build(tmp_path / "p.zip", [("crm", "customer", iter(records))])
    with zipfile.ZipFile(result.path) as zf:
        text = zf.read("REQ-ABC123/data/crm/customer.json").decode()
    assert text == json.dumps(records, sort_keys=True, ensure_ascii=False, indent=1)
    assert "".join(_json_array([])) == "[]"


@pytest.mark.parametrize("request_id", ["REQ-", "req-abc", "REQ-../x", "REQ-a/b", "REQ-ä", "../REQ-A", "REQ-A\n"])
def test_hostile_request_id_rejected(tmp_path, request_id):
    with pytest.raises(ValueError, match="request id"):
        build_package(tmp_path / "p.zip", request_id, "C", AT, [], {})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("source", "category"),
    [
        ("..", "x"),
        ("crm", "../../etc"),
        ("CRM", "x"),
        ("crm", "a/b"),
        ("crm", ""),
        ("-x", "y"),
        ("crm", "x.json"),
        ("crm", "x\n"),
        ("crm", "\\x"),
    ],
)
def test_hostile_names_rejected(tmp_path, source, category):
    with pytest.raises(ValueError, match="name must match"):
        build_package(tmp_path / "p.zip", "REQ-A1", "C", AT, [(source, category, [])], {})
    assert list(tmp_path.iterdir()) == []


def test_duplicate_category_rejected(tmp_path):
    with pytest.raises(ValueError, match="twice"):
        build_package(tmp_path / "p.zip", "REQ-A1", "C", AT, [("a", "b", []), ("a", "b", [])], {})


def test_naive_datetime_rejected(tmp_path):
    with pytest.raises(ValueError, match="timezone"):
        build_package(tmp_path / "p.zip", "REQ-A1", "C", datetime(2025, 1, 1), [], {})


def test_crash_mid_build_leaves_nothing(tmp_path):
    def failing():
        yield {"ok": 1}
        raise RuntimeError("source went away")

    out = tmp_path / "p.zip"
    with pytest.raises(RuntimeError, match="went away"):
        build_package(out, "REQ-A1", "C", AT, [("crm", "a", iter([{"x": 1}])), ("crm", "b", failing())], {})
    assert list(tmp_path.iterdir()) == []


def test_crash_keeps_previous_package(tmp_path):
    out = tmp_path / "p.zip"
    build(out)
    before = out.read_bytes()

    def failing():
        raise RuntimeError("boom")
        yield

    with pytest.raises(RuntimeError):
        build_package(out, "REQ-A1", "C", AT, [("crm", "a", failing())], {})
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.zip"]


def test_records_are_consumed_lazily(tmp_path):
    consumed = []

    def tracked(name):
        for i in range(2):
            consumed.append(name)
            yield {"i": i}

    # Given b before a: a is written (and consumed) first, b only after.
    build_package(tmp_path / "p.zip", "REQ-A1", "C", AT, [("s", "b", tracked("b")), ("s", "a", tracked("a"))], {})
    assert consumed == ["a", "a", "b", "b"]


def test_withheld_items_are_named_in_the_manifest(tmp_path):
    withheld: list[dict[str, Any]] = [
        {"source": "mail", "reason": "unparsed", "sha256": "b" * 64, "bytes": 10},
        {"source": "mail", "reason": "unparsed", "sha256": "a" * 64, "bytes": 20},
    ]
    result = build_package(tmp_path / "p.zip", "REQ-ABC", "Demo Oy", AT, [("mail", "messages", iter([{}]))],
                           {}, withheld=iter(withheld))
    with zipfile.ZipFile(result.path) as zf:
        index = json.loads(zf.read("REQ-ABC/index.json"))
    assert index["withheld"] == sorted(withheld, key=lambda i: i["sha256"])
