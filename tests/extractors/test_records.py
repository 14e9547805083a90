"""The shared record model and its JSON-lines staging."""

import pytest

from extractors.records import Record, read_jsonl, write_jsonl


def test_records_round_trip_through_jsonl(tmp_path):
    records = [Record("crm", "customer", "1", {"name": "Äö", "n": [1, None]}, provided=True, about_subject=True),
               Record("mail", "messages", "m", {})]
    assert write_jsonl(tmp_path / "x.jsonl", iter(records)) == 2
    assert list(read_jsonl(tmp_path / "x.jsonl")) == records


def test_a_failing_stream_leaves_no_file(tmp_path):
    def failing():
        yield Record("crm", "customer", "1", {"email": "aino@example.fi"})
        raise OSError("source went away")

    with pytest.raises(OSError):
        write_jsonl(tmp_path / "x.jsonl", failing())
    assert list(tmp_path.iterdir()) == []
