import base64
import hashlib
import json
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from audit.errors import InvalidSignature
from audit.signing import public_key, verify
from exports.package import Category, build_package
from exports.package.json_data import json_array
from tests.exports.packages import AT, KEY, REQ, build, categories, info, members, rows

VECTORS = Path(__file__).parent / "vectors"


def test_same_records_give_identical_bytes(tmp_path):
    a, b = build(tmp_path / "a.zip"), build(tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert a.sha256 == b.sha256 == hashlib.sha256((tmp_path / "a.zip").read_bytes()).hexdigest()


def test_timezone_of_generated_at_does_not_change_bytes(tmp_path):
    helsinki = AT.astimezone(timezone(timedelta(hours=2)))
    assert build(tmp_path / "a.zip").sha256 == build(tmp_path / "b.zip", generated_at=helsinki).sha256


def test_the_package_holds_every_format(tmp_path):
    names = set(members(build(tmp_path / "p.zip")))
    r = f"{REQ}/"
    for base in ("data/crm/customer", "data/crm/orders", "data/crm/empty", "data/support_mail/messages",
                 "data/crm-eu/hostile", "portability/crm/customer", "portability/crm-eu/hostile"):
        assert {f"{r}{base}.json", f"{r}{base}.csv", f"{r}schema/{base}.json"} <= names, base
    assert {f"{r}report.xlsx", f"{r}index.json", f"{r}index.json.sig",
            f"{r}data/support_mail/messages/000001.eml"} <= names
    assert not any(n.startswith(f"{r}portability/crm/orders") for n in names)  # the subject provided none of it
    assert f"{r}README.html" not in names  # no renderer given


def test_manifest_lists_every_member_with_its_hash(tmp_path):
    result = build(tmp_path / "p.zip")
    files = members(result)
    index_bytes = files.pop(f"{REQ}/index.json")
    files.pop(f"{REQ}/index.json.sig")
    index = json.loads(index_bytes)
    assert [f["path"] for f in index["files"]] == sorted(files)
    for entry in index["files"]:
        data = files[entry["path"]]
        assert (entry["sha256"], entry["bytes"]) == (hashlib.sha256(data).hexdigest(), len(data)), entry["path"]
        if entry["path"].endswith(".json") and "/schema/" not in entry["path"]:
            assert entry["records"] == len(json.loads(data))
            assert entry["schema"] == entry["path"].replace(f"{REQ}/", f"{REQ}/schema/", 1)
            assert entry["schema"] in files
    assert index_bytes == json.dumps(index, sort_keys=True, ensure_ascii=False, indent=1).encode() + b"\n"
    assert hashlib.sha256(index_bytes).hexdigest() == result.manifest_sha256
    assert index["schema_version"] == 2
    assert (index["request_id"], index["controller"], index["language"]) == (REQ, "Esimerkki Oy", "fi")
    assert index["generated_at"] == "2025-03-14T09:26:53Z"
    assert index["record_counts"] == result.record_counts == {
        "crm": {"customer": 1, "empty": 0, "orders": 3}, "crm-eu": {"hostile": 8}, "support_mail": {"messages": 1}}
    assert index["redaction"] == {"emails": 2, "phones": 1}
    with zipfile.ZipFile(result.path) as zf:
        for entry in zf.infolist():
            assert entry.date_time == (2025, 3, 14, 9, 26, 52)  # DOS time has 2 s resolution
            assert entry.external_attr >> 16 == 0o100644


def test_signature_verifies_and_fails_on_any_change(tmp_path):
    files = members(build(tmp_path / "p.zip"))
    index, sig = files[f"{REQ}/index.json"], files[f"{REQ}/index.json.sig"]
    assert sig.endswith(b"\n") and sig.count(b"\n") == 1
    signature = base64.b64decode(sig[:-1], validate=True)  # the standard alphabet, padded
    assert len(signature) == 64
    verify(public_key(KEY), index, signature)
    with pytest.raises(InvalidSignature):
        verify(public_key(KEY), index.replace(b'"fi"', b'"en"'), signature)


def test_golden_manifest(tmp_path):
    """Known answer: this tiny package's index.json and signature, byte for byte. A deliberate format change
    (or a new openpyxl, whose bytes report.xlsx holds) rewrites the vector files: review their diff."""
    cats = [Category("crm", "customer", rows([{"email": "x@example.fi", "name": "Äijä", "n": 1}]), provided=True)]
    files = members(build_package(tmp_path / "p.zip", info(withheld=[{"source": "crm", "reason": "r"}]), cats, KEY,
                                  readme=lambda counts: b"<!doctype html><p>README</p>\n"))
    assert files[f"{REQ}/index.json"] == (VECTORS / "golden_index.json").read_bytes()
    assert files[f"{REQ}/index.json.sig"] == (VECTORS / "golden_index.json.sig").read_bytes()
    # The vector's hashes are those of the bytes the format promises, worked out here independently.
    listed = {f["path"].removeprefix(f"{REQ}/"): f["sha256"] for f in json.loads(files[f"{REQ}/index.json"])["files"]}
    data = json.dumps([{"email": "x@example.fi", "n": 1, "name": "Äijä"}], ensure_ascii=False, indent=1).encode()
    assert listed["data/crm/customer.json"] == listed["portability/crm/customer.json"] == sha256(data)
    csv_text = '\ufeff"Email","Name","N"\r\n"x@example.fi","Äijä","1"\r\n'
    assert listed["data/crm/customer.csv"] == sha256(csv_text.encode())
    assert listed["README.html"] == sha256(b"<!doctype html><p>README</p>\n")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_readme_is_given_the_counts_and_columns_and_listed(tmp_path):
    seen = []

    def readme(contents):
        seen.append(json.loads(json.dumps([contents.record_counts, contents.columns])))
        return "<p>Äö</p>".encode()

    result = build_package(tmp_path / "p.zip", info(), categories(), KEY, readme=readme)
    files = members(result)
    assert [counts for counts, _ in seen] == [result.record_counts]
    assert seen[0][1]["crm"]["orders"] == [["id", "Id"], ["status", "Status"], ["total_cents", "Total cents"]]
    assert files[f"{REQ}/README.html"] == "<p>Äö</p>".encode()
    index = json.loads(files[f"{REQ}/index.json"])
    entry = next(f for f in index["files"] if f["path"] == f"{REQ}/README.html")
    assert entry["sha256"] == hashlib.sha256("<p>Äö</p>".encode()).hexdigest()


def test_data_file_is_json_dumps_of_the_array(tmp_path):
    records: list[dict[str, Any]] = [{"b": "ä", "a": [1, {"z": None, "y": "x\ny"}]}, {}, {"n": 1.5}]
    files = members(build(tmp_path / "p.zip", [Category("crm", "customer", rows(records))]))
    assert files[f"{REQ}/data/crm/customer.json"].decode() == json.dumps(
        records, sort_keys=True, ensure_ascii=False, indent=1)
    assert "".join(json_array([])) == "[]"


def test_portability_holds_what_the_subject_provided(tmp_path):
    files = members(build(tmp_path / "p.zip"))
    assert json.loads(files[f"{REQ}/portability/crm/customer.json"]) == [
        {"email": "x@example.fi", "first_name": "Äijä", "city": "Hämeenlinna öö"}]
    assert files[f"{REQ}/portability/crm-eu/hostile.json"] == files[f"{REQ}/data/crm-eu/hostile.json"]


def test_mail_is_also_an_eml_message(tmp_path):
    import email
    import email.policy

    eml = members(build(tmp_path / "p.zip"))[f"{REQ}/data/support_mail/messages/000001.eml"]
    message = email.message_from_bytes(eml, policy=email.policy.default)
    assert message["Subject"] == "Tilaus ääkkösin"
    assert message["From"] == "x@example.fi"
    assert message["Date"] == "Mon, 06 May 2024 07:08:09 +0000"
    assert message.get_content() == "Hei,\nmissä tilaukseni on?\n"


def test_withheld_items_are_named_in_the_manifest(tmp_path):
    withheld: list[dict[str, Any]] = [{"source": "mail", "reason": "unparsed", "sha256": "b" * 64, "bytes": 10},
                {"source": "mail", "reason": "unparsed", "sha256": "a" * 64, "bytes": 20}]
    index = json.loads(members(build(tmp_path / "p.zip", withheld=withheld))[f"{REQ}/index.json"])
    assert index["withheld"] == sorted(withheld, key=lambda i: i["sha256"])


@pytest.mark.parametrize("request_id", ["REQ-", "req-abc", "REQ-../x", "REQ-a/b", "REQ-ä", "../REQ-A", "REQ-A\n"])
def test_hostile_request_id_rejected(tmp_path, request_id):
    with pytest.raises(ValueError, match="request id"):
        build(tmp_path / "p.zip", request_id=request_id)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("source", "category"),
    [("..", "x"), ("crm", "../../etc"), ("CRM", "x"), ("crm", "a/b"), ("crm", ""), ("-x", "y"),
     ("crm", "x.json"), ("crm", "x\n"), ("crm", "\\x"), ("crm", "a" * 64)],
)
def test_hostile_names_rejected(tmp_path, source, category):
    with pytest.raises(ValueError, match="name must match"):
        build(tmp_path / "p.zip", [Category(source, category, rows([]))])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"generated_at": datetime(2025, 1, 1)}, "timezone"), ({"language": "../x"}, "language")],
)
def test_bad_info_rejected(tmp_path, changes, message):
    with pytest.raises(ValueError, match=message):
        build(tmp_path / "p.zip", **changes)
    assert list(tmp_path.iterdir()) == []


