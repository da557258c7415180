"""The daemon under load: full cycle time per strategy, RSS per agent, and GetStatus latency over D-Bus.

Run: ``.venv/bin/python benchmarks/daemon_bench.py [--sizes 10,50,100,200]``

Starts a private tmux (the simulated agents of ``cycle_bench``: 40% animating), a private bus and one
``tmux-orcd`` watching them, grows the team, and at each size measures from the outside: the daemon's
own cycle time (``LastCycleMs`` after every cycle) with every session on the legacy polling strategy
(rollout ``off``) and on the concurrent one (``full``), its RSS, and the latency of ``GetStatus``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cycle_bench import Bench, percentile, print_table, tmux_version
from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus

from tmux_orc.service import names
from tmux_orc.service.variants import unwrap
from tmux_orc.tmux.control import ControlClient


async def call(bus: MessageBus, member: str, signature: str = "", body: list[object] | None = None) -> object:
    reply = await bus.call(Message(destination=names.BUS_NAME, path=names.OBJECT_PATH, interface=names.INTERFACE,
                                   member=member, signature=signature, body=body or []))
    assert reply is not None and reply.message_type is not MessageType.ERROR, reply and reply.body
    return unwrap(reply.body[0]) if reply.body else None


async def cycle_times(bus: MessageBus, count: int) -> list[float]:
    """``last_cycle_ms`` of the next ``count`` cycles."""
    samples: list[float] = []
    status = await call(bus, "GetStatus")
    assert isinstance(status, dict)
    seen = status["cycles"]
    while len(samples) < count:
        await asyncio.sleep(0.05)
        status = await call(bus, "GetStatus")
        assert isinstance(status, dict)
        if status["cycles"] > seen:
            seen = status["cycles"]
            samples.append(float(status["last_cycle_ms"]))
    return samples


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def measure(bus: MessageBus, pid: int, size: int, cycles: int) -> dict[str, str]:
    row: dict[str, str] = {"agents": str(size)}
    for stage, label in (("off", "polling"), ("full", "concurrent")):
        await call(bus, "SetRolloutStage", "s", [stage])
        await cycle_times(bus, 3)  # let the new assignment settle
        samples = await cycle_times(bus, cycles)
        row[f"{label} p50"] = f"{percentile(samples, 0.5):.1f}"
        row[f"{label} p95"] = f"{percentile(samples, 0.95):.1f}"
    latencies = []
    for _ in range(300):
        t0 = time.perf_counter()
        await call(bus, "GetStatus")
        latencies.append((time.perf_counter() - t0) * 1000)
    row["GetStatus p50"] = f"{percentile(latencies, 0.5):.2f}"
    row["GetStatus p99"] = f"{percentile(latencies, 0.99):.2f}"
    row["rss MB"] = f"{rss_kb(pid) / 1024:.1f}"
    agents = await call(bus, "ListAgents")
    assert isinstance(agents, list), agents
    assert len(agents) >= size, f"daemon sees {len(agents)} agents"
    return row


async def run(args: argparse.Namespace) -> list[dict[str, str]]:
    workdir = Path(tempfile.mkdtemp(prefix="tmux-orc-dbench-"))
    socket = str(workdir / "tmux.sock")
    bench = Bench(socket, ControlClient(socket, command_timeout=10))
    dbus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert dbus.stdout is not None
    address = dbus.stdout.readline().strip()
    daemon: subprocess.Popen[bytes] | None = None
    rows: list[dict[str, str]] = []
    try:
        await bench.grow(args.sizes[0])
        env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX_ORC_")}
        env.update(DBUS_SESSION_BUS_ADDRESS=address, XDG_CONFIG_HOME=str(workdir / "config"),
                   TMUX_ORC_TMUX_SOCKET=socket, TMUX_ORC_STATE_DIR=str(workdir / "state"),
                   TMUX_ORC_INTERVAL=str(args.interval), TMUX_ORC_AGENT_WINDOW_PREFIX="agent-",
                   TMUX_ORC_DESKTOP_NOTIFICATIONS="false", TMUX_ORC_NOTIFY_PM="false",
                   TMUX_ORC_ROLLOUT_AUTO="false", TMUX_ORC_LOG_FORMAT="text", TMUX_ORC_LOG_LEVEL="warning")
        with open(workdir / "daemon.log", "wb") as log:
            daemon = subprocess.Popen([str(Path(sys.executable).with_name("tmux-orcd"))], env=env,
                                      stdout=log, stderr=subprocess.STDOUT)
        bus = await MessageBus(bus_address=address).connect()
        for _ in range(200):
            if (await bus.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                                       interface="org.freedesktop.DBus", member="NameHasOwner", signature="s",
                                       body=[names.BUS_NAME]))).body[0]:
                break
            await asyncio.sleep(0.1)
        for size in args.sizes:
            await bench.grow(size)
            await cycle_times(bus, 3)
            rows.append(await measure(bus, daemon.pid, size, args.cycles))
            print(f"... {size} agents done", file=sys.stderr, flush=True)
        bus.disconnect()
    finally:
        if daemon is not None:
            daemon.terminate()
            daemon.wait(15)
        await bench.client.close()
        bench.kill()
        dbus.terminate()
        dbus.wait(5)
        shutil.rmtree(workdir, ignore_errors=True)
    add_growth_per_agent(rows, "KB/agent")
    return rows


def add_growth_per_agent(rows: list[dict[str, str]], column: str) -> None:
    """Add ``column``: the daemon's RSS growth per agent against the first (smallest) row, in KB."""
    base = rows[0]
    for row in rows[1:]:
        grown = (float(row["rss MB"]) - float(base["rss MB"])) * 1024
        row[column] = f"{grown / (int(row['agents']) - int(base['agents'])):.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=lambda s: [int(n) for n in s.split(",")], default=[10, 50, 100, 200])
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5)
    args = parser.parse_args()
    started = time.monotonic()
    rows = asyncio.run(run(args))
    print(f"tmux-orcd full cycles; 40% of agents animating; {tmux_version()}; {os.cpu_count()} CPUs; "
          f"{time.monotonic() - started:.0f}s")
    print_table(rows)


if __name__ == "__main__":
    main()
