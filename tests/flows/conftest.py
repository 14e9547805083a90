from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def demo(prefect_api, tmp_path_factory):
    """One demo request run end to end through Prefect, shared by the modules that read it (a run costs ~15 s).

    Tests that change it work on a copy of its workdir.
    """
    from flows.demo.run import run_demo

    workdir = tmp_path_factory.mktemp("e2e") / "demo"
    result = run_demo(workdir)
    return result, Path(prefect_api)
