"""``tmux-orc demo``: a private tmux server, session bus and daemon watching simulated agents, shown live.

Everything lives in one temporary directory and is started by this process, which holds the PIDs and
stops exactly those at the end (and the demo's own tmux server, by its socket). The user's tmux server
and session bus are never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Protocol, TextIO, TypeVar

from tmux_orc.client import DaemonUnreachable, MonitorClient
from tmux_orc.demo.processes import (
    ManagedProcess,
    child_environment,
    start_bus,
    start_process,
    tmux_server_pid,
)
from tmux_orc.demo.scripts import team

NAME_WAIT_SECONDS = 30.0
REFRESH_SECONDS = 1.0
PANE_WIDTH, PANE_HEIGHT = 120, 40
AGENTS_PER_SESSION = 3
SIM_NAME = "claude-sim"
MAX_BASE_DIR_BYTES = 60  # + "/tmux-orc-demo-XXXXXXXX/dbus-XXXXXXXXXX" stays under the 107-byte limit


class AgentsView(Protocol):
    """Shows the daemon's agents live until ``duration`` ends (the CLI passes its ``watch_agents``)."""

    async def __call__(
        self, client: MonitorClient, out: TextIO, *, interval: float, duration: float | None, banner: Sequence[str]
    ) -> None: ...


class DemoStopped(Exception):
    """SIGTERM or SIGHUP asked the demo to end."""


class DemoFailed(Exception):
    """A part of the demo could not start; the message says which and where to look."""


