"""Redaction logs nothing that a message holds: no value of the labelled corpus reaches a log line."""

import json
import logging
from pathlib import Path

from extractors.records import Subject
from redaction.message import redact_message
from redaction.policy import Policy

DEV = Path(__file__).resolve().parents[1] / "corpus" / "dev"


def test_no_corpus_value_in_any_log_record(caplog):
    labels = [json.loads(line) for line in (DEV / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    with caplog.at_level(logging.DEBUG):
        for label in labels:
            subject = Subject(label["subject"]["email"], label["subject"]["name"])
            redact_message((DEV / label["file"]).read_bytes(), subject, Policy(staff=tuple(label["policy"]["staff"])))
    logged = "\n".join(record.getMessage() for record in caplog.records) + caplog.text
    values = {span["text"] for label in labels for span in label["spans"] if span["role"] != "decoy"}
    assert len(values) > 500
    assert not [value for value in values if value in logged]
