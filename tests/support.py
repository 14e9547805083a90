"""Helpers shared by the tests."""

import os
import shutil

import pytest


def missing(what: str):
    """Skip because `what` is not here; in CI (DSAR_REQUIRE_SERVICES=1) fail instead."""
    if os.environ.get("DSAR_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what} is required in CI (DSAR_REQUIRE_SERVICES=1) but missing")
    pytest.skip(f"{what} is not available here")


def need_command(name: str) -> str:
    """The path of a command-line tool the test needs."""
    path = shutil.which(name)
    if path is None:
        missing(f"the `{name}` command")
    return path
