from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine

from audit.ledger import Ledger
from audit.signing import generate_key

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def key():
    return generate_key()


@pytest.fixture
def ledger(engine, key):
    return Ledger(engine, key)


@pytest.fixture
def filled(ledger):
    """Six events over two requests, one second apart."""
    for i in range(6):
        ledger.append_event(
            f"REQ-{i % 2 + 1}", "flow:fulfil_request", "stage_done",
            {"stage": f"step{i}", "records": i * 10, "sources": ["crm", "support_mail"]},
            at=T0 + timedelta(seconds=i),
        )
    return ledger
