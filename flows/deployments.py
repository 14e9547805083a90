"""dsar's Prefect deployments: one per flow, all on one process work pool.

`infra/prefect.yaml` declares the same deployments for `prefect deploy`
(a test keeps the two in step); `dsar worker` applies them itself, so the
embedded default needs no separate deploy step.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect import Flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.deployments.runner import EntrypointType
from prefect.exceptions import ObjectAlreadyExists
from prefect.schedules import Cron, Interval, Schedule

from flows.config import load_config
from flows.fulfil import deadline_watch, expire_packages, fulfil_request

POOL = "dsar"


@dataclass(frozen=True)
class Deployment:
    flow: Flow[..., Any]
    interval_seconds: int | None = None
    cron: str | None = None  # in the controller's time zone

    def schedules(self, time_zone: str) -> list[Schedule]:
        """The deployment's schedules; a cron runs by the clock of `time_zone` (`[controller] time_zone`)."""
        if self.interval_seconds:
            return [Interval(self.interval_seconds)]
        return [Cron(self.cron, timezone=time_zone)] if self.cron else []

    @property
    def name(self) -> str:
        return self.flow.name


DEPLOYMENTS = (
    Deployment(fulfil_request),
    Deployment(expire_packages, interval_seconds=3600),
    Deployment(deadline_watch, cron="0 7 * * *"),  # before the working day: the digest is waiting at 07:00
)


def flows_by_name() -> dict[str, Flow[..., Any]]:
    return {d.name: d.flow for d in DEPLOYMENTS}


def deployment_name(flow_name: str) -> str:
    """The `flow/deployment` name Prefect knows a deployment by: each flow's deployment carries its name."""
    return f"{flow_name}/{flow_name}"


async def ensure_pool(pool: str = POOL) -> None:
    """Create the process work pool unless it exists; a pool made by `prefect work-pool create` is kept as is."""
    from prefect.workers.process import ProcessWorker

    async with get_client() as client:
        with contextlib.suppress(ObjectAlreadyExists):
            await client.create_work_pool(WorkPoolCreate(
                name=pool, type="process", base_job_template=ProcessWorker.get_default_base_job_template()))


async def apply_deployments(config_path: Path, pool: str = POOL) -> dict[str, UUID]:
    """Register (or update) every deployment on `pool`, each run finding its config at `config_path`.

    Only the config's path goes to Prefect: secrets stay in the worker's environment or the config's
    `env_file`, named by the config, so no key is ever stored in Prefect's database.
    """
    job_variables = {"env": {"DSAR_CONFIG": str(config_path)}}
    # The daily runs follow the controller's clock: the digest is waiting at 07:00 where the team is.
    time_zone = load_config(config_path).controller.time_zone
    applied = {}
    for deployment in DEPLOYMENTS:
        runner = await deployment.flow.ato_deployment(
            name=deployment.name, work_pool_name=pool, job_variables=job_variables,
            entrypoint_type=EntrypointType.MODULE_PATH,
            schedules=deployment.schedules(time_zone),
            tags=["dsar"], description=deployment.flow.description,
        )
        applied[deployment.name] = await runner.aapply()
    return applied