def test_duplicate_category_rejected(tmp_path):
    with pytest.raises(ValueError, match="twice"):
        build(tmp_path / "p.zip", [Category("a", "b", rows([])), Category("a", "b", rows([]))])


def test_malformed_key_rejected_before_writing(tmp_path):
    with pytest.raises(ValueError, match="32 raw bytes"):
        build_package(tmp_path / "p.zip", info(), categories(), b"short")
    assert list(tmp_path.iterdir()) == []


def test_records_that_change_between_reads_are_refused(tmp_path):
    reads = []

    def records():
        reads.append(1)
        return iter([{"i": i} for i in range(len(reads))])

    with pytest.raises(ValueError, match="changed between two reads"):
        build(tmp_path / "p.zip", [Category("crm", "a", records)])
    assert list(tmp_path.iterdir()) == []


def test_crash_mid_build_keeps_the_previous_package(tmp_path):
    out = tmp_path / "p.zip"
    build(out)
    before = out.read_bytes()

    def failing():
        yield {"ok": 1}
        raise RuntimeError("source went away")

    with pytest.raises(RuntimeError, match="went away"):
        build(out, [Category("crm", "a", rows([{"x": 1}])), Category("crm", "b", failing)])
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.zip"]


def test_each_category_is_read_once_per_format(tmp_path):
    reads: list[str] = []

    def tracked(name):
        def records():
            reads.append(name)
            for i in range(2):
                yield {"i": i}
        return records

    # Given b before a: a is written first. Passes: inspect, JSON, CSV, then both in the workbook.
    build(tmp_path / "p.zip", [Category("s", "b", tracked("b")), Category("s", "a", tracked("a"))])
    assert reads == ["a", "a", "a", "b", "b", "b", "a", "b"]
