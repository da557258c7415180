"""One read of /proc per cycle, shared by every pane (the per-cycle layer of the seed's LayeredCache).

The cycle reads only the process trees under the panes' pids (:class:`ProcessTreeReader`, through
``/proc/PID/task/TID/children``), so its cost follows the agents, not the host's process count; the
whole-machine scan (:func:`read_process_table`) is the fallback where the kernel has no children files.
A process costs two reads per cycle: its ``stat`` and its main thread's ``children`` (a process with
more threads has each thread's read); its command line is read again only when it may have changed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from tmux_orc.model import ProcessInfo

PROC = "/proc"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")  # units of the CPU times in /proc/PID/stat


@dataclass(frozen=True, slots=True)
class _Stat:
    comm: str
    state: str
    ppid: int
    pgrp: int
    tpgid: int
    cpu_ticks: int  # utime + stime
    child_cpu_ticks: int  # cutime + cstime (children it has waited for)
    threads: int = 1  # num_threads
    start_ticks: int = 0  # starttime: with the pid, names one process for good (pids are reused)


def _parse_stat(raw: str) -> _Stat | None:
    """The fields we use from /proc/PID/stat; comm may hold spaces and parentheses."""
    open_paren = raw.find("(")
    close_paren = raw.rfind(")")
    if open_paren < 0 or close_paren < open_paren:
        return None
    fields = raw[close_paren + 2 :].split()
    if len(fields) < 15:
        return None
    try:
        # After "(comm) ": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
        # utime stime cutime cstime ... (proc(5)).
        return _Stat(
            comm=raw[open_paren + 1 : close_paren],
            state=fields[0],
            ppid=int(fields[1]),
            pgrp=int(fields[2]),
            tpgid=int(fields[5]),
            cpu_ticks=int(fields[11]) + int(fields[12]),
            child_cpu_ticks=int(fields[13]) + int(fields[14]),
            threads=int(fields[17]) if len(fields) > 19 else 1,
            start_ticks=int(fields[19]) if len(fields) > 19 else 0,
        )
    except ValueError:
        return None


def _read(path: str) -> bytes:
    """A whole /proc file, with plain system calls (half the cost of ``open()``, read for every
    process of every pane each cycle). Raises OSError as open() does."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.read(fd, 8192)
        if not data:
            return data
        parts = [data]
        while chunk := os.read(fd, 65536):  # a short read is not the end of a seq_file
            parts.append(chunk)
        return parts[0] if len(parts) == 1 else b"".join(parts)
    finally:
        os.close(fd)


def read_process(pid: int, proc: str = PROC) -> ProcessInfo | None:
    """One process, or None when it vanished or cannot be read."""
    try:
        stat = _parse_stat(_read(f"{proc}/{pid}/stat").decode("utf-8", "replace"))
        if stat is None:
            return None
        argv = _read_argv(pid, proc)
    except OSError:
        return None
    return _info(pid, stat, argv)


def process_states(pids: Iterable[int], proc: str = PROC) -> dict[int, str]:
    """The state letter (``R``, ``S``, ``T``, ``Z``...) of each of these processes that exists: one read
    of its ``stat`` each (a :data:`~tmux_orc.core.ports.ProcessProbe`)."""
    states: dict[int, str] = {}
    for pid in pids:
        try:
            raw = _read(f"{proc}/{pid}/stat")
        except OSError:
            continue  # gone
        end = raw.rfind(b")")  # the state follows "(comm) ", and comm may hold anything
        if 0 < end < len(raw) - 2:
            states[pid] = chr(raw[end + 2])
    return states


def _read_argv(pid: int, proc: str) -> tuple[str, ...]:
    raw_argv = _read(f"{proc}/{pid}/cmdline")
    return tuple(part.decode("utf-8", "replace") for part in raw_argv.split(b"\0") if part)


def _info(pid: int, stat: _Stat, argv: tuple[str, ...]) -> ProcessInfo:
    return ProcessInfo(
        pid=pid,
        ppid=stat.ppid,
        state=stat.state,
        comm=stat.comm,
        argv=argv,
        pgrp=stat.pgrp,
        tpgid=stat.tpgid,
        cpu_seconds=stat.cpu_ticks / CLOCK_TICKS,
        child_cpu_seconds=stat.child_cpu_ticks / CLOCK_TICKS,
    )


@dataclass(slots=True)
class ProcessTable:
    """All processes at one instant, indexed by pid and by parent."""

    by_pid: dict[int, ProcessInfo] = field(default_factory=dict)
    children_of: dict[int, list[int]] = field(default_factory=dict)

    @classmethod
    def from_processes(cls, processes: list[ProcessInfo]) -> ProcessTable:
        table = cls()
        for info in processes:
            table.by_pid[info.pid] = info
            table.children_of.setdefault(info.ppid, []).append(info.pid)
        return table

    def get(self, pid: int) -> ProcessInfo | None:
        return self.by_pid.get(pid)

    def children(self, pid: int) -> list[ProcessInfo]:
        return [self.by_pid[c] for c in self.children_of.get(pid, ()) if c in self.by_pid]

    def descendants(self, pid: int, max_depth: int = 8) -> Iterator[tuple[int, ProcessInfo]]:
        """(depth, process) for every process below ``pid``, breadth first, bounded in depth."""
        frontier = [pid]
        for depth in range(1, max_depth + 1):
            nxt: list[int] = []
            for parent in frontier:
                for child in self.children(parent):
                    yield depth, child
                    nxt.append(child.pid)
            if not nxt:
                return
            frontier = nxt


