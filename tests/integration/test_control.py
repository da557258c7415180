"""ControlClient against a real, private tmux server per test (never the user's server)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.aio import run_async
from tmux_orc.tmux.control import (
    ControlClient,
    TmuxCommandError,
    TmuxDisconnected,
    TmuxTimeout,
    check_command,
    quote,
)
from tmux_orc.tmux.runner import SERVICE_ONLY_VARIABLES, clean_environment

NASTY = [
    "it's",
    'say "hi"',
    "a;b ; c \\; d;",
    "$HOME ${X} `id` $(id)",
    "~ ~/x ~root",
    "#{pane_id} # not a comment",
    "{ braces }",
    "back\\slash\\",
    "two\nlines\n",
    "tab\there",
    "ünïcödé ✓ 漢字",
    "%if 1",
    "'",
    '"',
    "\\",
    "  lead and trail  ",
    "esc\x1b[31mred\x7f",
]


class PrivateTmux:
    """A tmux server of our own, on a socket under the test's tmp dir; killed by its socket and pid."""

    def __init__(self, socket: Path) -> None:
        self.socket = str(socket)
        self.pids: list[int] = []

    def tmux(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(
            ["tmux", "-S", self.socket, *args],
            capture_output=True,
            text=True,
            env=clean_environment(),
            timeout=10,
            check=False,
        )
        if check and proc.returncode != 0:
            raise RuntimeError(f"tmux {args}: {proc.stderr.strip()}")
        return proc.stdout

    def start(self, *args: str, size: str = "80x24") -> None:
        width, height = size.split("x")
        self.tmux("-f", "/dev/null", "new-session", "-d", "-x", width, "-y", height, *args)
        self.pids.append(int(self.tmux("display", "-p", "#{pid}").strip()))

    def alive(self) -> bool:
        return (
            subprocess.run(
                ["tmux", "-S", self.socket, "-N", "list-sessions"],
                capture_output=True,
                env=clean_environment(),
                check=False,
            ).returncode
            == 0
        )

    def kill(self) -> None:
        self.tmux("kill-server", check=False)
        for pid in self.pids:
            for _ in range(50):
                if not pid_running(pid):
                    break
                time.sleep(0.02)
            else:
                os.kill(pid, signal.SIGKILL)
        self.pids.clear()


def pid_running(pid: int) -> bool:
    """True while the process exists and is not a zombie (an unreaped, exited server)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


@pytest.fixture
def tmux_srv(tmp_path: Path) -> Iterator[PrivateTmux]:
    srv = PrivateTmux(tmp_path / "sock")
    yield srv
    srv.kill()


def client_for(srv: PrivateTmux, **kwargs: float) -> ControlClient:
    return ControlClient(srv.socket, backoff_initial=0.05, backoff_max=0.2, **kwargs)  # type: ignore[arg-type]


def test_quote_and_check_command() -> None:
    assert quote("") == "''"
    assert quote("%12") == "'%12'"
    assert quote("it's") == "'it'\"'\"'s'"
    assert quote("a\nb") == "'a'\"\\012\"'b'"
    for bad in (
        "",
        "   ",
        "# note",
        "display a ; display b",
        "display a;",
        "a\nb",
        "%if 1",
        "{ x }",
        "if-shell true 'display x'",
        "run -C 'display x'",
        "source-file /dev/null",
        "refresh-client -C 80x24",
    ):
        with pytest.raises(ValueError):
            check_command(bad)
    for text in NASTY:
        check_command(f"display -p {quote(text)}")
    check_command("send-keys -t %1 \\;")


@run_async
async def test_pipelines_500_commands_and_bounds_in_flight(tmux_srv: PrivateTmux) -> None:
    tmux_srv.start()
    async with ControlClient(tmux_srv.socket, max_in_flight=16) as client:
        peak = 0
        done = False

        async def watch() -> None:
            nonlocal peak
            while not done:
                peak = max(peak, client.in_flight)
                await asyncio.sleep(0)

        watcher = asyncio.create_task(watch())
        calls = (client.command(f"display -p {quote(f'n{i} x')}") for i in range(500))
        replies = await asyncio.gather(*calls)
        done = True
        await watcher
        assert replies == [[f"n{i} x"] for i in range(500)]
        assert 1 < peak <= 16
        assert client.in_flight == 0


@run_async
async def test_errors_map_and_do_not_break_the_stream(tmux_srv: PrivateTmux) -> None:
    tmux_srv.start()
    async with ControlClient(tmux_srv.socket) as client:
        results = await asyncio.gather(
            client.command("display -p first"),
            client.command("capture-pane -p -t %999"),
            client.command("no-such-command"),
            client.command("display -p last"),
            return_exceptions=True,
        )
        assert results[0] == ["first"] and results[3] == ["last"]
        assert isinstance(results[1], TmuxCommandError) and "can't find pane" in str(results[1])
        assert results[1].command == "capture-pane -p -t %999"
        assert isinstance(results[2], TmuxCommandError) and "unknown command" in str(results[2])
        with pytest.raises(ValueError):
            await client.command("display -p a ; display -p b")


@run_async
async def test_timeout_then_late_reply_is_discarded(tmux_srv: PrivateTmux) -> None:
    tmux_srv.start()
    async with ControlClient(tmux_srv.socket) as client:
        # run-shell answers at once but holds this client's queue until the shell exits
        await client.command(f"run-shell {quote('sleep 1')}")
        t0 = time.monotonic()
        with pytest.raises(TmuxTimeout):
            await client.command("display -p late", timeout=0.2)
        assert time.monotonic() - t0 < 0.6
        # tmux answers in order: the next reply is ours, not the late one
        assert await client.command("display -p after", timeout=5) == ["after"]
        assert client.connected and client.in_flight == 0


@run_async
async def test_never_starts_a_server(tmp_path: Path) -> None:
    sock = tmp_path / "none"
    client = ControlClient(str(sock))
    with pytest.raises(TmuxDisconnected, match=r"error connecting|No such file"):
        await client.start()
    assert not await client.ensure_connected()
    assert not client.connected and not sock.exists()
    with pytest.raises(TmuxDisconnected):
        await client.command("display -p x")
    await client.close()


@run_async
async def test_server_without_sessions_is_not_connected(tmux_srv: PrivateTmux) -> None:
    tmux_srv.start()
    tmux_srv.tmux("set", "-g", "exit-empty", "off")
    tmux_srv.tmux("kill-session")
    client = client_for(tmux_srv)
    with pytest.raises(TmuxDisconnected, match="no sessions"):
        await client.start()
    assert tmux_srv.tmux("list-sessions", check=False) == ""
    await client.close()


@run_async
async def test_disconnect_when_server_dies_and_reconnect_when_back(tmux_srv: PrivateTmux) -> None:
    tmux_srv.start()
    client = client_for(tmux_srv)
    assert await client.ensure_connected()
    generation = client.generation
    await client.command(f"run-shell {quote('sleep 5')}")
    hung = asyncio.create_task(client.command("display -p hung", timeout=10))
    await asyncio.sleep(0.2)
    tmux_srv.kill()
    with pytest.raises(TmuxDisconnected):
        await hung
    assert not client.connected
    with pytest.raises(TmuxDisconnected):
        await client.command("display -p x")
    for _ in range(5):
        assert not await client.ensure_connected()
        await asyncio.sleep(0.1)
    assert not tmux_srv.alive()  # reconnect attempts never start a server
    tmux_srv.start()
    for _ in range(50):
        if await client.ensure_connected():
            break
        await asyncio.sleep(0.05)
    assert client.connected and client.generation == generation + 1
    assert await client.command("display -p back") == ["back"]
    await client.close()
    assert not client.connected


@run_async
async def test_killed_session_reattaches_elsewhere_and_is_not_kept(tmux_srv: PrivateTmux) -> None:
    tmux_srv.start("-s", "one")
    tmux_srv.tmux("new-session", "-d", "-s", "two")
    client = client_for(tmux_srv)
    assert await client.ensure_connected()
    attached = (await client.command("display -p '#{session_name}'"))[0]
    tmux_srv.tmux("kill-session", "-t", f"={attached}")
    for _ in range(50):
        if not client.connected:
            break
        await asyncio.sleep(0.02)
    assert not client.connected
    await asyncio.sleep(0.1)
    assert await client.ensure_connected()
    other = (await client.command("display -p '#{session_name}'"))[0]
    assert other != attached and other in ("one", "two")
    tmux_srv.tmux("kill-session", "-t", f"={other}")  # the last session: the server must exit
    for _ in range(100):
        if not tmux_srv.alive():
            break
        await asyncio.sleep(0.02)
    assert not tmux_srv.alive()
    await client.close()


@run_async
async def test_window_size_is_unchanged_while_attached(tmux_srv: PrivateTmux) -> None:
    tmux_srv.start(size="200x50")
    fmt = "#{window_width}x#{window_height}"

    def size() -> str:
        return tmux_srv.tmux("display", "-p", "-t", "%0", fmt).strip()

    assert size() == "200x50"
    async with ControlClient(tmux_srv.socket) as client:
        await client.command(f"split-window -d -t {quote('%0')}")
        await client.command(f"capture-pane -p -t {quote('%0')}")
        await asyncio.sleep(0.2)
        assert size() == "200x50"
        flags = tmux_srv.tmux("list-clients", "-F", "#{client_flags}")
        assert "ignore-size" in flags and "no-output" in flags
        # a user's client (here: another control client that sets a size) decides the size alone
        user = await asyncio.create_subprocess_exec(
            "tmux",
            "-S",
            tmux_srv.socket,
            "-C",
            "attach-session",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            env=clean_environment(),
        )
        assert user.stdin is not None
        user.stdin.write(b"refresh-client -C 120x40\n")
        await user.stdin.drain()
        for _ in range(50):
            if size() == "120x40":
                break
            await asyncio.sleep(0.02)
        assert size() == "120x40"
        user.stdin.close()
        await user.wait()
        await client.command("display -p still-here")
        await asyncio.sleep(0.2)
        assert size() == "120x40"


@run_async
async def test_quoted_arguments_round_trip_exactly(tmux_srv: PrivateTmux, tmp_path: Path) -> None:
    tmux_srv.start()
    async with ControlClient(tmux_srv.socket) as client:
        for i, text in enumerate(NASTY):
            out = tmp_path / f"buf{i}"
            await client.command(f"set-buffer -b {quote(f'b;{i}')} {quote(text)}")
            await client.command(f"save-buffer -b {quote(f'b;{i}')} {quote(str(out))}")
            assert out.read_text() == text, text


@run_async
async def test_send_keys_literal_round_trip(tmux_srv: PrivateTmux, tmp_path: Path) -> None:
    target = tmp_path / "typed"
    tmux_srv.start(f"stty raw -echo; exec cat > {target}")
    for _ in range(100):
        if tmux_srv.tmux("display", "-p", "-t", "%0", "#{pane_current_command}").strip() == "cat":
            break
        await asyncio.sleep(0.02)
    texts = [t for t in NASTY if "\x1b" not in t and "\x7f" not in t]
    async with ControlClient(tmux_srv.socket) as client:
        for text in texts:
            await client.command(f"send-keys -l -t {quote('%0')} {quote(text)}")
        expected = "".join(texts)
        for _ in range(100):
            if target.exists() and len(target.read_text()) >= len(expected):
                break
            await asyncio.sleep(0.02)
    assert target.read_text() == expected


@run_async
async def test_spawned_tmux_gets_a_clean_environment(
    tmux_srv: PrivateTmux, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmux_srv.start()
    for name in SERVICE_ONLY_VARIABLES:
        monkeypatch.setenv(name, "leak")
    monkeypatch.setenv("TMUX_ORC_KEEP", "yes")
    async with ControlClient(tmux_srv.socket) as client:
        assert client._conn is not None
        environ = Path(f"/proc/{client._conn.proc.pid}/environ").read_bytes().split(b"\0")
        names = {entry.split(b"=", 1)[0].decode() for entry in environ if entry}
        assert "TMUX_ORC_KEEP" in names
        assert not names & {
            "NOTIFY_SOCKET",
            "WATCHDOG_USEC",
            "WATCHDOG_PID",
            "INVOCATION_ID",
            "JOURNAL_STREAM",
            "LISTEN_FDS",
            "LISTEN_PID",
            "LISTEN_FDNAMES",
        }


@run_async
async def test_screen_text_that_looks_like_protocol_is_just_text(tmux_srv: PrivateTmux) -> None:
    tmux_srv.start("printf '%%begin 1 2 1\\n%%end 1 2 1\\n%%error 3 4 1\\n%%exit\\n'; exec sleep 600")
    await asyncio.sleep(0.3)
    async with ControlClient(tmux_srv.socket) as client:
        lines = await client.command("capture-pane -p -t %0")
        assert lines[:4] == ["%begin 1 2 1", "%end 1 2 1", "%error 3 4 1", "%exit"]
        assert await client.command("display -p ok") == ["ok"]
        assert client.connected
