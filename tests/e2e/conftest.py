"""End-to-end suite under a real, private ``systemd --user``.

It runs only with ``TMUX_ORC_E2E=1`` (never against a developer's own user manager): it creates
``/run/systemd/system``, may start systemd-journald, and boots its own manager in a temp dir.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.e2e.e2e_harness import UserManager, booted_manager, missing_prerequisites

E2E_ENV = "TMUX_ORC_E2E"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    reason = None
    if os.environ.get(E2E_ENV) != "1":
        reason = f"end-to-end tests boot a real systemd --user; set {E2E_ENV}=1 to run them (CI only)"
    elif missing := missing_prerequisites():
        reason = "end-to-end prerequisites missing: " + ", ".join(missing)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.e2e)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def user_manager() -> Iterator[UserManager]:
    """A private systemd --user with its own bus, shared by the whole e2e session."""
    with booted_manager() as manager:
        yield manager
