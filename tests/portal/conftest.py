"""A portal on the demo company's config, served by uvicorn on loopback; runs are recorded, not started."""

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from flows.demo.run import prepare_demo, write_demo_config
from flows.portal.app import make_app
from flows.portal.server import serving
from flows.runtime import Runtime
from tests.flows.delivered import clocked_runtime


@pytest.fixture(scope="module")
def portal_config(tmp_path_factory):
    company, _ = prepare_demo(tmp_path_factory.mktemp("portal") / "demo")
    return write_demo_config(company, "http://127.0.0.1:9/3.0")


@dataclass
class Portal:
    rt: Runtime
    url: str
    started: list[str] = field(default_factory=list)


@pytest.fixture
def portal(portal_config) -> Iterator[Portal]:
    rt = clocked_runtime(portal_config)
    started: list[str] = []
    with serving(make_app(rt, start=started.append)) as url:
        yield Portal(rt, url, started)
