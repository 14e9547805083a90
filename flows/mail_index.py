"""`dsar index mail`: build or update the address index of every mail source of a config."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from extractors.mail.index import BuildStats, Progress
from extractors.mail.source import MailSource
from flows.config import load_config
from flows.errors import DsarError

MAIL_KINDS = ("mail", "mbox")


def index_mail_sources(config: Path, only: str | None = None,
                       progress: Callable[[str], Progress] | None = None) -> Iterator[tuple[str, BuildStats]]:
    """Update the index of each mail source (or of the one named `only`); yields its name and what was done.

    `progress(name)` gives the callback that is told how many messages were read so far.
    """
    loaded = load_config(config)
    specs = [spec for spec in loaded.sources if spec.kind in MAIL_KINDS and only in (None, spec.name)]
    if not specs:
        raise DsarError(f"no mail source{f' named {only!r}' if only else ''} in {config}")
    for spec in specs:
        # The class the flow's `mail` and `mbox` kinds load: the same code builds the index and reads it.
        source = MailSource(spec.name, spec.settings, loaded.base_dir, loaded.environ)
        yield spec.name, source.update_index(progress(spec.name) if progress else None)
