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


@pytest.fixture
def own_store_config(tmp_path):
    """make(demo, warning_days): a config for a prepared demo company (`prepare_demo`) with a store, an outbox and a
    `[notify]` of the test's own, so tests share the company's data and nothing else."""
    from flows.demo.run import write_demo_config

    def make(demo, warning_days: int) -> Path:
        text = write_demo_config(demo, "http://127.0.0.1:9/3.0").read_text(encoding="utf-8")
        text = text.replace('url = "sqlite:///dsar.db"', f'url = "sqlite:///{tmp_path}/dsar.db"')
        text = text.replace('outbox = "outbox"', f'outbox = "{tmp_path}/outbox"')
        path = demo.workdir / f"dsar-{tmp_path.name}.toml"
        path.write_text(text + f'\n[notify]\nteam_email = "tiimi@demokauppa.example"\n'
                               f'deadline_warning_days = {warning_days}\n', encoding="utf-8")
        return path

    return make
