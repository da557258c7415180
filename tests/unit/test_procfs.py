"""procfs: /proc/PID/stat parsing and the CPU times the stuck check reads."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tmux_orc.procfs import (
    CLOCK_TICKS,
    ProcessTreeReader,
    _parse_stat,
    children_files_available,
    process_states,
    read_process,
    read_process_table,
    read_process_trees,
)


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


def test_process_trees_hold_the_panes_trees_and_nothing_else() -> None:
    """Only what runs under the given roots is read: a process elsewhere on the host is not in the table."""
    root = subprocess.Popen(["sh", "-c", "sleep 30 & sleep 30 & wait"])
    bystander = subprocess.Popen(["sleep", "30"])
    try:
        deadline = time.monotonic() + 10
        table = read_process_trees([root.pid])
        # until both children have run exec (between fork and exec a child's comm is still sh)
        while [c.comm for c in table.children(root.pid)] != ["sleep", "sleep"] and time.monotonic() < deadline:
            time.sleep(0.05)
            table = read_process_trees([root.pid])
        assert table.get(root.pid) is not None
        assert [c.comm for c in table.children(root.pid)] == ["sleep", "sleep"]
        assert bystander.pid not in table.by_pid and os.getpid() not in table.by_pid
        assert read_process_trees([999_999_999]).by_pid == {}  # a pane whose process is gone
    finally:
        for proc in (root, bystander):
            proc.kill()
            proc.wait()


def test_process_trees_fall_back_to_a_full_scan_without_children_files(tmp_path: Path) -> None:
    """A /proc without children files (CONFIG_PROC_CHILDREN off): every process is read instead."""
    for pid, ppid in ((1, 0), (7, 1), (8, 1)):
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "stat").write_text(f"{pid} (p{pid}) S {ppid} {pid} {pid} 0 -1 0 0 0 0 0 1 1 0 0 20 0")
        (tmp_path / str(pid) / "cmdline").write_bytes(f"p{pid}\0".encode())
    assert not children_files_available(str(tmp_path))
    table = read_process_trees([7], str(tmp_path))
    assert sorted(table.by_pid) == [1, 7, 8]


def _fake_process(root: Path, pid: int, ppid: int, comm: str, argv: str, threads: dict[int, str],
                  start: int = 100) -> None:
    """One process in a fake /proc: stat (with num_threads and starttime), cmdline, each thread's children."""
    (root / str(pid) / "task").mkdir(parents=True, exist_ok=True)
    fields = f"S {ppid} {pid} {pid} 0 -1 0 0 0 0 0 1 1 0 0 20 0 {len(threads)} 0 {start}"
    (root / str(pid) / "stat").write_text(f"{pid} ({comm}) {fields}")
    (root / str(pid) / "cmdline").write_bytes(argv.replace(" ", "\0").encode() + b"\0")
    for tid, children in threads.items():
        (root / str(pid) / "task" / str(tid)).mkdir(exist_ok=True)
        (root / str(pid) / "task" / str(tid) / "children").write_text(children)


def test_tree_reader_reads_every_threads_children_and_keeps_command_lines(tmp_path: Path) -> None:
    """A one-thread process has only its main thread's children read; a process with more threads has
    each one's. A command line is read again when the process's name or start changes, or once it is
    ``argv_fresh`` seconds old; kept otherwise."""
    me = os.getpid()
    (tmp_path / str(me) / "task" / str(me)).mkdir(parents=True)
    (tmp_path / str(me) / "task" / str(me) / "children").write_text("")
    _fake_process(tmp_path, 7, 1, "node", "node /x/claude.js", {7: "", 70: "8 "})  # a worker thread spawned 8
    _fake_process(tmp_path, 8, 7, "sh", "sh -c make", {8: "9"})
    _fake_process(tmp_path, 9, 8, "make", "make test", {9: ""})
    clock = [0.0]
    reader = ProcessTreeReader(str(tmp_path), argv_fresh=10.0, clock=lambda: clock[0])
    table = reader([7])
    assert sorted(table.by_pid) == [7, 8, 9]
    assert table.by_pid[9].argv == ("make", "test")

    (tmp_path / "9" / "cmdline").write_bytes(b"make\0check\0")  # same pid, start and name: kept a while
    clock[0] = 5.0
    assert reader([7]).by_pid[9].argv == ("make", "test")
    clock[0] = 10.5
    assert reader([7]).by_pid[9].argv == ("make", "check")  # older than argv_fresh: read again

    _fake_process(tmp_path, 9, 8, "cc", "cc -c a.c", {9: ""})  # it ran exec: a new name
    assert reader([7]).by_pid[9].argv == ("cc", "-c", "a.c")
    _fake_process(tmp_path, 9, 8, "cc", "cc -c b.c", {9: ""}, start=200)  # the pid was reused
    assert reader([7]).by_pid[9].argv == ("cc", "-c", "b.c")

    _fake_process(tmp_path, 9, 8, "ld", "", {9: ""}, start=200)  # caught mid-exec: a new name, no arguments yet
    assert reader([7]).by_pid[9].argv == ()
    (tmp_path / "9" / "cmdline").write_bytes(b"ld\0a.o\0")
    assert reader([7]).by_pid[9].argv == ("ld", "a.o")  # an empty command line is not kept

    (tmp_path / "7" / "task" / "70" / "children").write_text("")
    assert sorted(reader([7]).by_pid) == [7]  # the thread's child is gone, and with it its tree


def test_tree_reader_follows_exec_of_a_real_process() -> None:
    """A real process that runs exec is seen with its new command line at the next reading."""
    proc = subprocess.Popen(["sh", "-c", "read x; exec sleep 30"], stdin=subprocess.PIPE)
    try:
        reader = ProcessTreeReader()
        deadline = time.monotonic() + 10
        # a reading in the middle of exec sees the new name before the new arguments (not kept: read again)
        while (info := reader([proc.pid]).get(proc.pid)) is None or info.comm != "sh" or not info.argv:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert info.argv[:2] == ("sh", "-c")
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
        while (info := reader([proc.pid]).get(proc.pid)) is None or info.comm != "sleep" or not info.argv:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert info.argv == ("sleep", "30")
    finally:
        proc.kill()
        proc.wait()


def test_process_states_of_real_and_odd_processes(tmp_path: Path) -> None:
    """One letter per process that exists; a name holding ") " does not shift it; a vanished pid is absent."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        os.kill(child.pid, 19)  # SIGSTOP
        deadline = time.monotonic() + 5
        while process_states([child.pid]).get(child.pid) != "T" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert process_states([os.getpid(), child.pid, 2**22 + 7]) == {os.getpid(): "R", child.pid: "T"}
    finally:
        child.kill()
        child.wait()
    (tmp_path / "5").mkdir()
    (tmp_path / "5" / "stat").write_text("5 (a) S (b) Z 1 5 5 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 77\n")
    (tmp_path / "6").mkdir()
    (tmp_path / "6" / "stat").write_text("6 (cut")
    assert process_states([5, 6], proc=str(tmp_path)) == {5: "Z"}
