"""The change feed (tmux/notify.py) on a private tmux server, and the daemon publishing between cycles."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from tests.harness.aio import run_async
from tests.harness.signals import SignalRecorder
from tests.harness.tmux import TmuxTestServer
from tmux_orc.demo.screens import PANE_TITLE, SimScreen, render
from tmux_orc.tmux.control import quote
from tmux_orc.tmux.flow import FrameMeter
from tmux_orc.tmux.notify import OutputWatch

SPINNER = 'i=0; while :; do i=$((i+1)); printf "\\r* Thinking (%ss, %s tokens)" "$i" "$((i*7))"; sleep 0.1; done'


async def next_change(watch: OutputWatch, timeout: float = 10.0) -> set[str]:
    return await asyncio.wait_for(watch.changed(), timeout)


async def quiet(watch: OutputWatch, seconds: float = 1.0) -> set[str]:
    """What changed over ``seconds`` (an empty set when nothing did)."""
    try:
        return await asyncio.wait_for(watch.changed(), seconds)
    except TimeoutError:
        return set()


def session_id(tmux: TmuxTestServer, name: str) -> str:
    return tmux.run("display-message", "-p", "-t", f"{name}:", "#{session_id}").strip()


@run_async
async def test_a_pane_counts_as_changed_on_new_letters_only(tmux_srv: TmuxTestServer, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    spinner = tmux_srv.new_session("a", "spin", f"sh -c {quote(SPINNER)}")
    ask = f"read x < {fifo}; echo Do you want to proceed; sleep 600"
    asker = tmux_srv.new_window("a", "ask", f"sh -c {quote(ask)}")
    other = tmux_srv.new_session("b", "elsewhere", f"sh -c {quote(SPINNER)}")
    structure: list[bool] = []
    watch = OutputWatch(str(tmux_srv.socket))
    watch.on_structure = lambda: structure.append(True)
    try:
        await watch.watch({session_id(tmux_srv, "a")})
        assert watch.sessions == {session_id(tmux_srv, "a")}
        assert spinner in await next_change(watch)  # its first frame is news
        changed = await quiet(watch)
        assert spinner not in changed and other not in changed  # more frames: same letters; b is not watched
        await asyncio.to_thread(fifo.write_text, "\n")
        assert asker in await next_change(watch)  # a dialog drawn: read at once
        watch.forget(spinner)  # its meaning changed (as the core says after a reading)
        assert spinner in await next_change(watch)
        tmux_srv.new_window("a", "new", "sleep 600")
        for _ in range(50):
            if structure:
                break
            await asyncio.sleep(0.1)
        assert structure  # a window came: the next reconciliation is brought forward
        size = tmux_srv.run("display-message", "-p", "-t", spinner, "#{window_width}x#{window_height}").strip()
        assert size == f"{tmux_srv.width}x{tmux_srv.height}"  # the output client never resized a window
        await watch.watch(set())
        assert watch.sessions == set()
    finally:
        await watch.close()


def dialog_agent(tmp_path: Path) -> str:
    """A Claude-like agent at its prompt that draws a permission dialog when a line arrives on its FIFO."""
    fifo = tmp_path / "dialog-fifo"
    os.mkfifo(fifo)
    files = {}
    for name, screen in (("idle", SimScreen()), ("dialog", SimScreen(phase="permission", permission_command="ls",
                                                                     permission_reason="list files"))):
        files[name] = tmp_path / f"{name}.ans"
        text = f"\033]0;{PANE_TITLE}\007\033[H\033[2J" + "\r\n".join(render(screen, 120, 40))
        files[name].write_text(text, encoding="utf-8")
    body = f"cat {quote(str(files['idle']))}; read x < {quote(str(fifo))}; cat {quote(str(files['dialog']))}; sleep 600"
    return f"exec -a claude-standin sh -c {quote(body)}"


def test_a_dialog_is_published_between_cycles(tmux_srv: TmuxTestServer, daemon: Any, tmp_path: Path) -> None:
    """With cycles 60 s apart, the change feed alone publishes a permission dialog (no cycle ran)."""
    tmux_srv.new_session("team", "Claude-developer", dialog_agent(tmp_path))
    d = daemon(tmux_srv, interval=60)
    d.wait_state("team:0.0", "idle")  # first cycle, confirmed by a reading ~100 ms later
    cycles = d.call("GetStatus")[0]["cycles"]
    with SignalRecorder(d.address) as signals:
        (tmp_path / "dialog-fifo").write_text("\n")
        change = signals.wait_for("AgentStateChanged", lambda b: b[1] == "team:0.0" and b[3] == "waiting_input")
    assert change[2] == "idle"
    assert d.call("GetStatus")[0]["cycles"] == cycles  # published between cycles
    metrics = d.call("GetMetrics")[0]
    assert metrics["cycles"] == cycles
    assert metrics["output_holding"] == 0  # one agent's frames: nothing held back


@run_async
async def test_a_held_spinner_costs_few_notifications_and_is_read_when_it_stops(
        tmux_srv: TmuxTestServer, tmp_path: Path) -> None:
    stop = tmp_path / "stop"
    body = (f'i=0; while [ ! -e {quote(str(stop))} ]; do i=$((i+1)); printf "\\r* Thinking (%ss)" "$i"; '
            'sleep 0.1; done; printf "\\r\\nDo you want to proceed?"; sleep 600')
    spinner = tmux_srv.new_session("a", "spin", f"sh -c {quote(body)}")
    watch = OutputWatch(str(tmux_srv.socket), hold=1.0, quiet=0.4)
    watch.meter = FrameMeter(budget=0)  # held from its first frame on, as under many spinners
    try:
        await watch.watch({session_id(tmux_srv, "a")}, {spinner})
        assert spinner in await next_change(watch)  # its first frame is news
        await quiet(watch, 0.5)
        before = watch.notifications
        assert spinner not in await quiet(watch, 3.0)  # ~30 frames, the same letters
        assert watch.notifications - before <= 12  # held: about one frame a second reaches us
        assert spinner in await watch.unsure()  # frames were dropped: the follower reads it each cycle
        stop.touch()  # it stops animating and asks: drawn while held or not, it is read
        assert spinner in await next_change(watch, 5.0)
    finally:
        await watch.close()


@run_async
async def test_few_spinners_stream_and_a_dialog_over_one_is_read_at_once(
        tmux_srv: TmuxTestServer, tmp_path: Path) -> None:
    """Below the frame budget a spinner is not held back: every frame comes (and is dropped as
    nothing new), and the dialog that replaces it is news the moment it is drawn."""
    stop = tmp_path / "stop"
    body = (f'i=0; while [ ! -e {quote(str(stop))} ]; do i=$((i+1)); printf "\\r* Thinking (%ss)" "$i"; '
            'sleep 0.1; done; printf "\\r\\nDo you want to proceed?"; sleep 600')
    spinner = tmux_srv.new_session("a", "spin", f"sh -c {quote(body)}")
    watch = OutputWatch(str(tmux_srv.socket), hold=1.0, quiet=0.4)
    try:
        await watch.watch({session_id(tmux_srv, "a")}, {spinner})
        assert spinner in await next_change(watch)
        await quiet(watch, 0.5)
        before = watch.notifications
        assert spinner not in await quiet(watch, 2.0)  # ~20 frames, the same letters: no change
        assert watch.notifications - before >= 10  # streamed, not held
        assert not watch.meter.holding(time.monotonic())
        stop.touch()
        t0 = time.monotonic()
        assert spinner in await next_change(watch, 5.0)
        assert time.monotonic() - t0 < 2.0  # as it comes (a held pane would wait out its hold)
    finally:
        await watch.close()


@run_async
async def test_a_feed_attached_again_reports_its_followed_panes(tmux_srv: TmuxTestServer, tmp_path: Path) -> None:
    """A change drawn while the session's output client was gone (its tmux -C died) reached no one:
    once attached again, the feed reports every followed pane, to be read."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    ask = f"read x < {fifo}; echo Do you want to proceed; sleep 600"
    asker = tmux_srv.new_session("a", "ask", f"sh -c {quote(ask)}")
    watch = OutputWatch(str(tmux_srv.socket))
    try:
        sid = session_id(tmux_srv, "a")
        await watch.watch({sid}, {asker})
        await quiet(watch)
        conn = watch._clients[sid]._conn
        assert conn is not None
        conn.proc.kill()  # the tmux -C process this feed started
        for _ in range(100):
            if not watch._clients[sid].connected:
                break
            await asyncio.sleep(0.05)
        assert not watch._clients[sid].connected
        await asyncio.to_thread(fifo.write_text, "\n")  # drawn while no output client is attached
        await asyncio.sleep(0.3)
        await watch.watch({sid}, {asker})
        assert watch.sessions == {sid}
        assert asker in await next_change(watch)
    finally:
        await watch.close()
