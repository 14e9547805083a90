"""Reading Prefect's storage back, the way an operator could, to look for personal data."""

import sqlite3
from pathlib import Path


def find_in_database(db_path: Path, needles: list[str]) -> list[str]:
    """Every table and column of a SQLite file where one of `needles` occurs (case-insensitive)."""
    lowered = [n.lower() for n in needles]
    hits = []
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]
            for row in db.execute(f'SELECT * FROM "{table}"'):
                for column, value in zip(columns, row, strict=True):
                    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                    hits += [f"{table}.{column}" for n in lowered if n in text.lower()]
    return hits


def find_in_files(root: Path, needles: list[str]) -> list[str]:
    """Every file under `root` holding one of `needles` (case-insensitive, UTF-8)."""
    lowered = [n.lower().encode("utf-8") for n in needles]
    return [
        str(path) for path in sorted(root.rglob("*"))
        if path.is_file() and any(n in path.read_bytes().lower() for n in lowered)
    ]


def table_count(db_path: Path, table: str) -> int:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        return db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


def drain_prefect() -> None:
    """Wait until logs and events queued in this process have reached Prefect's database."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    EventsWorker.drain_all(timeout=30, at_exit=False)
