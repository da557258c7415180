"""ConcurrentStrategy and list_panes against a real, private tmux server per test."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.aio import run_async
from tmux_orc.core.strategy import MonitoringStrategy
from tmux_orc.model import PaneInfo
from tmux_orc.tmux.concurrent import ConcurrentStrategy, list_panes
from tmux_orc.tmux.control import ControlClient, TmuxTimeout
from tmux_orc.tmux.runner import clean_environment

ANIMATE = 'i=0; while :; do i=$((i+1)); printf "\\r%s working" "$i"; sleep 0.3; done'
STATIC = "echo static screen; exec sleep 600"


class PrivateTmux:
    """A tmux server of our own on a socket under tmp_path; killed by its socket."""

    def __init__(self, socket: Path) -> None:
        self.socket = str(socket)

    def tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-S", self.socket, *args],
            capture_output=True,
            text=True,
            env=clean_environment(),
            timeout=10,
            check=True,
        ).stdout


@pytest.fixture
def tmux_agents(tmp_path: Path) -> Iterator[PrivateTmux]:
    """Window 0 animates a counter; windows 1 and 2 show a static screen."""
    srv = PrivateTmux(tmp_path / "sock")
    srv.tmux("-f", "/dev/null", "new-session", "-d", "-s", "team", "-n", "anim", ANIMATE)
    srv.tmux("new-window", "-d", "-n", "static1", STATIC)
    srv.tmux("new-window", "-d", "-n", "static2", STATIC)
    yield srv
    srv.tmux("kill-server")


async def wait_next_second() -> None:
    await asyncio.sleep(1.0 - time.time() % 1.0 + 0.05)


async def cycle(
    client: ControlClient, strategy: ConcurrentStrategy, full: bool = False
) -> tuple[list[PaneInfo], set[str]]:
    panes = await list_panes(client)
    result = await strategy.capture(panes, full=full)
    assert not result.errors
    return panes, set(result.screens)


def test_satisfies_the_strategy_protocol() -> None:
    strategy = ConcurrentStrategy(ControlClient("/nonexistent"), 1.0)
    assert isinstance(strategy, MonitoringStrategy) and strategy.name == "concurrent"


@run_async
async def test_list_panes(tmux_agents: PrivateTmux) -> None:
    async with ControlClient(tmux_agents.socket) as client:
        panes = await list_panes(client)
    assert [(p.pane_id, p.session, p.window_name) for p in panes] == [
        ("%0", "team", "anim"),
        ("%1", "team", "static1"),
        ("%2", "team", "static2"),
    ]
    assert all(p.pane_pid > 0 and p.window_activity > 0 for p in panes)


@run_async
async def test_captures_only_changed_panes(tmux_agents: PrivateTmux) -> None:
    async with ControlClient(tmux_agents.socket) as client:
        strategy = ConcurrentStrategy(client, 2.0)
        _, first = await cycle(client, strategy)
        assert first == {"%0", "%1", "%2"}
        # static panes settle once a capture lands in a later second than their last output
        await wait_next_second()
        await cycle(client, strategy)
        for _ in range(3):
            await wait_next_second()
            _, captured = await cycle(client, strategy)
            assert captured == {"%0"}
        _, everything = await cycle(client, strategy, full=True)
        assert everything == {"%0", "%1", "%2"}
        # typing into a static pane, or retitling one, makes it captured again
        await client.command("send-keys -t %1 -l hello")
        await client.command("select-pane -t %2 -T 'new title'")
        await asyncio.sleep(0.2)
        _, captured = await cycle(client, strategy)
        assert {"%1", "%2"} <= captured


@run_async
async def test_screens_equal_the_tmux_command_line(tmux_agents: PrivateTmux) -> None:
    async with ControlClient(tmux_agents.socket) as client:
        strategy = ConcurrentStrategy(client, 2.0)
        panes = await list_panes(client)
        result = await strategy.capture([p for p in panes if p.pane_id != "%0"], full=True)
    for pane_id in ("%1", "%2"):
        assert result.screens[pane_id] == tmux_agents.tmux("capture-pane", "-p", "-t", pane_id)
        assert result.screens[pane_id].startswith("static screen\n")


@run_async
async def test_vanished_panes_error_and_are_forgotten(tmux_agents: PrivateTmux) -> None:
    async with ControlClient(tmux_agents.socket) as client:
        strategy = ConcurrentStrategy(client, 2.0)
        panes, _ = await cycle(client, strategy)
        tmux_agents.tmux("kill-pane", "-t", "%2")
        result = await strategy.capture(panes, full=False)  # a stale list still names %2
        assert "%2" in result.errors and "%2" not in result.screens
        await cycle(client, strategy)
        assert set(strategy._seen) <= {"%0", "%1"}


@run_async
async def test_reconnect_to_another_server_forgets_everything(tmux_agents: PrivateTmux) -> None:
    async with ControlClient(tmux_agents.socket) as client:
        strategy = ConcurrentStrategy(client, 2.0)
        await cycle(client, strategy)
        await wait_next_second()
        await cycle(client, strategy)
        await client.close()
        await client.start()  # pane ids of a new server may name other panes
        _, captured = await cycle(client, strategy)
        assert captured == {"%0", "%1", "%2"}


class OneHungPane(ControlClient):
    """A client on which captures of %1 never get an answer."""

    async def command(self, cmd: str, timeout: float | None = None) -> list[str]:
        if cmd.endswith("'%1'"):
            await asyncio.sleep(timeout or 1.0)
            raise TmuxTimeout("no reply")
        return await super().command(cmd, timeout)


@run_async
async def test_one_hung_pane_does_not_stall_the_cycle(tmux_agents: PrivateTmux) -> None:
    async with OneHungPane(tmux_agents.socket) as client:
        strategy = ConcurrentStrategy(client, 0.3)
        panes = await list_panes(client)
        t0 = time.monotonic()
        result = await strategy.capture(panes, full=True)
        assert time.monotonic() - t0 < 1.0
    assert set(result.screens) == {"%0", "%2"}
    assert "timed out" in result.errors["%1"]


@run_async
async def test_disconnected_client_reports_errors(tmux_agents: PrivateTmux) -> None:
    client = ControlClient(tmux_agents.socket)
    await client.start()
    panes = await list_panes(client)
    await client.close()
    result = await ConcurrentStrategy(client, 1.0).capture(panes, full=False)
    assert set(result.errors) == {"%0", "%1", "%2"} and not result.screens
