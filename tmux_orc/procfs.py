"""One read of /proc per cycle, shared by every pane (the per-cycle layer of the seed's LayeredCache)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from tmux_orc.model import ProcessInfo

PROC = "/proc"


def _parse_stat(raw: str) -> tuple[str, str, int, int, int] | None:
    """(comm, state, ppid, pgrp, tpgid) from /proc/PID/stat; comm may hold spaces and parentheses."""
    open_paren = raw.find("(")
    close_paren = raw.rfind(")")
    if open_paren < 0 or close_paren < open_paren:
        return None
    comm = raw[open_paren + 1 : close_paren]
    fields = raw[close_paren + 2 :].split()
    if len(fields) < 6:
        return None
    try:
        return comm, fields[0], int(fields[1]), int(fields[2]), int(fields[5])
    except ValueError:
        return None


def read_process(pid: int, proc: str = PROC) -> ProcessInfo | None:
    """One process, or None when it vanished or cannot be read."""
    try:
        with open(f"{proc}/{pid}/stat", encoding="utf-8", errors="replace") as fh:
            parsed = _parse_stat(fh.read())
        if parsed is None:
            return None
        with open(f"{proc}/{pid}/cmdline", "rb") as fh:
            raw_argv = fh.read()
    except OSError:
        return None
    comm, state, ppid, pgrp, tpgid = parsed
    argv = tuple(part.decode("utf-8", "replace") for part in raw_argv.split(b"\0") if part)
    return ProcessInfo(pid=pid, ppid=ppid, state=state, comm=comm, argv=argv, pgrp=pgrp, tpgid=tpgid)


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
