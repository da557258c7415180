"""The CLI against a private session bus: no daemon (exit 3), a hung daemon (exit 3), and a small fake
``org.tmuxorc.Monitor1`` that records calls and answers with values or contract errors (exit 0 / 1).

The fake runs on its own event loop in a thread; the CLI runs as a subprocess, as a user runs it.
"""

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from dbus_fast import DBusError, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusDict, DBusSignature, DBusStr
from dbus_fast.service import ServiceInterface, method, signal

from tmux_orc.demo.processes import start_bus
from tmux_orc.payloads import ExplainedFacts

ERROR = "org.tmuxorc.Monitor1.Error."
# dbus-fast reads D-Bus signatures from these annotations (evaluated: no postponed annotations here).
DBusDictList = Annotated[list[dict[str, Variant]], DBusSignature("aa{sv}")]
RecoverySignal = Annotated[list[Any], DBusSignature("ssbs")]


class FakeMonitor(ServiceInterface):
    """Enough of org.tmuxorc.Monitor1 for the CLI; no GetRollout, to exercise the fallback."""

    def __init__(self) -> None:
        super().__init__("org.tmuxorc.Monitor1")
        self.calls: list[tuple[str, Any]] = []
        self.stage = "off"
        self.hang = False
        self.recovery_succeeds = True
        self.since = time.time() - 65  # every agent's state began 65 s before this fake daemon started

    def _agents(self) -> list[dict[str, Variant]]:
        rows = [("demo:Claude-pm.0", "pm", "idle", ""), ("demo:Claude-qa.0", "qa", "crashed", "shell")]
        return [
            {
                "id": Variant("s", target),
                "target": Variant("s", target),
                "session": Variant("s", "demo"),
                "window": Variant("s", target.split(":")[1][:-2]),
                "pane_id": Variant("s", f"%{index}"),
                "role": Variant("s", role),
                "kind": Variant("s", "claude"),
                "state": Variant("s", state),
                "state_since": Variant("d", self.since),
                "detail": Variant("s", detail),
                "object_path": Variant("o", f"/org/tmuxorc/Monitor1/agents/a{index}"),
                "strategy": Variant("s", "polling"),
            }
            for index, (target, role, state, detail) in enumerate(rows)
        ]

    @method()
    async def GetStatus(self) -> DBusDict:
        self.calls.append(("GetStatus", None))
        if self.hang:
            await asyncio.sleep(30)
        return {
            "running": Variant("b", True),
            "rollout_stage": Variant("s", self.stage),
            "strategy": Variant("s", "polling"),
            "agents": Variant("u", 2),
            "cycles": Variant("t", 42),
            "uptime_s": Variant("d", 3725.0),
            "version": Variant("s", "0.1.0"),
        }

    @method()
    def ListAgents(self) -> DBusDictList:
        self.calls.append(("ListAgents", None))
        return self._agents()

    @method()
    def Explain(self, target: DBusStr) -> DBusDict:
        self.calls.append(("Explain", target))
        if target != "demo:Claude-qa.0":
            raise DBusError(ERROR + "NotFound", f"no agent matches {target!r}")
        return {
            "target": Variant("s", target),
            "state": Variant("s", "crashed"),
            "rule": Variant("s", "process.shell_in_foreground"),
            "evidence": Variant("as", ["bash-5.2$ "]),
            "facts": Variant("a{sv}", {"agent_pid": Variant("t", 0), "commands": Variant("as", ["bash"])}),
        }

    @method()
    def GetRolloutStage(self) -> DBusStr:
        return self.stage

    @method()
    def SetRolloutStage(self, stage: DBusStr) -> DBusStr:
        self.calls.append(("SetRolloutStage", stage))
        if stage not in {"off", "canary", "partial", "full"}:
            raise DBusError(ERROR + "InvalidArgument", f"unknown rollout stage {stage!r}")
        previous, self.stage = self.stage, stage
        return previous

    @method()
    def Recover(self, target: DBusStr, options: DBusDict) -> DBusStr:
        self.calls.append(("Recover", target))
        if target == "busy":
            raise DBusError(ERROR + "Busy", "a recovery of busy is already running")
        recovery_id = f"r{len(self.calls)}"
        # Report before the reply is even read: the CLI must have subscribed already.
        self.RecoveryFinished(
            recovery_id, target, self.recovery_succeeds, "respawned" if self.recovery_succeeds else "gave up"
        )
        return recovery_id

    @signal()
    def RecoveryFinished(self, recovery_id: str, target: str, success: bool, detail: str) -> RecoverySignal:
        return [recovery_id, target, success, detail]

    @method()
    def ReportEvent(self, target: DBusStr, event: DBusStr, details: DBusDict) -> None:
        self.calls.append(("ReportEvent", (target, event, {k: v.value for k, v in details.items()})))

    @method()
    def GetMetrics(self) -> DBusDict:
        return {
            "cycles": Variant("t", 42),
            "cycle_ms_p50": Variant("d", 1.5),
            "rss_bytes": Variant("t", 50 << 20),
        }

    @method()
    def Start(self) -> None:
        self.calls.append(("Start", None))

    @method()
    def Stop(self) -> None:
        self.calls.append(("Stop", None))

    @method()
    def Reload(self) -> None:
        raise DBusError(ERROR + "Failed", "cannot read config.toml: permission denied")


