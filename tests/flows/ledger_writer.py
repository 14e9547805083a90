"""One process appending to a ledger with its checkpoint: `python -m tests.flows.ledger_writer URL KEY FILE N TAG`."""

import sys
from pathlib import Path

from audit.ledger import Ledger
from audit.signing import load_private_key, public_key
from flows.checkpoint import CheckpointAnchor
from flows.store import make_engine


def append(url: str, key: bytes, checkpoint: Path, count: int, tag: str) -> None:
    """`count` events of request `tag`, each anchored in `checkpoint`."""
    engine = make_engine(url)
    ledger = Ledger(engine, key, [CheckpointAnchor(checkpoint, public_key(key))])
    for n in range(count):
        ledger.append_event(tag, "dsar", "stage_done", {"n": n})
    engine.dispose()


if __name__ == "__main__":
    url, key, path, count, tag = sys.argv[1:]
    append(url, load_private_key(key), Path(path), int(count), tag)
