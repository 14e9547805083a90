"""Reading Prefect's storage back, the way an operator could, to look for personal data.

Prefect keeps a failed task's exception as a base64-encoded pickle (under
PREFECT_HOME/storage even with persist_result=False), so every file and cell is
searched as it is and, where it is base64, decoded.
"""

import base64
import contextlib
import sqlite3
from pathlib import Path


def _readings(data: bytes) -> list[bytes]:
    readings = [data.lower()]
    with contextlib.suppress(ValueError):  # not base64
        readings.append(base64.b64decode(b"".join(data.split()), validate=True).lower())
    return readings


def _holds(data: bytes, needles: list[str]) -> list[str]:
    readings = _readings(data)
    return [n for n in needles if any(n.lower().encode("utf-8") in r for r in readings)]


def find_in_database(db_path: Path, needles: list[str]) -> list[str]:
    """Every table and column of a SQLite file where one of `needles` occurs (case-insensitive)."""
    hits = []
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]
            for row in db.execute(f'SELECT * FROM "{table}"'):
                for column, value in zip(columns, row, strict=True):
                    data = value if isinstance(value, bytes) else str(value).encode("utf-8")
                    hits += [f"{table}.{column}" for _ in _holds(data, needles)]
    return hits


def find_in_files(root: Path, needles: list[str]) -> list[str]:
    """Every file under `root` holding one of `needles` (case-insensitive, UTF-8, also inside base64)."""
    return [str(path) for path in sorted(root.rglob("*")) if path.is_file() and _holds(path.read_bytes(), needles)]


def table_count(db_path: Path, table: str) -> int:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        return db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


def drain_prefect() -> None:
    """Wait until logs and events queued in this process have reached Prefect's database."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    EventsWorker.drain_all(timeout=30, at_exit=False)
