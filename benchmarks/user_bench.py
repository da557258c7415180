"""The whole daemon as a user runs it, on default settings: CPU, change-to-signal latency, cycle, memory.

Run: ``.venv/bin/python benchmarks/user_bench.py [--agents 10,50,100,200,500] [--quick]``

For each team size, a private tmux server runs simulated Claude Code agents (the demo's screens): 40%
animate a spinner whose loop runs a short tool (``sleep 0.2``, a new process every 0.2 s), 60% sit at
their prompt. A fresh ``tmux-orcd`` with default settings (only its tmux socket, bus, state and config
directories pointed at private ones) watches them, and the script measures from the outside:

- CPU: the daemon's user+system time over the window, its reaped children's and its live children's
  (the control-mode ``tmux -C`` clients), plus the tmux server's CPU above its baseline (the mean of a
  window of the same length before the daemon starts and one after it stops); as a share of one core.
- change-to-signal: a static agent draws a permission dialog at a random moment; the time from drawing
  it to ``AgentStateChanged`` with ``new_state`` ``waiting_input`` on the bus (p50 / p95). And the same
  for a working agent whose spinner stops and a dialog is drawn in its place (the agent asks mid-work).
- cycle: the daemon's full-cycle time (``LastCycleMs`` of each cycle of the window, from
  PropertiesChanged), against the floor measured in the same run (one control-mode client listing every
  pane and capturing all of them, pipelined, as ``cycle_bench.py`` does).
- memory: the daemon's RSS, and its growth per agent over the smallest size of the run.
- ``GetStatus`` p99 while it monitors, beside two floors measured in turn with it: ``Ping`` p99 (the
  daemon's event loop answers it without tmux-orc's code) and ``bus floor`` p99 (the bus answers
  itself), so that what the host's load costs every call is told apart from what the daemon adds.
- the cycle with 2,000 extra idle processes on the host (the median of the cycles with them against
  the median of those without, in ``PROCESS_ROUNDS`` alternated rounds of ``--loaded-cycles`` cycles
  each, and one more round without).

``--code DIR,DIR`` runs the daemon from other checkouts (``DIR`` holds a ``tmux_orc`` package; ``.``
is this one), interleaved on the same agents, ``--repeat`` times each: before/after comparisons on a
shared machine. ``DIR@key=value`` runs it with a setting changed (``.@spinner_hold=0``). The medians
per size and checkout follow the table of every run.

Measuring starts once the daemon runs steadily: every agent seen and, unless the stage is ``off``, the
rollout stage proven healthy (``promote_after`` cycles, after which the legacy cross-check samples one
pane every ten cycles). ``--quick`` skips that wait.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cycle_bench import Bench, measure_naive, percentile, print_table, tmux_version
from daemon_bench import add_growth_per_agent, call, rss_kb
from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus

from tmux_orc.demo.screens import PANE_TITLE, SPINNER_GLYPHS, SimScreen, render
from tmux_orc.service import names
from tmux_orc.service.variants import unwrap
from tmux_orc.tmux.control import ControlClient, quote

WIDTH, HEIGHT = 120, 40
TOOL_EVERY = 0.2  # seconds between the animating agents' tool runs (and spinner frames)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- the simulated agents -----------------------------------------------------------------------------
def write_screens(workdir: Path) -> tuple[int, dict[str, Path]]:
    """The demo's idle / working / permission screens as files a shell can ``cat``; the spinner's row."""
    frames = {
        "idle": SimScreen(),
        "working": SimScreen(phase="working", spinner_verb="Thinking"),
        "dialog": SimScreen(phase="permission", permission_command="npm test",
                            permission_reason="Run the test suite"),
    }
    paths: dict[str, Path] = {}
    spinner_row = 1
    for name, screen in frames.items():
        lines = render(screen, WIDTH, HEIGHT)
        if name == "working":
            spinner_row = next(i for i, line in enumerate(lines) if "Thinking" in line) + 1
        path = workdir / f"{name}.ans"
        path.write_text(f"\033]0;{PANE_TITLE}\007\033[H\033[2J" + "\r\n".join(lines), encoding="utf-8")
        paths[name] = path
    return spinner_row, paths


def animating(index: int) -> bool:
    return index % 5 < 2  # 40%


def agent_command(index: int, workdir: Path, spinner_row: int, screens: dict[str, Path]) -> str:
    """Agent ``index``: a spinner redrawn every 0.2 s around a ``sleep 0.2`` tool (that stops and draws a
    permission dialog while its flag file exists), or a static prompt that draws the screen a line on
    its FIFO names (``dialog`` or ``idle``)."""
    if animating(index):
        glyphs = " ".join(SPINNER_GLYPHS)
        flag, drawn, working = (quote(str(p)) for p in (workdir / f"flag-{index}", workdir / f"drawn-{index}",
                                                         screens["working"]))
        body = (  # while the flag file exists the spinner stops and the dialog stays (the time it is drawn noted)
            f"cat {working}; i=0; set -- {glyphs}; "
            f"while :; do if [ -e {flag} ]; then date +%s.%N > {drawn}; cat {quote(str(screens['dialog']))}; "
            f"while [ -e {flag} ]; do sleep 0.1; done; cat {working}; fi; "
            "i=$((i+1)); n=$(( i % $# + 1 )); eval g=\\${$n}; "
            f"printf '\\033[{spinner_row};1H%s Thinking… (%ds · ↓ %d tokens)\\033[K' "
            f'"$g" $((i/5)) $((i*7)); sleep {TOOL_EVERY}; done'
        )
    else:
        fifo = workdir / f"fifo-{index}"
        os.mkfifo(fifo)
        body = (  # the line names the screen: a probe that timed out cannot put later ones out of step
            f"cat {quote(str(screens['idle']))}; "
            f"while :; do read x < {quote(str(fifo))}; case $x in "
            f"dialog) cat {quote(str(screens['dialog']))};; *) cat {quote(str(screens['idle']))};; esac; done"
        )
    return f"exec -a claude-bench sh -c {quote(body)}"


async def grow(bench: Bench, agents: int, workdir: Path, spinner_row: int, screens: dict[str, Path]) -> None:
    """Add agents (window ``Claude-a<N>`` each) until there are ``agents``."""
    def command(i: int) -> str:
        return agent_command(i, workdir, spinner_row, screens)

    if bench.agents == 0:
        bench.tmux("-f", "/dev/null", "new-session", "-d", "-s", "bench", "-n", "Claude-a0",
                   "-x", str(WIDTH), "-y", str(HEIGHT), command(0))
        bench.tmux("set", "-g", "remain-on-exit", "off")
        bench.server_pid = int(bench.tmux("display", "-p", "#{pid}").strip())
        await bench.client.start()
        bench.agents = 1
    for start in range(bench.agents, agents, 50):
        await asyncio.gather(*(
            bench.client.command(f"new-window -d -n {quote(f'Claude-a{i}')} {quote(command(i))}", 20)
            for i in range(start, min(agents, start + 50))
        ))
    bench.agents = agents
    await asyncio.sleep(1.5)


# --- measuring from the outside -------------------------------------------------------------------------
def _stat_fields(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rfind(")") + 2 :].split()


def own_ticks(pid: int) -> int:
    """utime + stime of one process."""
    f = _stat_fields(pid)
    return int(f[11]) + int(f[12])


def tree_ticks(pid: int) -> int:
    """utime + stime + reaped children of ``pid``, plus the same for its live descendants."""
    try:
        f = _stat_fields(pid)
    except OSError:
        return 0
    total = sum(int(x) for x in f[11:15])
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        total += sum(tree_ticks(int(c)) for c in children)
    return total


@dataclass
class Watcher:
    """Signals of the daemon on the private bus: state changes and cycle times."""

    bus: MessageBus
    changes: list[tuple[float, str, str]] = field(default_factory=list)  # (time, window index, new_state)
    cycles: list[float] = field(default_factory=list)  # LastCycleMs values, one per PropertiesChanged

    async def start(self) -> None:
        for rule in (f"type='signal',interface='{names.INTERFACE}',member='AgentStateChanged'",
                     f"type='signal',path='{names.OBJECT_PATH}',interface='org.freedesktop.DBus.Properties'"):
            await self.bus.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                                        interface="org.freedesktop.DBus", member="AddMatch", signature="s",
                                        body=[rule]))
        self.bus.add_message_handler(self._on_message)

    def _on_message(self, msg: Message) -> None:
        if msg.message_type is not MessageType.SIGNAL:
            return
        if msg.member == "AgentStateChanged":
            target = str(msg.body[1])
            window = target.split(":", 1)[-1].rsplit(".", 1)[0]
            self.changes.append((time.monotonic(), window, str(msg.body[3])))
        elif msg.member == "PropertiesChanged" and msg.path == names.OBJECT_PATH:
            changed = msg.body[1]
            if "LastCycleMs" in changed:
                self.cycles.append(float(unwrap(changed["LastCycleMs"])))

    async def wait_change(self, window: str, state: str, since: float, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, name, new in self.changes:
                if at >= since and name == window and new == state:
                    return at
            await asyncio.sleep(0.01)
        return None


async def start_daemon(workdir: Path, socket: str, address: str, size: int,
                       code: str = ".") -> tuple[subprocess.Popen[bytes], Path]:
    state = workdir / f"state-{size}-{time.monotonic_ns()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX_ORC_")}
    code, *settings = code.split("@")  # DIR@key=value@...: that checkout with these settings
    for setting in settings:
        key, _, value = setting.partition("=")
        env[f"TMUX_ORC_{key.upper()}"] = value
    if code != ".":
        env["PYTHONPATH"] = str(Path(code).resolve())  # ahead of the editable install of this checkout
    env.update(DBUS_SESSION_BUS_ADDRESS=address, XDG_CONFIG_HOME=str(workdir / "config"),
               XDG_STATE_HOME=str(workdir / "xdg-state"), TMUX_ORC_TMUX_SOCKET=socket,
               TMUX_ORC_STATE_DIR=str(state))
    env.pop("JOURNAL_STREAM", None)
    log = workdir / f"daemon-{size}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(Path(sys.executable).with_name("tmux-orcd"))], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    return proc, log


async def wait_ready(bus: MessageBus, size: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = await bus.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                                       interface="org.freedesktop.DBus", member="NameHasOwner", signature="s",
                                       body=[names.BUS_NAME]))
        if reply is not None and reply.body and reply.body[0]:
            agents = await call(bus, "ListAgents")
            if isinstance(agents, list) and len(agents) >= size and all(a["state"] != "unknown" for a in agents):
                return
        await asyncio.sleep(0.5)
    raise RuntimeError(f"the daemon did not see {size} agents within {timeout:.0f}s")


async def wait_proven(bus: MessageBus, timeout: float) -> None:
    """Steady state: the rollout stage proved healthy, so the legacy cross-check samples its least."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = await call(bus, "GetRollout")
        assert isinstance(info, dict)
        rules, health = info["rules"], info["health"]
        if info["stage"] == "off" or health["healthy_cycles"] >= rules["promote_after"]:
            return
        await asyncio.sleep(1.0)


