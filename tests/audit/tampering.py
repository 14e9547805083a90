"""What an attacker with the data directory and the stolen ledger key does to the ledger."""

from __future__ import annotations

import json

from sqlalchemy import Engine, delete, insert, select

from audit import signing
from audit.event import ZERO_HASH, Event, event_hash, parse_at
from audit.ledger import events_table


def rechain_without(engine: Engine, stolen_key: bytes, request_id: str) -> Event:
    """What a thief with the key does: delete one request's events, renumber and re-sign the rest; the new
    last event."""
    with engine.connect() as conn:
        rows = conn.execute(select(events_table).where(events_table.c.request_id != request_id)
                            .order_by(events_table.c.seq)).all()
    prev, rewritten = ZERO_HASH, []
    for seq, row in enumerate(rows, 1):
        detail = json.loads(row.detail)
        digest = event_hash(seq, parse_at(row.at), row.request_id, row.actor, row.action, detail, prev)
        sig = signing.sign(stolen_key, bytes.fromhex(digest)).hex()
        rewritten.append({**row._asdict(), "seq": seq, "prev_hash": prev, "hash": digest, "sig": sig})
        prev = digest
    with engine.begin() as conn:
        conn.execute(delete(events_table))
        conn.execute(insert(events_table), rewritten)
    last = rewritten[-1]
    return Event(last["seq"], parse_at(last["at"]), last["request_id"], last["actor"], last["action"],
                 json.loads(last["detail"]), last["prev_hash"], last["hash"], last["sig"])
