"""Cycle latency of the capture strategies against a private tmux full of simulated agents.

Run: ``.venv/bin/python benchmarks/cycle_bench.py [--sizes 10,50,100,200]``

For each size, 40% of the agents animate a spinner line every 0.5-1 s, the rest show a static
screen. Each measurement is one function ``async (Bench) -> dict[column, value]``; add a column by
appending a function to ``MEASUREMENTS``. Only a private server on a socket in a temporary directory
is ever started, and it is killed by that socket when done.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tmux_orc.tmux.concurrent import ConcurrentStrategy, list_panes, screen_text
from tmux_orc.tmux.control import ControlClient, quote
from tmux_orc.tmux.polling import PollingStrategy, SubprocessPaneSource
from tmux_orc.tmux.runner import clean_environment

ANIMATING_SHARE = 0.4


def agent_command(index: int) -> str:
    """Shell command of simulated agent ``index``: animating (40%) or static.

    The program runs as ``claude-bench`` (``exec -a``), so the daemon's process-tree check sees an agent.
    """
    return f"exec -a claude-bench sh -c {quote(_agent_body(index))}"


def _agent_body(index: int) -> str:
    if index % 5 < 2:
        delay = 0.5 + (index % 6) / 10  # 0.5 .. 1.0 s
        return (
            f"printf 'agent {index}\\n> working\\n'; i=0; "
            "while :; do i=$((i+1)); "
            'case $((i % 4)) in 0) s="|";; 1) s="/";; 2) s="-";; *) s="\\\\";; esac; '
            f'printf "\\r%s Thinking... (%ss)" "$s" "$i"; sleep {delay:.1f}; done'
        )
    return f"printf 'agent {index}\\n> idle, waiting for input\\n'; exec sleep 100000"


@dataclass
class Bench:
    """A private tmux server with ``agents`` simulated agents, and a control client attached to it."""

    socket: str
    client: ControlClient
    agents: int = 0
    server_pid: int = 0
    notes: dict[str, str] = field(default_factory=dict)

    def tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-S", self.socket, *args],
            capture_output=True,
            text=True,
            env=clean_environment(),
            timeout=30,
            check=True,
        ).stdout

    async def grow(self, agents: int) -> None:
        """Add simulated agents (one window each) until there are ``agents``."""
        if self.agents == 0:
            self.tmux(
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "bench",
                "-x",
                "120",
                "-y",
                "40",
                agent_command(0),
            )
            self.server_pid = int(self.tmux("display", "-p", "#{pid}").strip())
            await self.client.start()
            self.agents = 1
        await asyncio.gather(
            *(
                self.client.command(f"new-window -d -n {quote(f'agent-{i}')} {quote(agent_command(i))}", 10)
                for i in range(self.agents, agents)
            )
        )
        self.agents = agents
        await asyncio.sleep(1.2)  # let every agent draw its first screen

    def kill(self) -> None:
        """Kill the private server, by its socket (and its pid if it lingers)."""
        subprocess.run(
            ["tmux", "-S", self.socket, "kill-server"],
            env=clean_environment(),
            capture_output=True,
            check=False,
        )
        if self.server_pid:
            for _ in range(50):
                try:
                    stat = Path(f"/proc/{self.server_pid}/stat").read_text()
                except FileNotFoundError:
                    break
                if stat.rpartition(")")[2].split()[0] == "Z":
                    break
                time.sleep(0.02)
            else:
                os.kill(self.server_pid, 9)


def percentile(samples: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


async def timed_cycles(cycle: Callable[[], Awaitable[None]], count: int, gap: float) -> list[float]:
    """Milliseconds of ``count`` runs of ``cycle``, ``gap`` seconds apart."""
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        await cycle()
        samples.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(gap)
    return samples


def summary(prefix: str, samples: list[float]) -> dict[str, str]:
    return {
        f"{prefix} p50": f"{percentile(samples, 0.5):.1f}",
        f"{prefix} p95": f"{percentile(samples, 0.95):.1f}",
    }


async def measure_naive(bench: Bench, args: argparse.Namespace) -> dict[str, str]:
    """Floor: one control client lists every pane and captures all of them, pipelined."""

    async def cycle() -> None:
        panes = await list_panes(bench.client)
        screens = await asyncio.gather(
            *(bench.client.command(f"capture-pane -p -t {quote(p.pane_id)}") for p in panes)
        )
        assert len(screens) == bench.agents and screen_text(screens[0])

    return summary("naive ms", await timed_cycles(cycle, args.cycles, 0.05))


async def measure_concurrent(bench: Bench, args: argparse.Namespace) -> dict[str, str]:
    """The concurrent strategy: list-panes plus a capture of the panes that changed."""
    strategy = ConcurrentStrategy(bench.client, command_timeout=2.0)
    captured: list[int] = []

    async def cycle() -> None:
        panes = await list_panes(bench.client)
        result = await strategy.capture(panes, full=False)
        assert not result.errors, result.errors
        captured.append(len(result.screens))

    for _ in range(2):  # the first captures everything; the second settles the static panes
        await cycle()
        await asyncio.sleep(1.0)
    captured.clear()
    samples = await timed_cycles(cycle, args.cycles, args.gap)
    await strategy.aclose()
    return {**summary("concurrent ms", samples), "captured/cycle": f"{sum(captured) / len(captured):.0f}"}


async def measure_legacy(bench: Bench, args: argparse.Namespace) -> dict[str, str]:
    """Legacy polling: one ``tmux list-panes`` subprocess, then one ``tmux capture-pane`` per pane."""
    source = SubprocessPaneSource(bench.socket, timeout=10)
    strategy = PollingStrategy(bench.socket, timeout=10)

    async def cycle() -> None:
        panes = await source.list_panes()
        result = await strategy.capture(panes, full=True)
        assert len(result.screens) == bench.agents, result.errors

    return summary("legacy ms", await timed_cycles(cycle, args.legacy_cycles, 0.05))


Measurement = Callable[[Bench, argparse.Namespace], Awaitable[dict[str, str]]]
MEASUREMENTS: list[Measurement] = [measure_naive, measure_concurrent, measure_legacy]


def print_table(rows: list[dict[str, str]]) -> None:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    widths = [max(len(c), *(len(row.get(c, "")) for row in rows)) for c in columns]
    print("  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(row.get(c, "-").rjust(w) for c, w in zip(columns, widths, strict=True)))


async def run(args: argparse.Namespace) -> list[dict[str, str]]:
    workdir = tempfile.mkdtemp(prefix="tmux-orc-bench-")
    socket = str(Path(workdir) / "tmux.sock")
    bench = Bench(socket, ControlClient(socket, command_timeout=10))
    rows = []
    try:
        for size in args.sizes:
            await bench.grow(size)
            row = {"agents": str(size)}
            for measurement in MEASUREMENTS:
                row.update(await measurement(bench, args))
            rows.append(row)
            print(f"... {size} agents done", file=sys.stderr, flush=True)
    finally:
        await bench.client.close()
        bench.kill()
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=lambda s: [int(n) for n in s.split(",")], default=[10, 50, 100, 200])
    parser.add_argument("--cycles", type=int, default=20, help="timed cycles per control-mode measurement")
    parser.add_argument("--legacy-cycles", type=int, default=5, help="timed cycles of the legacy strategy")
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between concurrent-strategy cycles")
    args = parser.parse_args()
    started = time.monotonic()
    rows = asyncio.run(run(args))
    print(
        f"{int(ANIMATING_SHARE * 100)}% of agents animating; {tmux_version()}; "
        f"{os.cpu_count()} CPUs; {time.monotonic() - started:.0f}s"
    )
    print_table(rows)


def tmux_version() -> str:
    return subprocess.run(["tmux", "-V"], capture_output=True, text=True, check=False).stdout.strip()


if __name__ == "__main__":
    main()