async def cpu_window(daemon_pid: int, server_pid: int, seconds: float) -> tuple[float, float]:
    """(daemon incl. children, tmux server) CPU seconds over ``seconds``."""
    d0, s0 = tree_ticks(daemon_pid), own_ticks(server_pid)
    await asyncio.sleep(seconds)
    return (tree_ticks(daemon_pid) - d0) / CLOCK_TICKS, (own_ticks(server_pid) - s0) / CLOCK_TICKS


async def published_state(bus: MessageBus, index: int) -> str:
    agent = await call(bus, "GetAgent", "s", [f"bench:{index}"])
    return str(agent["state"]) if isinstance(agent, dict) else ""


async def probe_latency(watcher: Watcher, workdir: Path, statics: list[int], probes: int,
                        screen: Callable[[int], str] | None = None) -> list[float]:
    """Seconds from drawing a permission dialog to its AgentStateChanged(waiting_input); ``screen``
    shows what agent N's pane holds, to say on a miss whether the dialog was there at all."""
    latencies: list[float] = []
    rng = random.Random(7)
    for index in rng.sample(statics, min(probes, len(statics))):
        window = str(index)  # agent N is window N (targets read session:window_index.pane)
        fifo = workdir / f"fifo-{index}"
        for _ in range(200):  # the agent is published idle before its dialog is drawn
            if await published_state(watcher.bus, index) == "idle":
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(rng.uniform(0.0, 2.0))  # a random moment of the daemon's cycle
        drawn = time.monotonic()
        with open(fifo, "w") as fh:
            fh.write("dialog\n")
        seen = await watcher.wait_change(window, "waiting_input", drawn, 20.0)
        latencies.append((seen - drawn) if seen is not None else float("inf"))
        if seen is None:
            shown = ""
            if screen is not None:
                drawn_there = "Do you want to proceed?" in screen(index)
                shown = "; the dialog is on its pane" if drawn_there else "; the dialog is NOT on its pane"
            print(f"no waiting_input for {window}{shown}; signals seen: {watcher.changes[-5:]}", file=sys.stderr)
        back = time.monotonic()
        with open(fifo, "w") as fh:
            fh.write("idle\n")
        await watcher.wait_change(window, "idle", back, 20.0)
    return latencies


