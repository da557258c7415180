"""What a control client streaming spinner frames costs the tmux server (tmux alone, not the daemon).

Run: ``.venv/bin/python benchmarks/stream_bench.py [--spinners 40] [--panes 100] [--window 10] [--rounds 8]``

A private tmux server holds ``--panes`` panes; ``--spinners`` of them redraw a spinner line every 0.2 s
(``printf`` and ``sleep 0.2``: 5 frames a second, as ``user_bench.py``'s animating agents), the others
sleep. In each round, one window of ``--window`` seconds per mode, in turn:

- ``no output``: one control client attached with ``-f ignore-size,no-output`` (what the daemon's
  command client is);
- ``streamed``: one attached with ``-f ignore-size,pause-after=1`` (the daemon's output client), every
  pane streamed, its output read and thrown away;
- ``paused``: the same client after ``refresh-client -A '%N:pause'`` for every pane (what holding a
  spinner back asks of tmux).

The tmux server's user+system time per window, as a share of one core; the table gives the mean and
the spread of the rounds, and what streaming adds over the other two modes (the figure the
``spinner_stream_budget`` setting trades against a dialog read at once over a stopped spinner). The
host's other work moves every window's figure: compare modes within a run, not across runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SPINNER = ("i=0; while :; do i=$((i+1)); printf '\\033[5;1H%s Thinking… (%ds · ↓ %d tokens)\\033[K' "
           "x $((i/5)) $((i*7)); sleep 0.2; done")
MODES = ("no output", "streamed", "paused")


def cpu_ticks(pid: int) -> int:
    """utime + stime of one process, in clock ticks."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rfind(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


class Server:
    """A private tmux server with spinner panes and sleeping ones."""

    def __init__(self, workdir: Path, panes: int, spinners: int) -> None:
        self.argv = ["tmux", "-S", str(workdir / "tmux.sock"), "-f", "/dev/null"]
        self.run("new-session", "-d", "-s", "bench", "-x", "120", "-y", "40", "sh", "-c", SPINNER)
        for index in range(1, panes):
            self.run("new-window", "-d", "sh", "-c", SPINNER if index < spinners else "exec sleep 1000000")
        self.pid = int(self.run("display", "-p", "#{pid}"))
        self.pane_ids = self.run("list-panes", "-a", "-F", "#{pane_id}").split()

    def run(self, *args: str) -> str:
        return subprocess.run([*self.argv, *args], check=True, capture_output=True, text=True).stdout

    def attach(self, flags: str) -> subprocess.Popen[bytes]:
        """A control client whose output is read and dropped (stdout to /dev/null)."""
        return subprocess.Popen([*self.argv, "-C", "attach-session", "-t", "bench", "-f", flags],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self) -> None:
        subprocess.run([*self.argv, "kill-server"], capture_output=True)


def window(server: Server, mode: str, seconds: float) -> float:
    """The server's CPU share of one core over ``seconds`` with one client in ``mode``."""
    client = server.attach("ignore-size,no-output" if mode == "no output" else "ignore-size,pause-after=1")
    assert client.stdin is not None
    try:
        if mode == "paused":
            pauses = " ".join(f"-A '{pane}:pause'" for pane in server.pane_ids)
            client.stdin.write(f"refresh-client {pauses}\n".encode())
            client.stdin.flush()
        time.sleep(1.0)  # attached (and paused) before the window opens
        start_ticks, start = cpu_ticks(server.pid), time.monotonic()
        time.sleep(seconds)
        return 100.0 * (cpu_ticks(server.pid) - start_ticks) / CLOCK_TICKS / (time.monotonic() - start)
    finally:
        client.stdin.close()
        client.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--panes", type=int, default=100)
    parser.add_argument("--spinners", type=int, default=40)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is not installed")
    workdir = Path(tempfile.mkdtemp(prefix="stream-bench-"))
    server = Server(workdir, args.panes, args.spinners)
    shares: dict[str, list[float]] = {mode: [] for mode in MODES}
    try:
        time.sleep(2.0)
        for _ in range(args.rounds):
            for mode in MODES:
                shares[mode].append(window(server, mode, args.window))
    finally:
        server.kill()
        shutil.rmtree(workdir, ignore_errors=True)
    version = subprocess.run(["tmux", "-V"], capture_output=True, text=True).stdout.strip()
    print(f"{version}; {args.panes} panes, {args.spinners} spinners at 5 frames a second "
          f"({5 * args.spinners} frames a second); {args.rounds} rounds of {args.window:g} s per mode; "
          f"{os.cpu_count()} CPUs; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| client | tmux server, % of one core (mean) | min - max | streamed minus this, mean of rounds |")
    print("|---|---:|---:|---:|")
    for mode in MODES:
        values = shares[mode]
        diffs = [s - v for s, v in zip(shares["streamed"], values, strict=True)]
        extra = "-" if mode == "streamed" else f"{statistics.mean(diffs):+.2f}"
        print(f"| {mode} | {statistics.mean(values):.2f} | {min(values):.2f} - {max(values):.2f} | {extra} |")


if __name__ == "__main__":
    main()