def read_process_table(proc: str = PROC) -> ProcessTable:
    """Read every process of the machine once (about 1 ms per 100 processes). Raises OSError when /proc
    cannot be listed (an empty table would make every agent look crashed)."""
    processes: list[ProcessInfo] = []
    for name in os.listdir(proc):  # an OSError here means no facts at all: the caller must not guess
        if name.isdigit():
            info = read_process(int(name), proc)
            if info is not None:
                processes.append(info)
    return ProcessTable.from_processes(processes)


def children_files_available(proc: str = PROC) -> bool:
    """True when the kernel lists each thread's children (``CONFIG_PROC_CHILDREN``, on in common kernels)."""
    return os.path.exists(f"{proc}/{os.getpid()}/task/{os.getpid()}/children")


def child_pids(pid: int, proc: str = PROC, threads: int = 0) -> list[int]:
    """Children of ``pid`` (of every one of its threads); [] when it vanished. ``threads`` 1 (its
    ``num_threads``): only the main thread's children file is read, without listing the threads."""
    out: list[int] = []
    if threads == 1:
        tasks = [str(pid)]
    else:
        try:
            tasks = os.listdir(f"{proc}/{pid}/task")
        except OSError:
            return out
    for tid in tasks:
        try:
            out.extend(int(c) for c in _read(f"{proc}/{pid}/task/{tid}/children").split())
        except (OSError, ValueError):
            continue  # the thread ended between the listing and the read
    return out


ARGV_FRESH = 10.0  # seconds a command line read is trusted while the process keeps its pid, start and name


class ProcessTreeReader:
    """Reads the process trees under the panes' pids, cycle after cycle (a :data:`ProcessReader`).

    A process's command line changes only when it runs ``exec`` (or rewrites its title, which renames
    it too), so it is kept from one reading to the next while the process keeps its pid, start time
    and name, for ``argv_fresh`` seconds at most. Safe to call from several threads at once.
    """

    def __init__(self, proc: str = PROC, max_depth: int = 9, argv_fresh: float = ARGV_FRESH,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.proc = proc
        self.max_depth = max_depth
        self.argv_fresh = argv_fresh
        self.clock = clock
        self._argv: dict[int, tuple[int, str, float, tuple[str, ...]]] = {}  # pid -> (start, comm, read at, argv)

    def __call__(self, roots: Sequence[int]) -> ProcessTable:
        """The processes under ``roots`` (each root included), ``max_depth`` levels down: the same
        :class:`ProcessTable` the detectors read, holding only these trees. Falls back to
        :func:`read_process_table` (raising OSError as it does) when children files are unavailable."""
        if not children_files_available(self.proc):
            return read_process_table(self.proc)
        now = self.clock()
        known = self._argv
        kept: dict[int, tuple[int, str, float, tuple[str, ...]]] = {}
        processes: list[ProcessInfo] = []
        seen: set[int] = set()
        frontier = [pid for pid in dict.fromkeys(roots) if pid > 0]
        for _depth in range(self.max_depth + 1):
            nxt: list[int] = []
            for pid in frontier:
                if pid in seen:
                    continue
                seen.add(pid)
                try:
                    stat = _parse_stat(_read(f"{self.proc}/{pid}/stat").decode("utf-8", "replace"))
                    if stat is None:
                        continue
                    entry = known.get(pid)
                    # An empty command line is not kept: a process caught in the middle of exec has its new
                    # name but not yet its arguments (a kernel thread or a zombie costs a read each time).
                    if (entry is None or entry[:2] != (stat.start_ticks, stat.comm) or not entry[3]
                            or now - entry[2] > self.argv_fresh):
                        entry = (stat.start_ticks, stat.comm, now, _read_argv(pid, self.proc))
                except OSError:
                    continue  # gone between its parent's reading and its own
                kept[pid] = entry
                processes.append(_info(pid, stat, entry[3]))
                nxt.extend(child_pids(pid, self.proc, stat.threads))
            if not nxt:
                break
            frontier = nxt
        known.update(kept)
        if len(known) > 2 * len(kept) + 256:  # a reading may cover a few trees only: drop what is too old to use
            self._argv = {pid: entry for pid, entry in known.items() if now - entry[2] <= self.argv_fresh}
        return ProcessTable.from_processes(processes)


def read_process_trees(roots: Iterable[int], proc: str = PROC, max_depth: int = 9) -> ProcessTable:
    """One reading of the process trees under ``roots`` (:class:`ProcessTreeReader`, nothing kept)."""
    return ProcessTreeReader(proc, max_depth)(list(roots))