async def probe_spinner_latency(watcher: Watcher, workdir: Path, spinners: list[int], probes: int) -> list[float]:
    """Seconds from a working agent's spinner stopping and a permission dialog drawn in its place to
    its AgentStateChanged(waiting_input): the common case (an agent asks in the middle of its work)."""
    latencies: list[float] = []
    rng = random.Random(11)
    for index in rng.sample(spinners, min(probes, len(spinners))):
        window = str(index)
        flag, drawn_file = workdir / f"flag-{index}", workdir / f"drawn-{index}"
        for _ in range(200):
            if await published_state(watcher.bus, index) == "working":
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(rng.uniform(0.0, 2.0))
        drawn_file.unlink(missing_ok=True)
        asked = time.monotonic()
        flag.touch()
        drawn = None
        for _ in range(200):  # the agent's loop notices the flag within a frame
            text = drawn_file.read_text().strip() if drawn_file.exists() else ""
            if text:
                drawn = time.monotonic() - (time.time() - float(text))  # its wall-clock time, on our clock
                break
            await asyncio.sleep(0.01)
        seen = await watcher.wait_change(window, "waiting_input", asked, 20.0)
        if drawn is None or seen is None:
            latencies.append(float("inf"))
            print(f"no waiting_input for spinner {window}; signals seen: {watcher.changes[-5:]}", file=sys.stderr)
        else:
            latencies.append(max(0.0, seen - drawn))
        back = time.monotonic()
        flag.unlink()
        await watcher.wait_change(window, "working", back, 20.0)
    return latencies