class Demo:
    """The running demo's parts, in one temporary directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "tmux.sock"
        self.bin_dir = root / "bin"
        self.project_dir = root / "project"
        self.state_dir = root / "state"
        self.daemon_log = root / "daemon.log"
        self.bus: ManagedProcess | None = None
        self.bus_address = ""
        self.daemon: ManagedProcess | None = None
        self.tmux_pid: int | None = None
        self.tmux_env: dict[str, str] = child_environment()

    # --- starting -------------------------------------------------------------------------------
    def write_simulator(self) -> Path:
        """``bin/claude-sim``: an executable whose name makes the process tree look like Claude Code."""
        self.bin_dir.mkdir(mode=0o700)
        package_parent = Path(__file__).resolve().parents[2]
        script = self.bin_dir / SIM_NAME
        script.write_text(
            f"#!{sys.executable}\n"
            "import sys\n"
            f"sys.path.insert(0, {str(package_parent)!r})\n"
            "from tmux_orc.demo.agent_sim import main\n"
            "sys.exit(main())\n",
            encoding="utf-8",
        )
        script.chmod(0o700)
        return script

    def start_bus(self) -> None:
        self.bus, self.bus_address = start_bus(self.root)

    def start_tmux(self, agent_count: int) -> list[tuple[str, str, str]]:
        """Start the demo's tmux server with one window per agent; return (session, window, pane id)."""
        self.project_dir.mkdir(mode=0o700)
        self.tmux_env = child_environment(
            PATH=f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            DBUS_SESSION_BUS_ADDRESS=self.bus_address,  # tmux-orc typed in a demo pane asks the demo daemon
        )
        panes: list[tuple[str, str, str]] = []
        for index, (window, script) in enumerate(team(agent_count)):
            session = f"demo-{chr(ord('a') + index // AGENTS_PER_SESSION)}"
            shell = "bash --norc --noprofile"
            if index == 0:
                pane = self.tmux(
                    "new-session", "-d", "-s", session, "-n", window, "-x", str(PANE_WIDTH),
                    "-y", str(PANE_HEIGHT), "-c", str(self.project_dir), "-P", "-F", "#{pane_id}", shell,
                )  # fmt: skip
                self.tmux_pid = tmux_server_pid(self.socket)
            elif index % AGENTS_PER_SESSION == 0:
                pane = self.tmux(
                    "new-session", "-d", "-s", session, "-n", window, "-x", str(PANE_WIDTH),
                    "-y", str(PANE_HEIGHT), "-c", str(self.project_dir), "-P", "-F", "#{pane_id}", shell,
                )  # fmt: skip
            else:
                pane = self.tmux(
                    "new-window", "-d", "-t", f"={session}:", "-n", window, "-c", str(self.project_dir),
                    "-P", "-F", "#{pane_id}", shell,
                )  # fmt: skip
            command = shlex.join([str(self.bin_dir / SIM_NAME), "--script", script, "--cwd", str(self.project_dir)])
            self.tmux("send-keys", "-t", pane, "-l", command)
            self.tmux("send-keys", "-t", pane, "Enter")
            panes.append((session, window, pane))
        return panes

    def tmux(self, *args: str) -> str:
        argv = ["tmux", "-S", str(self.socket), "-f", "/dev/null", *args]
        try:
            done = subprocess.run(argv, env=self.tmux_env, capture_output=True, text=True, timeout=10, check=False)
        except subprocess.TimeoutExpired:
            raise DemoFailed(f"tmux did not answer: {shlex.join(argv)}") from None
        if done.returncode != 0:
            raise DemoFailed(f"tmux failed ({shlex.join(args[:1])}): {done.stderr.strip()}")
        return done.stdout.strip()

    def start_daemon(self, simulator: Path) -> None:
        config_file = self.root / "config.toml"
        config_file.write_text("# the demo daemon ignores your own config.toml\n", encoding="utf-8")
        env = child_environment(
            drop_prefix="TMUX_ORC_",
            DBUS_SESSION_BUS_ADDRESS=self.bus_address,
            TMUX_ORC_TMUX_SOCKET=str(self.socket),
            TMUX_ORC_STATE_DIR=str(self.state_dir),
            TMUX_ORC_INTERVAL="1",
            TMUX_ORC_DESKTOP_NOTIFICATIONS="false",
            TMUX_ORC_LOG_FORMAT="text",
            TMUX_ORC_CONFIG_FILE=str(config_file),
            TMUX_ORC_PM_SPAWN_COMMAND=f"{simulator} --script pm",  # never a real agent from the demo
        )
        command = [
            sys.executable,
            "-c",
            "import sys; from tmux_orc.service.daemon import main; sys.exit(main())",
        ]
        self.daemon = start_process(command, env=env, stderr_path=self.daemon_log, name="tmux-orcd")

    async def wait_for_daemon(self) -> None:
        deadline = time.monotonic() + NAME_WAIT_SECONDS
        async with MonitorClient(address=self.bus_address, timeout=5.0) as client:
            while not await client.name_has_owner():
                if self.daemon is not None and self.daemon.exited():
                    raise DemoFailed(f"the demo daemon exited at start\n{self.log_tail()}")
                if time.monotonic() > deadline:
                    raise DemoFailed(f"the demo daemon did not appear on the bus\n{self.log_tail()}")
                await asyncio.sleep(0.2)

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.daemon_log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return f"(no daemon log at {self.daemon_log})"
        tail = text.splitlines()[-lines:]
        return f"last lines of {self.daemon_log}:\n" + "\n".join(f"  {line}" for line in tail)

    # --- stopping -------------------------------------------------------------------------------
    def stop_all(self) -> None:
        """Stop what this demo started, newest first: daemon, tmux server, bus; then the directory."""
        if self.daemon is not None:
            self.daemon.stop()
        self.stop_tmux()
        if self.bus is not None:
            self.bus.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def stop_tmux(self) -> None:
        if self.socket.exists():
            with contextlib.suppress(DemoFailed, OSError):
                self.tmux("kill-server")
        if self.tmux_pid is None:
            return
        deadline = time.monotonic() + 3.0
        while _pid_alive(self.tmux_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _pid_alive(self.tmux_pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.tmux_pid, signal.SIGKILL)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is as good as gone
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def make_demo_directory() -> Path:
    """A fresh private directory in ``$TMPDIR``, or in /tmp when ``$TMPDIR`` is too long a path for the
    unix sockets that live inside it (about 100 bytes is all a socket path may have)."""
    base = tempfile.gettempdir()
    if len(os.fsencode(base)) > MAX_BASE_DIR_BYTES:
        base = "/tmp"
    return Path(tempfile.mkdtemp(prefix="tmux-orc-demo-", dir=base))


def intro_lines(demo: Demo, agent_count: int) -> list[str]:
    quoted_address = shlex.quote(demo.bus_address)
    return [
        f"tmux-orc demo: {agent_count} simulated agents in a private tmux, watched by a private tmux-orcd",
        f"  look at the agents:   tmux -S {demo.socket} attach",
        f"  ask the demo daemon:  DBUS_SESSION_BUS_ADDRESS={quoted_address} tmux-orc monitor status",
        f"  daemon log:           {demo.daemon_log}",
        "  Ctrl-C ends the demo and stops everything it started.",
        "",
    ]


T = TypeVar("T")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise DemoStopped(signal.Signals(signum).name)


@contextlib.contextmanager
def _stop_on_termination() -> Iterator[None]:
    previous = {sig: signal.signal(sig, _raise_stop) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


async def _stoppable(work: Awaitable[T]) -> T:
    """Await ``work``; SIGTERM or SIGHUP cancels it and raises :class:`DemoStopped`.

    Inside the event loop the signal goes through the loop: an exception raised by a plain signal handler
    can land in one of the loop's callbacks, which logs it and goes on (seen on a loaded machine: the
    demo kept running after SIGTERM)."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    stopped: list[str] = []

    def stop(sig: signal.Signals) -> None:
        stopped.append(sig.name)
        task.cancel()

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop, sig)
    try:
        return await work
    except asyncio.CancelledError:
        if stopped:
            raise DemoStopped(stopped[0]) from None
        raise
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
            signal.signal(sig, _raise_stop)  # back to the handler outside the loop


async def _show_agents(
    demo: Demo, view: AgentsView, out: TextIO, duration: float | None, banner: Sequence[str]
) -> None:
    async with MonitorClient(address=demo.bus_address) as client:
        await view(client, out, interval=REFRESH_SECONDS, duration=duration, banner=banner)


def run_demo(*, agent_count: int, duration: float | None, out: TextIO, view: AgentsView) -> int:
    """Start the demo, show it with ``view`` until Ctrl-C or ``duration`` seconds, stop it. Exit status 0 or 1."""
    missing = [tool for tool in ("tmux", "dbus-daemon", "bash") if shutil.which(tool) is None]
    if missing:
        print(f"error: the demo needs {', '.join(missing)} (not found on PATH)", file=sys.stderr)
        return 1
    demo = Demo(make_demo_directory())
    status = 0
    try:
        with _stop_on_termination():
            simulator = demo.write_simulator()
            demo.start_bus()
            demo.start_tmux(agent_count)
            demo.start_daemon(simulator)
            asyncio.run(_stoppable(demo.wait_for_daemon()))
            intro = intro_lines(demo, agent_count)
            if not out.isatty():  # a terminal gets the intro on every frame; a log gets it once
                print("\n".join(intro), file=out, flush=True)
            asyncio.run(_stoppable(_show_agents(demo, view, out, duration, intro if out.isatty() else ())))
    except (KeyboardInterrupt, DemoStopped):
        pass
    except (DemoFailed, DaemonUnreachable, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        if not isinstance(exc, DemoFailed) and demo.daemon is not None and demo.daemon.exited():
            print(demo.log_tail(), file=sys.stderr)
        status = 1
    finally:
        previous_sigint = signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the cleanup finish
        try:
            demo.stop_all()
        finally:
            signal.signal(signal.SIGINT, previous_sigint)
    print("demo stopped; everything it started is gone.", file=out, flush=True)
    return status
