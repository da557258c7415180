"""``tmux-orc demo`` end to end: it shows simulated agents with states and leaves nothing behind."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

TMUX_ORC = str(Path(sys.executable).with_name("tmux-orc"))
STATES = {"starting", "working", "idle", "waiting_input", "unsubmitted", "rate_limited", "error", "stuck",
          "crashed", "unknown"}  # fmt: skip


@pytest.fixture()
def short_tmp() -> Iterator[Path]:
    """A temp dir with a short path: unix socket paths inside it must stay under ~100 bytes."""
    directory = Path(tempfile.mkdtemp(prefix="orc-", dir="/tmp"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def demo_env(tmp_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"TMUX", "TMUX_PANE"}}
    env["TMPDIR"] = str(tmp_dir)  # the demo's directory lands here, so the test can see it go
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)  # the demo needs no bus of the user's
    return env


def processes_mentioning(text: str) -> list[str]:
    """Processes whose command line or environment mention ``text`` (the demo's directory)."""
    found = []
    needle = text.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        for part in ("cmdline", "environ"):
            try:
                if needle in (entry / part).read_bytes():
                    found.append(f"{entry.name}: {(entry / 'cmdline').read_bytes()[:200]!r}")
                    break
            except OSError:
                continue
    return found


def demo_dir_from(output: str) -> str:
    match = re.search(r"tmux -S (\S+)/tmux\.sock attach", output)
    assert match, output
    return match.group(1)


def assert_nothing_left(demo_dir: str, tmp_path: Path) -> None:
    deadline = time.monotonic() + 5
    while processes_mentioning(demo_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_mentioning(demo_dir) == []
    assert not Path(demo_dir).exists()
    assert list(tmp_path.iterdir()) == []


def agent_rows(output: str) -> list[list[str]]:
    last_frame = output.split("TARGET")[-1]
    return [line.split() for line in last_frame.splitlines()[1:] if line.startswith("demo-")]


def test_demo_runs_for_a_duration_and_cleans_up(short_tmp: Path) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [TMUX_ORC, "demo", "--duration", "8"], env=demo_env(short_tmp), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 60
    demo_dir = demo_dir_from(done.stdout)
    rows = agent_rows(done.stdout)
    assert len(rows) == 5, done.stdout[-3000:]
    roles = {row[1] for row in rows}
    assert roles == {"pm", "developer", "qa", "reviewer", "researcher"}
    assert all(row[2] == "claude" and row[3] in STATES for row in rows), rows
    # after 8 s the simulators are past their start: the monitor has decided real states
    assert {row[3] for row in rows} & {"working", "idle", "waiting_input", "unsubmitted", "rate_limited"}
    assert "ask the demo daemon:  DBUS_SESSION_BUS_ADDRESS=" in done.stdout
    assert done.stdout.rstrip().endswith("everything it started is gone.")
    assert demo_dir.startswith(str(short_tmp))
    assert_nothing_left(demo_dir, short_tmp)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_demo_stops_cleanly_on_a_signal(short_tmp: Path, stop_signal: signal.Signals) -> None:
    proc = subprocess.Popen(
        [TMUX_ORC, "demo", "--agents", "2"], env=demo_env(short_tmp),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    output = ""
    try:
        deadline = time.monotonic() + 60
        while "TARGET" not in output and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output += line
        assert "TARGET" in output, output
        proc.send_signal(stop_signal)
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert (output + rest).rstrip().endswith("everything it started is gone.")
    assert_nothing_left(demo_dir_from(output), short_tmp)


def test_demo_with_a_long_tmpdir_moves_its_sockets_to_tmp(tmp_path: Path) -> None:
    long_tmp = tmp_path / ("x" * 60)
    long_tmp.mkdir()
    done = subprocess.run(
        [TMUX_ORC, "demo", "--agents", "1", "--duration", "3"], env=demo_env(long_tmp),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    demo_dir = demo_dir_from(done.stdout)
    assert demo_dir.startswith("/tmp/tmux-orc-demo-")
    assert_nothing_left(demo_dir, long_tmp)
