"""The whole org.tmuxorc.Monitor1 surface against the live daemon, over a private bus and tmux."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus

from tests.harness.bus import BusctlError, busctl, gdbus_call, name_has_owner, raw_call, wait_until
from tests.harness.daemon import DaemonProcess
from tests.harness.tmux import TmuxTestServer
from tmux_orc import busnames as names

STANDIN = str(Path(__file__).resolve().parents[1] / "harness" / "bin" / "claude")

StartDaemon = Callable[..., DaemonProcess]


def team(tmux: TmuxTestServer, session: str = "team") -> dict[str, str]:
    """A PM and a developer running the stand-in agent under a shell, plus a plain shell window."""
    pm = tmux.new_session(session, "Claude-pm", f"bash --norc --noprofile -c '{STANDIN} idle; exec bash --norc'")
    dev = tmux.new_window(session, "Claude-developer", f"bash --norc --noprofile -c '{STANDIN} working; exec bash'")
    tmux.new_window(session, "notes", "bash --norc --noprofile")
    return {"pm": pm, "dev": dev}


STRATEGY_OF_STAGE = {"off": "polling", "full": "concurrent"}


@pytest.mark.parametrize("stage", ["off", "full"])
def test_status_and_agents(tmux_srv: TmuxTestServer, daemon: StartDaemon, stage: str) -> None:
    panes = team(tmux_srv)
    d = daemon(tmux_srv, rollout_stage=stage, rollout_auto="false")
    status = d.call("GetStatus")[0]
    for key in ("running", "rollout_stage", "strategy", "agents", "cycles", "last_cycle_ms", "tmux_connected",
                "uptime_s", "version"):
        assert key in status, key
    assert status["running"] is True and status["tmux_connected"] is True
    pm = d.wait_state("team:0.0", "idle")
    dev = d.wait_state("team:1.0", "working")
    assert pm["role"] == "pm" and pm["kind"] == "claude" and pm["pane_id"] == panes["pm"]
    assert pm["window"] == "Claude-pm" and pm["session"] == "team"
    assert pm["object_path"] == names.agent_path("team:0.0")
    assert dev["role"] == "developer"
    assert pm["strategy"] == dev["strategy"] == STRATEGY_OF_STAGE[stage]
    assert {a["target"] for a in d.agents()} == {"team:0.0", "team:1.0"}  # the plain shell is no agent
    # GetAgent by every accepted form of target
    for target in ("team:0.0", "team:0", "team:Claude-pm", panes["pm"]):
        assert d.agent(target)["id"] == "team:0.0"
    assert d.call("GetStatus")[0]["agents"] == 2


def test_errors_have_contract_names(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    team(tmux_srv)
    d = daemon(tmux_srv)
    cases = [
        (("GetAgent", "'nosuch:9'"), "NotFound"),
        (("SetRolloutStage", "'sideways'"), "InvalidArgument"),
        (("Recover", "'nosuch:1'", "{}"), "NotFound"),
        (("ReportEvent", "'team:0.0'", "'bad event!'", "{}"), "InvalidArgument"),
        (("GetAgent", "''"), "InvalidArgument"),
    ]
    for (method, *args), error in cases:
        proc = gdbus_call(d.address, method, *args)
        assert proc.returncode != 0, (method, proc.stdout)
        assert f"{names.ERROR_PREFIX}{error}" in proc.stderr, (method, proc.stderr)
    # wrong argument types never reach the method: the contract's InvalidArgument, not UnknownMethod
    assert raw_call(d.address, "GetAgent", "i", [42]) == (names.ERROR_INVALID_ARGUMENT, ["GetAgent takes (s), not (i)"])
    assert raw_call(d.address, "SetRolloutStage", "")[0] == names.ERROR_INVALID_ARGUMENT
    assert raw_call(d.address, "Recover", "ss", ["team:0.0", "x"])[0] == names.ERROR_INVALID_ARGUMENT
    with pytest.raises(BusctlError, match="rollout stage"):
        busctl(d.address, "call", names.BUS_NAME, names.OBJECT_PATH, names.INTERFACE, "SetRolloutStage", "s", "x")


def test_rollout_start_stop_and_properties(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    team(tmux_srv)
    d = daemon(tmux_srv)
    assert d.call("GetRolloutStage") == ["full"]  # a fresh install watches every session with the new strategy
    assert d.call("SetRolloutStage", "s", "canary") == ["full"]
    assert d.call("GetRolloutStage") == ["canary"]
    prop = busctl(d.address, "get-property", names.BUS_NAME, names.OBJECT_PATH, names.INTERFACE, "RolloutStage")
    assert prop.strip() == 's "canary"'
    d.call("Stop")
    assert d.call("GetStatus")[0]["running"] is False
    time.sleep(0.5)  # a cycle already running when Stop arrived may still finish
    cycles = d.call("GetStatus")[0]["cycles"]
    time.sleep(1.0)
    assert d.call("GetStatus")[0]["cycles"] == cycles  # no cycle runs while stopped
    assert "NotRunning" in gdbus_call(d.address, "Recover", "'team:0.0'", "{}").stderr
    d.call("Start")
    wait_until(lambda: d.call("GetStatus")[0]["cycles"] > cycles, what="cycles to resume")
    for prop_name, sig in (("Running", "b"), ("AgentCount", "u"), ("LastCycleMs", "d"), ("TmuxConnected", "b"),
                           ("Version", "s")):
        out = busctl(d.address, "get-property", names.BUS_NAME, names.OBJECT_PATH, names.INTERFACE, prop_name)
        assert out.startswith(sig + " "), (prop_name, out)
    metrics = d.call("GetMetrics")[0]
    for key in ("cycle_ms_p50", "cycle_ms_p95", "cycle_ms_max", "cycles", "rss_bytes"):
        assert key in metrics


def test_explain_and_report_event(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    panes = team(tmux_srv)
    d = daemon(tmux_srv)
    d.wait_state("team:0.0", "idle")
    why = d.call("Explain", "s", "team:0.0")[0]
    assert why["state"] == "idle" and why["rule"] and why["facts"]["kind"] == "claude"
    d.call("ReportEvent", "ssa{sv}", panes["pm"], "Notification", "1", "message", "s", "needs your permission")
    assert d.call("Explain", "s", panes["pm"])[0]["hook_events"][0].startswith("Notification@")


def test_agent_objects_appear_and_vanish_with_signals(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    team(tmux_srv)
    d = daemon(tmux_srv)
    d.wait_state("team:0.0", "idle")
    seen: list[tuple[str, str, list[Any]]] = []

    async def watch() -> None:
        bus = await MessageBus(bus_address=d.address, bus_type=BusType.SESSION).connect()
        for rule in (f"type='signal',sender='{names.BUS_NAME}'",):
            await bus.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                                   interface="org.freedesktop.DBus", member="AddMatch", signature="s", body=[rule]))

        def on_message(msg: Message) -> None:
            if msg.message_type is MessageType.SIGNAL:
                seen.append((msg.path or "", msg.member or "", list(msg.body)))

        bus.add_message_handler(on_message)
        await asyncio.to_thread(tmux_srv.new_window, "team", "Claude-qa", f"bash --norc -c '{STANDIN} idle; exec bash'")
        await asyncio.to_thread(d.wait_state, "team:3.0", "idle")
        managed = await bus.call(Message(destination=names.BUS_NAME, path=names.OBJECT_PATH,
                                         interface="org.freedesktop.DBus.ObjectManager", member="GetManagedObjects"))
        assert managed is not None and names.agent_path("team:3.0") in managed.body[0]
        await asyncio.to_thread(tmux_srv.run, "kill-window", "-t", "team:3")
        await asyncio.to_thread(wait_until, lambda: all(a["target"] != "team:3.0" for a in d.agents()))
        await asyncio.sleep(0.3)
        bus.disconnect()

    asyncio.run(watch())
    members = [(p, m) for p, m, _ in seen]
    qa_path = names.agent_path("team:3.0")
    assert (names.OBJECT_PATH, "InterfacesAdded") in members
    assert (names.OBJECT_PATH, "AgentAppeared") in members
    assert (names.OBJECT_PATH, "InterfacesRemoved") in members
    assert (names.OBJECT_PATH, "AgentVanished") in members
    added = [b for p, m, b in seen if m == "InterfacesAdded"]
    assert any(b[0] == qa_path for b in added)
    assert any(m == "AgentStateChanged" and b[0] == "team:3.0" for _, m, b in seen)
    assert any(m == "PropertiesChanged" and p == names.OBJECT_PATH for p, m, _ in seen)


def test_second_instance_refuses_and_introspection_matches(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    team(tmux_srv)
    d = daemon(tmux_srv)
    second = daemon(tmux_srv, wait=False)
    assert second.proc is not None and second.proc.wait(20) == 1
    assert "already owns org.tmuxorc.Monitor1" in second.log()
    assert name_has_owner(d.address)
    xml = busctl(d.address, "introspect", "--xml-interface", names.BUS_NAME, names.OBJECT_PATH)
    expected = Path(__file__).resolve().parents[2] / "packaging" / "dbus" / "org.tmuxorc.Monitor1.xml"
    from tests.harness.introspection import interface_xml

    assert interface_xml(xml, names.INTERFACE) == expected.read_text(), (
        "packaging/dbus/org.tmuxorc.Monitor1.xml differs from the live service: "
        "run `python -m tests.harness.introspection` to regenerate it"
    )


@pytest.mark.parametrize("stage", ["off", "full"])
def test_tmux_server_restart_keeps_agent_state(tmux_srv: TmuxTestServer, daemon: StartDaemon, stage: str) -> None:
    team(tmux_srv)
    d = daemon(tmux_srv, rollout_stage=stage, rollout_auto="false")
    before = d.wait_state("team:0.0", "idle")
    tmux_srv.kill()
    wait_until(lambda: d.call("GetStatus")[0]["tmux_connected"] is False, what="TmuxConnected false")
    assert {a["id"] for a in d.agents()} == {"team:0.0", "team:1.0"}  # kept while tmux is away
    team(tmux_srv)
    wait_until(lambda: d.call("GetStatus")[0]["tmux_connected"] is True, what="TmuxConnected true")
    after = d.wait_state("team:0.0", "idle")
    assert after["state_since"] == before["state_since"]
    assert after["strategy"] == STRATEGY_OF_STAGE[stage]


def test_reload_rereads_config_and_keeps_running_settings_when_invalid(tmux_srv: TmuxTestServer,
                                                                      daemon: StartDaemon) -> None:
    team(tmux_srv)
    d = daemon(tmux_srv)
    del d.env["TMUX_ORC_INTERVAL"]  # let the config file decide (env wins over the file)
    d.stop()
    config = Path(d.env["XDG_CONFIG_HOME"]) / "tmux-orc" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("interval = 0.4\n")
    d.start()
    assert d.call("GetStatus")[0]["interval_s"] == 0.4
    config.write_text("interval = 0.7\nstuck_after = 120\n")
    d.call("Reload")
    assert d.call("GetStatus")[0]["interval_s"] == 0.7
    config.write_text("interval = 'often'\n")
    proc = gdbus_call(d.address, "Reload")
    assert names.ERROR_INVALID_ARGUMENT in proc.stderr and "TMUX_ORC_INTERVAL" in proc.stderr
    assert d.call("GetStatus")[0]["interval_s"] == 0.7  # the running settings stay
    config.write_text("intervall = 1\n")
    proc = gdbus_call(d.address, "Reload")
    assert "unknown setting" in proc.stderr
    assert "reload refused" in d.log()


def test_prometheus_text_file_is_written_each_cycle(tmux_srv: TmuxTestServer, daemon: StartDaemon,
                                                    tmp_path: Path) -> None:
    team(tmux_srv)
    metrics_file = tmp_path / "textfile" / "tmux_orc.prom"
    metrics_file.parent.mkdir()
    d = daemon(tmux_srv, metrics_file=metrics_file)
    d.wait_state("team:0.0", "idle")
    text = wait_until(lambda: metrics_file.exists() and 'state="idle"' in metrics_file.read_text()
                      and metrics_file.read_text(), what="the Prometheus file")
    assert "# TYPE tmux_orc_cycles_total counter" in text or "tmux_orc_cycles" in text
    assert all(line.startswith(("#", "tmux_orc_")) for line in text.splitlines() if line)


def test_starting_then_unknown_when_no_screen_is_recognised(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    tmux_srv.new_session("team", "Claude-dev", f"bash --norc -c '{STANDIN} blank'")
    d = daemon(tmux_srv, starting_after=3)
    assert d.wait_state("team:0.0", "starting")["kind"] == "claude"
    unknown = d.wait_state("team:0.0", "unknown", timeout=15)
    assert unknown["kind"] == "claude"
