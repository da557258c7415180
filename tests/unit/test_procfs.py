"""procfs: /proc/PID/stat parsing and the CPU times the stuck check reads."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tmux_orc.procfs import CLOCK_TICKS, _parse_stat, read_process, read_process_table


def test_parse_stat_with_parentheses_and_spaces_in_comm() -> None:
    raw = f"4242 (a) (b c) S 1 4242 4242 34816 4242 4194304 10 0 0 0 {3 * CLOCK_TICKS} {CLOCK_TICKS} 40 2 20 0 1 0"
    stat = _parse_stat(raw)
    assert stat is not None
    assert (stat.comm, stat.state, stat.ppid, stat.tpgid) == ("a) (b c", "S", 1, 4242)
    assert (stat.cpu_ticks, stat.child_cpu_ticks) == (4 * CLOCK_TICKS, 42)


def test_parse_stat_rejects_truncated_lines() -> None:
    assert _parse_stat("1 (init) S 0 1 1 0 -1") is None
    assert _parse_stat("garbage") is None


def test_cpu_time_of_a_real_process() -> None:
    """A child that spins for half a second shows about that much CPU, then its parent's cutime has it."""
    spin = "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass\ntime.sleep(5)"
    before = read_process(os.getpid())
    assert before is not None
    proc = subprocess.Popen([sys.executable, "-c", spin])
    try:
        deadline = time.monotonic() + 10
        info = read_process(proc.pid)
        while (info is None or info.cpu_seconds < 0.45) and time.monotonic() < deadline:
            time.sleep(0.1)
            info = read_process(proc.pid)
        assert info is not None and 0.45 <= info.cpu_seconds < 2.0
        assert info.pid in read_process_table().by_pid
    finally:
        proc.kill()
        proc.wait()
    me = read_process(os.getpid())
    assert me is not None and me.child_cpu_seconds - before.child_cpu_seconds >= 0.45