PROCESS_ROUNDS = 3  # rounds of cycles without, then with, the extra host processes


def spawn_idle(count: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen(["sleep", "100000"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            for _ in range(count)]


def stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.kill()
    for proc in procs:
        proc.wait()


async def wait_cycles(watcher: Watcher, count: int, timeout: float) -> list[float]:
    start = len(watcher.cycles)
    deadline = time.monotonic() + timeout
    while len(watcher.cycles) - start < count and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return watcher.cycles[start:]


async def measure(size: int, bench: Bench, workdir: Path, address: str, args: argparse.Namespace,
                  code: str = ".") -> dict[str, str]:
    window = args.window if size < 500 else max(10.0, args.window / 2)
    row: dict[str, str] = {"agents": str(size), "code": code}
    _, base_server = await cpu_window(os.getpid(), bench.server_pid, window)  # no daemon: the baseline
    daemon, log = await start_daemon(workdir, bench.socket, address, size, code)
    bus = await MessageBus(bus_address=address).connect()
    watcher = Watcher(bus)
    await watcher.start()
    try:
        await wait_ready(bus, size)
        await wait_cycles(watcher, 3, 60)
        await wait_proven(bus, args.warmup)
        watcher.cycles.clear()
        daemon_cpu, server_cpu = await cpu_window(daemon.pid, bench.server_pid, window)
        cycles = list(watcher.cycles)
        statics = [i for i in range(size) if not animating(i)]
        latencies = await probe_latency(watcher, workdir, statics, args.probes,
                                        lambda i: bench.tmux("capture-pane", "-p", "-t", f"bench:{i}"))
        row["change->signal p50 s"] = f"{percentile(latencies, 0.5):.2f}"
        row["change->signal p95 s"] = f"{percentile(latencies, 0.95):.2f}"
        spinners = [i for i in range(size) if animating(i)]
        over_spinner = await probe_spinner_latency(watcher, workdir, spinners, args.probes)
        row["dialog over spinner p50 s"] = f"{percentile(over_spinner, 0.5):.2f}"
        row["dialog over spinner p95 s"] = f"{percentile(over_spinner, 0.95):.2f}"
        metrics = await call(bus, "GetMetrics")
        assert isinstance(metrics, dict)
        cycle_p95 = percentile(cycles, 0.95) if cycles else float(metrics["cycle_ms_p95"])
        row["cycle p50 / p95 ms"] = f"{percentile(cycles, 0.5) if cycles else 0:.1f} / {cycle_p95:.1f}"
        bench.agents = size
        floor = await measure_naive(bench, argparse.Namespace(cycles=10))
        row["floor p95 ms"] = floor["naive ms p95"]
        row["cycle/floor"] = f"{cycle_p95 / max(0.01, float(floor['naive ms p95'])):.1f}x"
        round_trips = await call_latencies(bus)
        for name, column in LATENCY_COLUMNS.items():
            row[column] = f"{percentile(round_trips[name], 0.99):.2f}"
        row["rss MB"] = f"{rss_kb(daemon.pid) / 1024:.1f}"
        # Rounds without and with the extra processes, alternated (and a last one without): the machine's
        # drift over a minute or two moves the cycle as much as anything, and falls on both sides alike.
        unloaded, loaded = [], []
        for _round in range(PROCESS_ROUNDS):
            unloaded += await wait_cycles(watcher, args.loaded_cycles, 60)
            idle = spawn_idle(args.host_processes)
            try:
                await wait_cycles(watcher, 1, 30)
                loaded += await wait_cycles(watcher, args.loaded_cycles, 60)
            finally:
                stop_all(idle)
            await wait_cycles(watcher, 1, 30)
        unloaded += await wait_cycles(watcher, args.loaded_cycles, 60)
        if loaded and unloaded:
            base = percentile(unloaded, 0.5)
            with_procs = percentile(loaded, 0.5)
            change = 100 * (with_procs / base - 1)
            row[f"cycle p50 +{args.host_processes} procs ms"] = f"{with_procs:.1f} ({change:+.0f}%)"
            row["procs change %"] = f"{change:+.1f}"
    finally:
        bus.disconnect()
        daemon.terminate()
        try:
            daemon.wait(20)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
    if daemon.returncode not in (0, -15):
        print(log.read_text()[-2000:], file=sys.stderr)
    # the tmux server's baseline: the mean of a window before the daemon and one after it (the one
    # before may still hold the windows' creation, the load moves)
    _, after_server = await cpu_window(os.getpid(), bench.server_pid, window)
    extra_tmux = max(0.0, server_cpu - (base_server + after_server) / 2)
    row["CPU % of a core (daemon + tmux extra)"] = f"{100 * (daemon_cpu + extra_tmux) / window:.2f}"
    row["daemon %"] = f"{100 * daemon_cpu / window:.2f}"
    row["tmux extra %"] = f"{100 * extra_tmux / window:.2f}"
    row["tmux baseline %"] = f"{50 * (base_server + after_server) / window:.2f}"
    return row


async def run(args: argparse.Namespace) -> list[dict[str, str]]:
    workdir = Path(tempfile.mkdtemp(prefix="tmux-orc-ubench-"))
    socket = str(workdir / "tmux.sock")
    spinner_row, screens = write_screens(workdir)
    bench = Bench(socket, ControlClient(socket, command_timeout=20))
    bus_dir = workdir / "bus"
    bus_dir.mkdir()
    dbus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1",
                             f"--address=unix:dir={bus_dir}"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert dbus.stdout is not None
    address = dbus.stdout.readline().strip()
    rows: list[dict[str, str]] = []
    try:
        for size in args.agents:
            await grow(bench, size, workdir, spinner_row, screens)
            for run_index in range(args.repeat):
                for code in args.code:
                    rows.append(await measure(size, bench, workdir, address, args, code))
                    rows[-1]["run"] = str(run_index + 1)
                    rows[-1]["load"] = f"{os.getloadavg()[0]:.2f}"
                    print(f"... {size} agents, {code}, run {run_index + 1} done: {rows[-1]}", file=sys.stderr,
                          flush=True)
    finally:
        await bench.client.close()
        bench.kill()
        dbus.terminate()
        dbus.wait(5)
        shutil.rmtree(workdir, ignore_errors=True)
    for code in args.code:
        add_growth_per_agent([r for r in rows if r["code"] == code and r["run"] == "1"], "RSS KB/agent")
    return rows


STATUS_CALLS = 200  # of each kind, interleaved
LATENCY_COLUMNS = {"GetStatus": "GetStatus p99 ms", "Ping": "Ping p99 ms", "bus": "bus floor p99 ms"}


def latency_probe(kind: str) -> Message:
    """A call of one kind: ``GetStatus``; ``Ping`` (``org.freedesktop.DBus.Peer.Ping`` to the daemon,
    answered by the D-Bus library on the daemon's event loop without any of tmux-orc's code: what the
    loop and the host's scheduler add); ``bus`` (``GetId`` answered by the bus itself: the floor any
    call pays on this host, under its load)."""
    if kind == "GetStatus":
        return Message(destination=names.BUS_NAME, path=names.OBJECT_PATH, interface=names.INTERFACE,
                       member="GetStatus")
    if kind == "Ping":
        return Message(destination=names.BUS_NAME, path=names.OBJECT_PATH, interface="org.freedesktop.DBus.Peer",
                       member="Ping")
    return Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                   interface="org.freedesktop.DBus", member="GetId")


async def call_latencies(bus: MessageBus, calls: int = STATUS_CALLS) -> dict[str, list[float]]:
    """Round trips (ms) of each :func:`latency_probe` kind, one of each in turn, ``calls`` times."""
    out: dict[str, list[float]] = {kind: [] for kind in LATENCY_COLUMNS}
    for _ in range(calls):
        for kind, samples in out.items():
            t0 = time.perf_counter()
            reply = await bus.call(latency_probe(kind))
            samples.append((time.perf_counter() - t0) * 1000)
            assert reply is not None and reply.message_type is not MessageType.ERROR, (kind, reply and reply.body)
    return out


MEDIAN_COLUMNS = ("CPU % of a core (daemon + tmux extra)", "daemon %", "tmux extra %", "change->signal p50 s",
                  "change->signal p95 s", "dialog over spinner p50 s", "dialog over spinner p95 s", "floor p95 ms",
                  "GetStatus p99 ms", "Ping p99 ms", "bus floor p99 ms", "rss MB", "procs change %",
                  "tmux baseline %", "load")


def medians(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Per size and checkout, the median of each figure over the runs (and its range)."""
    out = []
    for key in dict.fromkeys((r["agents"], r["code"]) for r in rows):
        group = [r for r in rows if (r["agents"], r["code"]) == key]
        row = {"agents": key[0], "code": key[1], "runs": str(len(group))}
        for column in MEDIAN_COLUMNS:
            values = sorted(float(r[column]) for r in group if r.get(column, "-") not in ("-", "inf"))
            if values:
                row[column] = f"{statistics.median(values):.2f} ({values[0]:.2f}..{values[-1]:.2f})"
        cycles = [float(r["cycle p50 / p95 ms"].split(" / ")[1]) for r in group if "cycle p50 / p95 ms" in r]
        if cycles:
            row["cycle p95 ms"] = f"{statistics.median(cycles):.1f}"
        out.append(row)
    return out


def print_markdown(rows: list[dict[str, str]]) -> None:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("---:" for _ in columns) + "|")
    for row in rows:
        print("| " + " | ".join(row.get(c, "-") for c in columns) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=lambda s: [int(n) for n in s.split(",")], default=[10, 50, 100, 200, 500])
    parser.add_argument("--quick", action="store_true", help="short windows and few probes (a rough look)")
    parser.add_argument("--window", type=float, default=30.0, help="seconds of each CPU window")
    parser.add_argument("--probes", type=int, default=12, help="permission dialogs drawn per size")
    parser.add_argument("--host-processes", type=int, default=2000)
    parser.add_argument("--loaded-cycles", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=120.0,
                        help="seconds at most to wait for the rollout stage to prove healthy before measuring")
    parser.add_argument("--plain", action="store_true", help="an aligned text table instead of markdown")
    parser.add_argument("--code", type=lambda s: s.split(","), default=["."],
                        help="checkouts to run the daemon from, comma-separated, interleaved (. is this one)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each checkout per size")
    args = parser.parse_args()
    if args.quick:
        args.window, args.probes, args.loaded_cycles, args.warmup = 10.0, 5, 4, 0.0
    started = time.monotonic()
    rows = asyncio.run(run(args))
    load = os.getloadavg()
    print(f"tmux-orcd on default settings; 40% of agents animating (a tool every {TOOL_EVERY}s); {tmux_version()}; "
          f"{os.cpu_count()} CPUs; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"{time.monotonic() - started:.0f}s")
    (print_table if args.plain else print_markdown)(rows)
    if args.repeat > 1 or len(args.code) > 1:
        print("\nmedians (min..max) over the runs:")
        (print_table if args.plain else print_markdown)(medians(rows))


if __name__ == "__main__":
    main()
