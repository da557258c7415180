"""How long ``tmux-orc hook`` takes from spawn to exit, whatever the bus does (the agent waits that long).

Run: ``.venv/bin/python benchmarks/hook_bench.py [--runs 20]``

Each case runs the installed ``tmux-orc hook Notification`` as Claude Code does (JSON on stdin, inside
"tmux"), ``--runs`` times, and prints wall-clock milliseconds: interpreter start, imports, stdin, bus.
Cases: a daemon that answers (a small ``ReportEvent`` service on a private bus), a bus without the
daemon, a socket that accepts and never answers, no bus at all, and 5 MB of stdin.
"""

# no `from __future__ import annotations`: dbus-fast reads the D-Bus signatures from evaluated annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cycle_bench import percentile, print_table
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusDict, DBusStr
from dbus_fast.service import ServiceInterface, method

from tmux_orc import busnames
from tmux_orc.demo.processes import start_bus

TMUX_ORC = str(Path(sys.executable).with_name("tmux-orc"))
PAYLOAD = json.dumps({"session_id": "s", "hook_event_name": "Notification", "notification_type": "idle_prompt",
                      "message": "Claude is waiting for your input"}).encode()


class Answering(ServiceInterface):
    """Just ReportEvent, answered at once."""

    def __init__(self) -> None:
        super().__init__(busnames.INTERFACE)

    @method()
    def ReportEvent(self, target: DBusStr, event: DBusStr, details: DBusDict) -> None:
        return None


def serve(address: str, ready: threading.Event) -> None:
    async def main() -> None:
        bus = await MessageBus(bus_address=address).connect()
        bus.export(busnames.OBJECT_PATH, Answering())
        await bus.request_name(busnames.BUS_NAME)
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def silent_socket(path: Path) -> socket.socket:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(64)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return server


def timed(runs: int, address: str | None, stdin: bytes) -> list[float]:
    env = {k: v for k, v in os.environ.items() if k not in {"DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"}}
    env.update({"TMUX_PANE": "%1", "TMUX": "/tmp/tmux-bench/default,1,0"})
    if address is not None:
        env["DBUS_SESSION_BUS_ADDRESS"] = address
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run([TMUX_ORC, "hook", "Notification"], input=stdin, env=env, capture_output=True,
                              check=False)
        samples.append((time.perf_counter() - started) * 1000)
        assert done.returncode == 0 and done.stdout == b"", done
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="tmux-orc-hook-bench-"))
    for name in ("empty", "served"):
        (root / name).mkdir()
    bus, address = start_bus(root / "empty")
    served, served_address = start_bus(root / "served")
    ready = threading.Event()
    threading.Thread(target=serve, args=(served_address, ready), daemon=True).start()
    ready.wait(10)
    silent = silent_socket(root / "silent.sock")
    cases = [
        ("daemon answers", served_address, PAYLOAD),
        ("daemon answers, 5 MB stdin", served_address, json.dumps({"message": "x" * 5_000_000}).encode()),
        ("bus, no daemon", address, PAYLOAD),
        ("bus never answers", f"unix:path={root}/silent.sock", PAYLOAD),
        ("no bus", None, PAYLOAD),
    ]
    rows = []
    try:
        for name, where, stdin in cases:
            samples = timed(args.runs, where, stdin)
            rows.append({"case": name, "runs": str(len(samples)), "p50 ms": f"{percentile(samples, 0.5):.0f}",
                         "p95 ms": f"{percentile(samples, 0.95):.0f}", "max ms": f"{max(samples):.0f}"})
    finally:
        silent.close()
        served.stop()
        bus.stop()
    print_table(rows)


if __name__ == "__main__":
    main()
