"""Per-source concurrency limits and retries, as Prefect runs them.

A source with `concurrency = N` is extracted by at most N tasks at once over
every worker of the Prefect server, through the global concurrency limit
`dsar-source-<name>`; a source without it is not limited. The extract task
acquires its slot strictly (a missing limit is an error, not a free pass), so
`ensure_concurrency_limits` must have created the limits first.
"""

from __future__ import annotations

from typing import Any

from flows.config import Config, SourceSpec


def limit_name(source: str) -> str:
    """The name of a source's global concurrency limit in Prefect."""
    return f"dsar-source-{source}"


def concurrency_limits(config: Config) -> dict[str, int]:
    """Each limited source's limit name and slot count."""
    return {limit_name(s.name): s.run.concurrency for s in config.sources if s.run.concurrency is not None}


def ensure_concurrency_limits(config: Config) -> int:
    """Create each configured limit in Prefect, or set its slot count to the config's; how many there are.

    Idempotent: a limit already as configured costs one read. An operator's
    decision to deactivate a limit in the Prefect UI is left alone.
    """
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectAlreadyExists

    limits = concurrency_limits(config)
    if not limits:
        return 0
    with get_client(sync_client=True) as client:
        for name, slots in limits.items():
            try:
                client.upsert_global_concurrency_limit_by_name(name, slots)
            except ObjectAlreadyExists:  # another worker created it between our read and our create
                client.upsert_global_concurrency_limit_by_name(name, slots)
    return len(limits)


def retry_options(spec: SourceSpec) -> dict[str, Any]:
    """The extract task's retry options for one source: exponential backoff, with jitter when configured."""
    from prefect.tasks import exponential_backoff

    run = spec.run
    return {
        "retries": run.retries,
        "retry_delay_seconds": exponential_backoff(run.retry_backoff_seconds)(run.retries),
        "retry_jitter_factor": run.retry_jitter or None,
    }