class FakeDaemon:
    """FakeMonitor published on a bus from a background thread."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.monitor = FakeMonitor()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._publish())
        self.ready.set()
        self.loop.run_forever()

    async def _publish(self) -> None:
        self.bus = await MessageBus(bus_address=self.address).connect()
        self.bus.export("/org/tmuxorc/Monitor1", self.monitor)
        await self.bus.request_name("org.tmuxorc.Monitor1")

    def __enter__(self) -> FakeMonitor:
        self.thread.start()
        assert self.ready.wait(10)
        return self.monitor

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.bus.disconnect)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def private_bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    bus, address = start_bus(tmp_path_factory.mktemp("bus"))
    yield address
    bus.stop()


@pytest.fixture()
def fake_daemon(private_bus: str) -> Iterator[FakeMonitor]:
    with FakeDaemon(private_bus) as monitor:
        yield monitor


def cli(
    *argv: str, address: str | None, stdin: str = "", timeout: float = 30, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "TMUX_PANE", "TMUX"}
    }
    if address is not None:
        environment["DBUS_SESSION_BUS_ADDRESS"] = address
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "tmux_orc.cli.main", *argv],
        input=stdin,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# --- the daemon is not reachable: exit 3 ------------------------------------------------------------


def test_no_session_bus_exits_3() -> None:
    done = cli("monitor", "status", address=None)
    assert done.returncode == 3
    assert "DBUS_SESSION_BUS_ADDRESS" in done.stderr
    assert "systemctl --user start tmux-orc" in done.stderr


def test_unreachable_bus_address_exits_3(tmp_path: Path) -> None:
    done = cli("agents", address=f"unix:path={tmp_path}/no-such-socket")
    assert done.returncode == 3
    assert done.stderr.startswith("error: cannot connect to the session bus")


def test_bus_without_daemon_exits_3(private_bus: str) -> None:
    for argv in (
        ["monitor", "status"],
        ["agents", "--json"],
        ["monitor", "rollout", "full"],
        ["explain", "%1"],
    ):
        done = cli(*argv, address=private_bus)
        assert done.returncode == 3, (argv, done.stderr)
        assert "not running" in done.stderr
        assert "systemctl --user start tmux-orc" in done.stderr
        assert done.stdout == ""


def test_hung_daemon_exits_3_within_the_timeout(fake_daemon: FakeMonitor, private_bus: str) -> None:
    fake_daemon.hang = True
    started = time.monotonic()
    done = cli("monitor", "status", address=private_bus, TMUX_ORC_CLI_TIMEOUT="1")
    assert done.returncode == 3
    assert "did not answer GetStatus() within 1 s" in done.stderr
    assert time.monotonic() - started < 10


# --- the daemon answers ---------------------------------------------------------------------------


def test_status_text_and_json(fake_daemon: FakeMonitor, private_bus: str) -> None:
    done = cli("monitor", "status", address=private_bus)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].split() == ["running:", "yes"]
    assert "1h (3725 s)" in done.stdout
    data = json.loads(cli("monitor", "status", "--json", address=private_bus).stdout)
    assert data["running"] is True and data["cycles"] == 42 and data["uptime_s"] == 3725.0


def test_agents_table_and_json(fake_daemon: FakeMonitor, private_bus: str) -> None:
    done = cli("agents", address=private_bus, COLUMNS="100")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["TARGET", "ROLE", "KIND", "STATE", "SINCE", "DETAIL"]
    assert lines[1].split() == ["demo:Claude-pm.0", "pm", "claude", "idle", "1m"]
    assert lines[2].split()[3:] == ["crashed", "1m", "shell"]
    listing = json.loads(cli("agents", "--json", address=private_bus).stdout)
    assert [agent["target"] for agent in listing] == ["demo:Claude-pm.0", "demo:Claude-qa.0"]
    assert listing[0]["object_path"] == "/org/tmuxorc/Monitor1/agents/a0"


def test_agents_watch_redraws_until_interrupted(fake_daemon: FakeMonitor, private_bus: str) -> None:
    environment = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": private_bus}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tmux_orc.cli.main", "agents", "--watch", "--interval", "0.3"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(2.0)
        proc.send_signal(2)  # Ctrl-C
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert out.count("TARGET  ") >= 3  # several frames
    assert "demo:Claude-qa.0" in out


def test_agents_watch_json_lines(fake_daemon: FakeMonitor, private_bus: str) -> None:
    environment = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": private_bus}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tmux_orc.cli.main", "agents", "--watch", "--json", "--interval", "0.3"],
        env=environment,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        second = json.loads(proc.stdout.readline())
    finally:
        proc.send_signal(2)
        proc.communicate(timeout=10)
    assert first == second and first[0]["target"] == "demo:Claude-pm.0"


def test_explain_and_not_found(fake_daemon: FakeMonitor, private_bus: str) -> None:
    done = cli("explain", "demo:Claude-qa.0", address=private_bus)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("demo:Claude-qa.0 is crashed")
    assert "    | bash-5.2$" in done.stdout
    # decoded as the daemon's payload class: what the daemon left out takes the field's default
    assert json.loads(cli("explain", "demo:Claude-qa.0", "--json", address=private_bus).stdout)["facts"] == {
        **ExplainedFacts().as_dict(), "agent_pid": 0, "commands": ["bash"]}
    missing = cli("explain", "nowhere", address=private_bus)
    assert missing.returncode == 1
    assert missing.stderr == "error: no agent matches 'nowhere' (NotFound)\n"


def test_rollout_set_show_and_invalid(fake_daemon: FakeMonitor, private_bus: str) -> None:
    done = cli("monitor", "rollout", "canary", address=private_bus)
    assert (done.returncode, done.stdout) == (0, "rollout stage: canary (was off)\n")
    data = json.loads(cli("monitor", "rollout", "partial", "--json", address=private_bus).stdout)
    assert data == {"stage": "partial", "previous": "canary"}
    # the fake has no GetRollout: the CLI builds the picture from GetRolloutStage/GetStatus/ListAgents
    shown = json.loads(cli("monitor", "rollout", "--json", address=private_bus).stdout)
    assert shown == {"stage": "partial", "strategy": "polling", "sessions": {"demo": "polling"}}
    bad = cli("monitor", "rollout", "sideways", address=private_bus)
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: unknown rollout stage 'sideways'")
    assert bad.stderr.rstrip().endswith("(InvalidArgument)")


def test_start_stop_and_a_failed_reload(fake_daemon: FakeMonitor, private_bus: str) -> None:
    assert cli("monitor", "start", address=private_bus).returncode == 0
    assert cli("monitor", "stop", address=private_bus).returncode == 0
    assert [name for name, _ in fake_daemon.calls] == ["Start", "Stop"]
    reload = cli("monitor", "reload", address=private_bus)
    assert reload.returncode == 1
    assert reload.stderr == "error: cannot read config.toml: permission denied (Failed)\n"


def test_metrics(fake_daemon: FakeMonitor, private_bus: str) -> None:
    done = cli("monitor", "metrics", address=private_bus)
    assert done.returncode == 0
    assert "50.0 MiB" in done.stdout
    assert json.loads(cli("monitor", "metrics", "--json", address=private_bus).stdout)["cycles"] == 42


def test_recover_wait_success_failure_and_busy(fake_daemon: FakeMonitor, private_bus: str) -> None:
    started = cli("monitor", "recover", "demo:Claude-pm.0", address=private_bus)
    assert started.returncode == 0 and "started for demo:Claude-pm.0" in started.stdout
    waited = cli("monitor", "recover", "demo:Claude-pm.0", "--wait", "--timeout", "10", address=private_bus)
    assert waited.returncode == 0, waited.stderr
    assert "succeeded: respawned" in waited.stdout
    fake_daemon.recovery_succeeds = False
    failed = cli("monitor", "recover", "demo:Claude-pm.0", "--wait", "--timeout", "10", address=private_bus)
    assert failed.returncode == 1
    assert "failed: gave up" in failed.stderr
    busy = cli("monitor", "recover", "busy", address=private_bus)
    assert (busy.returncode, busy.stderr) == (1, "error: a recovery of busy is already running (Busy)\n")


# --- hooks never fail -----------------------------------------------------------------------------


def test_hook_reports_event_with_string_details(fake_daemon: FakeMonitor, private_bus: str) -> None:
    payload = {
        "session_id": "abc123",
        "hook_event_name": "Notification",
        "message": "Claude needs your permission to use Bash",
        "cwd": "/work/project",
        "stop_hook_active": False,
        "nested": {"ignored": True},
    }
    done = cli("hook", "Notification", address=private_bus, stdin=json.dumps(payload), TMUX_PANE="%7")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert fake_daemon.calls == [
        (
            "ReportEvent",
            (
                "%7",
                "Notification",
                {
                    "session_id": "abc123",
                    "hook_event_name": "Notification",
                    "message": "Claude needs your permission to use Bash",
                    "cwd": "/work/project",
                    "stop_hook_active": "false",
                },
            ),
        )
    ]


def test_hook_with_empty_or_odd_input(fake_daemon: FakeMonitor, private_bus: str) -> None:
    assert cli("hook", "Stop", address=private_bus, TMUX_PANE="%1").returncode == 0
    assert cli("hook", "Stop", address=private_bus, stdin="not json", TMUX_PANE="%1").returncode == 0
    huge = json.dumps({"message": "x" * 200_000})
    assert cli("hook", "Stop", address=private_bus, stdin=huge, TMUX_PANE="%1").returncode == 0
    details = [call[1][2] for call in fake_daemon.calls]
    assert details[0] == {}
    assert details[1] == {"input": "not json"}
    assert details[2] == {"message": "x" * 2000}  # parsed (up to 1 MiB), each value kept short


def test_hook_exits_0_with_a_warning_when_the_daemon_is_down(private_bus: str, tmp_path: Path) -> None:
    for address in (private_bus, f"unix:path={tmp_path}/gone", None):
        done = cli("hook", "Notification", address=address, stdin='{"message": "hi"}', TMUX_PANE="%1")
        assert done.returncode == 0
        assert done.stdout == ""
        assert done.stderr.startswith("tmux-orc hook: Notification not reported:")
        assert done.stderr.count("\n") == 1


def test_hook_outside_tmux(private_bus: str) -> None:
    done = cli("hook", "Stop", address=private_bus)
    assert (done.returncode, done.stdout) == (0, "")
    assert "TMUX_PANE" in done.stderr
