"""Rollout stages over real sessions: bucketing, a failing plugin rolled back, promotion, persistence."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.harness.bus import wait_until
from tests.harness.daemon import DaemonProcess
from tests.harness.signals import SignalRecorder
from tests.harness.tmux import TmuxTestServer

STANDIN = str(Path(__file__).resolve().parents[1] / "harness" / "bin" / "claude")
StartDaemon = Callable[..., DaemonProcess]

try:
    import tmux_orc_example_strategy  # noqa: F401

    HAVE_EXAMPLE = True
except ImportError:
    HAVE_EXAMPLE = False
needs_example = pytest.mark.skipif(not HAVE_EXAMPLE, reason="examples/strategy-plugin is not installed "
                                   "(scripts/setup installs it with TMUX_ORC_SETUP_TEST_DEPS=1)")


def sessions(tmux: TmuxTestServer, count: int) -> list[str]:
    names = [f"proj{n:02d}" for n in range(count)]
    for name in names:
        tmux.new_session(name, "Claude-developer", f"bash --norc --noprofile -c '{STANDIN} idle; exec bash'")
    return names


def strategy_by_session(d: DaemonProcess) -> dict[str, str]:
    return {a["session"]: a["strategy"] for a in d.agents()}


def settle(d: DaemonProcess, count: int) -> None:
    wait_until(lambda: len(d.agents()) == count, timeout=30, what=f"{count} agents")
    cycles = d.call("GetStatus")[0]["cycles"]
    wait_until(lambda: d.call("GetStatus")[0]["cycles"] >= cycles + 2, what="two more cycles")


def test_stages_assign_sessions_stably(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    names = sessions(tmux_srv, 20)
    d = daemon(tmux_srv, rollout_auto="false", rollout_stage="off")
    settle(d, 20)
    assert set(strategy_by_session(d).values()) == {"polling"}
    d.call("SetRolloutStage", "s", "canary")
    settle(d, 20)
    canary = {s for s, strat in strategy_by_session(d).items() if strat == "concurrent"}
    assert len(canary) == 2  # ceil(0.1 * 20)
    for _ in range(3):
        settle(d, 20)
        assert {s for s, strat in strategy_by_session(d).items() if strat == "concurrent"} == canary
    d.call("SetRolloutStage", "s", "partial")
    settle(d, 20)
    partial = {s for s, strat in strategy_by_session(d).items() if strat == "concurrent"}
    assert len(partial) == 10 and canary <= partial
    d.call("SetRolloutStage", "s", "full")
    settle(d, 20)
    assert set(strategy_by_session(d).values()) == {"concurrent"}
    info = d.call("GetRollout")[0]
    assert info["stage"] == "full" and set(info["sessions"]) == set(names)
    assert all(a["state"] == "idle" for a in d.agents())  # both strategies read the same truth


@needs_example
def test_failing_plugin_is_rolled_back_and_agents_keep_state(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    sessions(tmux_srv, 6)
    d = daemon(tmux_srv, strategy_plugins='["example-broken", "example-invalid", "missing-one"]',
               new_strategy="example-broken", rollout_canary_fraction=0.34, rollout_stage="off")
    settle(d, 6)
    before = {a["id"]: (a["state"], a["state_since"]) for a in d.agents()}
    assert all(state == "idle" for state, _ in before.values())
    with SignalRecorder(d.address) as signals:
        d.call("SetRolloutStage", "s", "canary")
        change = signals.wait_for("RolloutStageChanged", lambda b: b[0] == "canary" and b[1] == "off")
        assert "rolled back" in change[2] and "error rate" in change[2]
        signals.wait_for("Alert", lambda b: "rollout canary -> off" in b[1])
    assert d.call("GetRolloutStage") == ["off"]
    after = {a["id"]: (a["state"], a["state_since"]) for a in d.agents()}
    assert after == before  # the agents the broken strategy watched never lost their state
    time.sleep(1.0)
    assert d.call("GetRolloutStage") == ["off"]  # frozen: no promotion until an operator sets a stage
    log = d.log()
    assert "rolled back" in log
    assert "'example-invalid'" in log and "refused" in log and "'missing-one'" in log


@needs_example
def test_healthy_plugin_is_promoted_stage_by_stage(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    sessions(tmux_srv, 4)
    d = daemon(tmux_srv, strategy_plugins='["example"]', new_strategy="example", rollout_promote_after=4,
               rollout_stage="off")
    settle(d, 4)
    with SignalRecorder(d.address) as signals:
        d.call("SetRolloutStage", "s", "canary")
        signals.wait_for("RolloutStageChanged", lambda b: b[:2] == ["canary", "partial"] and "promoted" in b[2])
        signals.wait_for("RolloutStageChanged", lambda b: b[:2] == ["partial", "full"])
    wait_until(lambda: set(strategy_by_session(d).values()) == {"example"}, what="every session on the plugin")


def test_stage_survives_restart(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    sessions(tmux_srv, 2)
    d = daemon(tmux_srv, rollout_auto="false")
    d.call("SetRolloutStage", "s", "partial")
    d.stop()
    d2 = daemon(tmux_srv, rollout_auto="false")
    assert d2.call("GetRolloutStage") == ["partial"]
