"""The ports over several tmux servers: qualified names out, each request back to its own server.

The per-server pieces are replaced by recording doubles (no tmux runs here); the real servers are in
tests/integration/test_multiserver.py.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tmux_orc.core.hooks import HookInbox
from tmux_orc.core.ports import OpenedWindow, ServerUnavailable
from tmux_orc.core.strategy import CaptureResult
from tmux_orc.core.tracker import StateTracker
from tmux_orc.model import PaneInfo, ProcessFacts, Role
from tmux_orc.sockets import WatchedSockets
from tmux_orc.tmux.flow import HOLD, STREAM_BUDGET
from tmux_orc.tmux.multiplex import MultiFeed, MultiPaneActions, MultiPaneSource, RoutedStrategy
from tmux_orc.tmux.servers import ServerGone, TmuxServer, TmuxServers


def pane(pane_id: str, session: str = "team", index: int = 0) -> PaneInfo:
    return PaneInfo(pane_id=pane_id, session=session, window_index=index, window_name="Claude-pm", pane_index=0,
                    pane_pid=100 + index, current_command="claude", session_id="$0", window_id=f"@{index}")


def bind(path: Path) -> None:
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()


class Source:
    def __init__(self, result: list[PaneInfo] | Exception) -> None:
        self.result = result

    async def list_panes(self) -> list[PaneInfo]:
        if isinstance(self.result, Exception):
            raise self.result
        return list(self.result)


class Actions:
    def __init__(self, name: str, calls: list[tuple[str, ...]]) -> None:
        self.name, self.calls = name, calls

    async def pane_pid(self, pane_id: str) -> int | None:
        self.calls.append((self.name, "pid", pane_id))
        return 7

    async def open_window(self, session_id: str, session: str, name: str, start_dir: str,
                          command: str) -> OpenedWindow:
        self.calls.append((self.name, "open", session_id, session))
        return OpenedWindow("%9", 99, 4)

    async def paste(self, pane_id: str, text: str) -> None:
        self.calls.append((self.name, "paste", pane_id))


class Strategy:
    name = "concurrent"

    def __init__(self, server: str) -> None:
        self.server = server
        self.seen: list[list[str]] = []

    async def capture(self, panes: Sequence[PaneInfo], *, full: bool) -> CaptureResult:
        self.seen.append([p.pane_id for p in panes])
        return CaptureResult(screens={p.pane_id: f"{self.server} {p.pane_id}" for p in panes})

    async def aclose(self) -> None:
        return None


class Feed:
    def __init__(self) -> None:
        self.watched: set[str] = set()
        self.forgotten: list[str] = []
        self.pending: asyncio.Queue[set[str]] = asyncio.Queue()
        self.notifications = self.changes = 0
        self.agent_panes: set[str] | None = None

    async def watch(self, sessions: set[str], panes: set[str] | None = None) -> None:
        self.watched = sessions
        self.agent_panes = panes

    async def unsure(self) -> set[str]:
        return set()

    def watching(self) -> set[str]:
        return self.watched

    def forget(self, pane_id: str) -> None:
        self.forgotten.append(pane_id)

    async def changed(self, timeout: float | None = None) -> set[str]:
        try:
            return await asyncio.wait_for(self.pending.get(), timeout)
        except TimeoutError:
            return set()

    async def close(self) -> None:
        return None


def servers_in(directory: Path, *names: str) -> TmuxServers:
    for name in names:
        bind(directory / name)
    servers = TmuxServers(WatchedSockets(None, directory))
    servers.refresh()
    return servers


def server(servers: TmuxServers, name: str) -> TmuxServer:
    found = servers.by_name(name)
    assert found is not None
    return found


def test_discovery_names_and_home(tmp_path: Path) -> None:
    servers = servers_in(tmp_path, "default", "work")
    assert [(s.name, s.prefix) for s in servers.refresh()] == [("default", ""), ("work", "work.")]
    (tmp_path / "work").unlink()
    (tmp_path / "notes.txt").write_text("not a socket")
    assert [s.name for s in servers.refresh()] == ["default"]
    assert [s.name for s in servers.retired] == ["work"]
    bind(tmp_path / "late")
    assert [s.name for s in servers.refresh()] == ["default", "late"]


def test_routing_never_crosses_servers(tmp_path: Path) -> None:
    servers = servers_in(tmp_path, "default", "work", "work.x")
    assert (servers.route("%3")[0].name, servers.route("%3")[1]) == ("default", "%3")
    assert (servers.route("work.%3")[0].name, servers.route("work.%3")[1]) == ("work", "%3")
    assert (servers.route("work.x.%3")[0].name, servers.route("work.x.%3")[1]) == ("work.x", "%3")  # longest
    assert servers.route("work.$1")[1] == "$1" and servers.route("work.team")[1] == "team"
    with pytest.raises(ServerGone):
        servers.route("gone.%3")


def test_without_a_home_server_every_name_is_qualified(tmp_path: Path) -> None:
    servers = servers_in(tmp_path, "work")
    with pytest.raises(ServerGone):
        servers.route("%3")
    work = server(servers, "work")
    qualified = work.qualified(pane("%3"))
    assert (qualified.pane_id, qualified.session, qualified.session_id, qualified.window_id, qualified.server) == (
        "work.%3", "work.team", "work.$0", "work.@0", "work")
    assert qualified.target == "work.team:0.0"
    assert work.local(qualified) == replace(pane("%3"), server="work")


def test_listing_qualifies_and_skips_servers_that_are_not_there(tmp_path: Path) -> None:
    servers = servers_in(tmp_path, "default", "work", "dead")
    server(servers, "default").source = Source([pane("%0")])  # type: ignore[assignment]
    server(servers, "work").source = Source([pane("%0"), pane("%1", index=1)])  # type: ignore[assignment]
    server(servers, "dead").source = Source(ServerUnavailable("no server running on dead"))  # type: ignore[assignment]
    listed = asyncio.run(MultiPaneSource(servers).list_panes())
    assert [(p.server, p.target, p.pane_id) for p in listed] == [
        ("default", "team:0.0", "%0"), ("work", "work.team:0.0", "work.%0"), ("work", "work.team:1.0", "work.%1")]
    dead = {s["name"]: s for s in servers.infos()}["dead"]
    assert dead["connected"] is False and dead["error"] == "no server running on dead"
    assert server(servers, "dead").retry_at > 0  # asked again after a backoff


def test_listing_fails_only_when_no_server_answers(tmp_path: Path) -> None:
    servers = servers_in(tmp_path, "default")
    server(servers, "default").source = Source(ServerUnavailable("no server running"))  # type: ignore[assignment]
    with pytest.raises(ServerUnavailable, match="no server running"):
        asyncio.run(MultiPaneSource(servers).list_panes())
    empty = TmuxServers(WatchedSockets(None, tmp_path / "none"))
    with pytest.raises(ServerUnavailable, match="no tmux socket in"):
        asyncio.run(MultiPaneSource(empty).list_panes())


def test_a_slow_server_keeps_its_last_panes(tmp_path: Path) -> None:
    servers = servers_in(tmp_path, "default", "work")
    source = MultiPaneSource(servers)
    server(servers, "default").source = Source([pane("%0")])  # type: ignore[assignment]
    server(servers, "work").source = Source([pane("%0")])  # type: ignore[assignment]
    asyncio.run(source.list_panes())
    server(servers, "work").source = Source(TimeoutError("slow"))  # type: ignore[assignment]
    assert [p.pane_id for p in asyncio.run(source.list_panes())] == ["%0", "work.%0"]


def test_actions_go_to_the_pane_s_own_server(tmp_path: Path) -> None:
    servers = servers_in(tmp_path, "default", "work")
    calls: list[tuple[str, ...]] = []
    for s in servers.servers.values():
        s.actions = Actions(s.name, calls)  # type: ignore[assignment]
    actions = MultiPaneActions(servers)

    async def go() -> Any:
        await actions.paste("work.%0", "hello")
        await actions.paste("%0", "hello")
        opened = await actions.open_window("work.$0", "work.team", "Claude-pm", "/", "claude")
        gone = await actions.pane_pid("old.%1")
        return opened, gone

    opened, gone = asyncio.run(go())
    assert calls == [("work", "paste", "%0"), ("default", "paste", "%0"), ("work", "open", "$0", "team")]
    assert opened == OpenedWindow("work.%9", 99, 4) and gone is None


def test_each_server_captures_its_own_panes(tmp_path: Path) -> None:
    servers = servers_in(tmp_path, "default", "work")
    doubles = {name: Strategy(name) for name in ("default", "work")}
    for s in servers.servers.values():
        s.strategies["concurrent"] = doubles[s.name]
    panes = [server(servers, "default").qualified(pane("%0")), server(servers, "work").qualified(pane("%0")),
             PaneInfo(pane_id="old.%5", session="old.t", window_index=0, window_name="w", pane_index=0,
                      pane_pid=1, current_command="x", server="old")]
    result = asyncio.run(RoutedStrategy("concurrent", servers).capture(panes, full=True))
    assert doubles["work"].seen == [["%0"]] and doubles["default"].seen == [["%0"]]
    assert result.screens == {"%0": "default %0", "work.%0": "work %0"}
    assert "not watched" in result.errors["old.%5"]


def test_the_change_feed_of_every_server(tmp_path: Path) -> None:
    servers = servers_in(tmp_path, "default", "work")
    feeds = {name: Feed() for name in ("default", "work")}
    for s in servers.servers.values():
        s.feed = feeds[s.name]  # type: ignore[assignment]
    feed = MultiFeed(servers)

    async def go() -> tuple[set[str], set[str]]:
        await feed.watch({"$0", "work.$0", "work.$2", "gone.$1"})
        feed.forget("work.%1")
        feeds["work"].pending.put_nowait({"%1"})
        first = await asyncio.wait_for(feed.changed(), 5)
        feeds["default"].pending.put_nowait({"%4"})
        second = await asyncio.wait_for(feed.changed(), 5)
        assert await feed.changed(0.05) == set()  # nothing new: empty after the timeout
        return first, second

    first, second = asyncio.run(go())
    assert feeds["default"].watched == {"$0"} and feeds["work"].watched == {"$0", "$2"}
    assert feed.watching() == {"$0", "work.$0", "work.$2"}
    assert feeds["work"].forgotten == ["%1"]
    assert (first, second) == ({"work.%1"}, {"%4"})
    asyncio.run(feed.watch({"work.$0"}, {"work.%1"}))  # only these panes hold agents, each on its server
    assert feeds["work"].agent_panes == {"%1"} and feeds["default"].agent_panes == set()


def test_a_hook_is_looked_up_on_its_own_server(tmp_path: Path) -> None:
    tracker = StateTracker()
    facts = ProcessFacts(kind="claude", agent_pid=5)
    watched = WatchedSockets(None, tmp_path)
    for p in (pane("%0"), TmuxServers(watched)._make(str(tmp_path / "work")).qualified(pane("%0"))):
        tracker.upsert(p, Role.PM, "claude", facts, "polling", 0.0)
    inbox = HookInbox(tracker, lambda: 1.0)
    view = inbox.report("%0", "Stop", {}, str(tmp_path / "work"), watched)
    assert view is not None and view.id == "work.team:0.0" and view.server == "work"
    assert inbox.report("%0", "Stop", {}, str(tmp_path / "default"), watched).id == "team:0.0"  # type: ignore[union-attr]
    assert inbox.report("%7", "SessionStart", {}, str(tmp_path / "work"), watched) is None  # kept for work.%7
    assert inbox.where("%0", str(tmp_path / "work"), watched) == "work.%0"  # where its re-checks look
    assert inbox.where("%0", "", watched) == "%0"
    with pytest.raises(LookupError, match="this daemon watches every tmux server under"):
        inbox.report("%0", "Stop", {}, "/elsewhere/default", watched)


def test_status_text_names_the_servers(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from tmux_orc.service.daemon import status_line

    infos = [{"name": "default", "connected": True, "error": ""},
             {"name": "work", "connected": False, "error": "no server running on /t/work"}]
    service = SimpleNamespace(running=True, agent_count=0, tmux_connected=True, tmux_servers=lambda: infos,
                              core=SimpleNamespace(sockets=WatchedSockets(None, tmp_path)), agents=lambda: [],
                              last_cycle_ms=3.0, get_rollout_stage=lambda: "full")
    line = status_line(SimpleNamespace(service=service))  # type: ignore[arg-type]
    assert line.endswith("; tmux default; not reached: work (no server running on /t/work)"), line
    service.tmux_connected = False
    assert status_line(SimpleNamespace(service=service)) == (  # type: ignore[arg-type]
        f"waiting for a tmux server under {tmp_path}; tried work (no server running on /t/work)")


def test_spinner_hold_reaches_every_servers_change_feed(tmp_path: Path) -> None:
    """``spinner_hold`` sets how long each server's output client holds a spinner back; 0 streams every
    frame (no flow control)."""
    watched = WatchedSockets([str(tmp_path / "a"), str(tmp_path / "b")], tmp_path)
    held = TmuxServers(watched, spinner_hold=2.5)
    assert [(s.feed.hold, s.feed.flow_control) for s in held.servers.values()] == [(2.5, True), (2.5, True)]
    streamed = TmuxServers(watched, spinner_hold=0)
    assert all(not s.feed.flow_control for s in streamed.servers.values())
    assert all(s.feed.hold == HOLD for s in TmuxServers(watched).servers.values())
    budgets = {s.feed.meter.budget for s in TmuxServers(watched, stream_budget=0).servers.values()}
    assert budgets == {0}
    assert {s.feed.meter.budget for s in TmuxServers(watched).servers.values()} == {STREAM_BUDGET}


def test_an_unchanged_row_is_qualified_once(tmp_path: Path) -> None:
    """The source gives an unchanged row as the same object: it gets the same qualified one back; a row
    that changed, or an equal row from another object, is qualified afresh (and equal to it)."""
    work = server(servers_in(tmp_path, "work"), "work")
    row, other = pane("%3"), pane("%4", index=1)
    first = work.qualify_all([row, other])
    again = work.qualify_all([row, replace(other, title="✶ busy")])
    assert again[0] is first[0] and again[1] is not first[1] and again[1].title == "✶ busy"
    copy = replace(row)
    fresh = work.qualify_all([copy])
    assert fresh[0] is not first[0] and fresh[0] == first[0] and fresh[0].pane_id == "work.%3"
