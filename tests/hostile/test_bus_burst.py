"""Bursts of D-Bus calls: the daemon keeps its bus connection and answers every call (issue 13)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tests.harness.bus import PrivateBus, name_has_owner
from tests.harness.daemon import DaemonProcess
from tests.harness.tmux import TmuxTestServer
from tests.hostile.faults_helpers import burst, team
from tmux_orc.service import names

StartDaemon = Callable[..., DaemonProcess]
ROUNDS = 3
CLIENTS = 50
CALLS = 40


def test_bursts_of_parallel_calls_leave_the_daemon_up(tmux_srv: TmuxTestServer, daemon: StartDaemon,
                                                      session_bus: PrivateBus) -> None:
    team(tmux_srv)
    d = daemon(tmux_srv)
    d.wait_state("team:0.0", "idle")
    for round_no in range(ROUNDS):
        outcomes = asyncio.run(burst(session_bus.address, CLIENTS, CALLS))
        assert sum(outcomes.values()) == CLIENTS * CALLS
        # a reply or a contract error (Busy when the limits are reached); no bus error: the daemon answers
        assert all(name == "ok" or name.startswith(names.ERROR_PREFIX) for name in outcomes), (round_no, outcomes)
        assert d.proc is not None and d.proc.poll() is None, f"round {round_no}: daemon exited\n{d.log()[-3000:]}"
        assert name_has_owner(session_bus.address), (outcomes, d.log()[-2000:])
        assert outcomes["ok"] > 0, outcomes
    assert "lost the session bus connection" not in d.log()
    assert d.call("GetStatus")[0]["running"] is True
    assert len(d.agents()) == 8
