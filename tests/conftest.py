"""Shared test fixtures for leafml.

External tools: a test that needs executables declares them with the
`requires_tools` marker, e.g. `@pytest.mark.requires_tools("cc")` (or a
module-level `pytestmark`).  A missing tool skips the test with the reason
and the install command, unless LEAFML_REQUIRE_TOOLCHAIN=1 (set by CI), where
a missing tool fails it: CI must never pass by skipping the ladder's rungs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from leafml.firmware import ToolchainMissing, find_tool

REQUIRE_TOOLCHAIN_ENV = "LEAFML_REQUIRE_TOOLCHAIN"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requires_tools(*names): skip the test if an executable is missing "
        f"(fail instead when {REQUIRE_TOOLCHAIN_ENV}=1)",
    )


def skip_or_fail(reason: str) -> None:
    """Skip the running test, or fail it when LEAFML_REQUIRE_TOOLCHAIN=1."""
    if os.environ.get(REQUIRE_TOOLCHAIN_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_TOOLCHAIN_ENV}=1)", pytrace=False)
    pytest.skip(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in item.iter_markers(name="requires_tools"):
        for name in marker.args:
            try:
                find_tool(name)
            except ToolchainMissing as missing:
                skip_or_fail(str(missing))


SHARED_DATA_ENV = "LEAFML_REQUIRE_SHARED_DATA"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data` (reference models and data sets, never part of the
    product): skip without it, or fail when LEAFML_REQUIRE_SHARED_DATA=1 (CI)."""
    if not SHARED_DATA.is_dir():
        reason = f"reference data folder {SHARED_DATA} is absent (it sits beside a developer checkout)"
        if os.environ.get(SHARED_DATA_ENV) == "1":
            pytest.fail(f"{reason} ({SHARED_DATA_ENV}=1)", pytrace=False)
        pytest.skip(reason)
    return SHARED_DATA
