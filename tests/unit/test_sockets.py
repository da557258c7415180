"""tmux server sockets and names: the ``tmux_socket`` setting, qualified names, and which server is home."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tmux_orc import sockets
from tmux_orc.config import ConfigError, load_settings
from tmux_orc.sockets import WatchedSockets


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in [k for k in os.environ if k.startswith("TMUX_ORC_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    yield


def test_socket_dir_follows_tmux() -> None:
    uid = os.getuid()
    assert sockets.socket_dir({}) == Path(f"/tmp/tmux-{uid}")
    assert sockets.socket_dir({"TMUX_TMPDIR": "/run/t"}) == Path(f"/run/t/tmux-{uid}")
    assert sockets.socket_dir({"TMUX_TMPDIR": ""}) == Path(f"/tmp/tmux-{uid}")


@pytest.mark.parametrize(("text", "parsed"), [
    ("/tmp/tmux-1000/default", "/tmp/tmux-1000/default"),
    ("work", "work"),
    ("default,work", ["default", "work"]),
    ("default, /run/x.sock", ["default", "/run/x.sock"]),
    ("default work", ["default", "work"]),
    ('["a,b/s", "work"]', ["a,b/s", "work"]),
])
def test_environment_values(text: str, parsed: object) -> None:
    assert sockets.parse_setting_text(text) == parsed


def test_a_path_with_a_space_that_exists_is_one_socket(tmp_path: Path) -> None:
    path = tmp_path / "my socks"
    path.write_text("")
    assert sockets.parse_setting_text(str(path)) == str(path)


def test_entries_resolve_names_under_the_socket_dir(tmp_path: Path) -> None:
    directory = Path("/tmp/tmux-7")
    assert sockets.watched_paths(None, directory) == []
    assert sockets.watched_paths("work", directory) == ["/tmp/tmux-7/work"]
    assert sockets.watched_paths(["/run/a.sock", "work", "/tmp/tmux-7/work"], directory) == [
        "/run/a.sock", "/tmp/tmux-7/work"]  # each socket once
    assert sockets.home_path(None, directory) == "/tmp/tmux-7/default"
    assert sockets.home_path(["work", "default"], directory) == "/tmp/tmux-7/work"
    assert sockets.resolve_entry("rel/s.sock", directory) == os.path.abspath("rel/s.sock")


@pytest.mark.parametrize("bad", ["", "   ", "a\nb", " work", "..", "/tmp/dir/", 7])
def test_bad_entries(bad: object) -> None:
    with pytest.raises(ValueError):
        sockets.check_entry(bad)


def test_setting_accepts_one_string_exactly_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMUX_ORC_TMUX_SOCKET", "/tmp/tmux-1000/default")
    assert load_settings().tmux_socket == "/tmp/tmux-1000/default"
    monkeypatch.setenv("TMUX_ORC_TMUX_SOCKET", "default, work")
    assert load_settings().tmux_socket == ["default", "work"]
    monkeypatch.delenv("TMUX_ORC_TMUX_SOCKET")
    assert load_settings().tmux_socket is None


def test_setting_from_a_toml_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text('tmux_socket = ["default", "/run/user/1/x.sock"]\n')
    monkeypatch.setenv("TMUX_ORC_CONFIG_FILE", str(path))
    assert load_settings().tmux_socket == ["default", "/run/user/1/x.sock"]


@pytest.mark.parametrize(("text", "needle"), [
    ("tmux_socket = []\n", "at least one socket"),
    ("tmux_socket = [1]\n", "must be a string"),
    ('tmux_socket = ["work", ""]\n', "must not be empty"),
    ('tmux_socket = ".."\n', "not a tmux -L name"),
    ("tmux_socket = 3\n", "TMUX_SOCKET"),
])
def test_bad_settings_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, needle: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    monkeypatch.setenv("TMUX_ORC_CONFIG_FILE", str(path))
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert needle in str(info.value) and "TMUX_ORC_TMUX_SOCKET" in str(info.value)


def test_names_and_qualifiers() -> None:
    assert sockets.unique_names(["/a/s", "/b/s", "/c/s"]) == {"/a/s": "s", "/b/s": "s-2", "/c/s": "s-3"}
    assert sockets.qualifier("work", home=False) == "work."
    assert sockets.qualifier("default", home=True) == ""
    assert sockets.local_name("work", "work.team") == "team"
    assert sockets.local_name("work", "team") == "team"
    assert sockets.local_name("", "x.y") == "x.y"


def _socket(path: Path) -> None:
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()


def test_watched_sockets_when_every_server_is_watched(tmp_path: Path) -> None:
    watched = WatchedSockets(None, tmp_path)
    assert watched.watch_all and watched.where() == f"under {tmp_path}"
    assert watched.prefix_of(str(tmp_path / "default")) == ""
    assert watched.prefix_of(str(tmp_path / "work")) == "work."
    assert watched.find(str(tmp_path / "work")) == str(tmp_path / "work")  # watched, even before it is seen
    assert watched.find("/elsewhere/work") is None
    assert watched.find("") is None
    link = tmp_path.parent / f"{tmp_path.name}-link"
    link.symlink_to(tmp_path)
    assert watched.find(str(link / "work")) == str(tmp_path / "work")


def test_watched_sockets_named_by_the_setting(tmp_path: Path) -> None:
    _socket(tmp_path / "a.sock")
    (tmp_path / "alias.sock").symlink_to(tmp_path / "a.sock")
    watched = WatchedSockets([str(tmp_path / "a.sock"), "work"], tmp_path / "dir")
    assert not watched.watch_all
    assert watched.home == str(tmp_path / "a.sock")
    assert watched.prefix_of(str(tmp_path / "a.sock")) == ""
    assert watched.prefix_of(str(tmp_path / "dir" / "work")) == "work."
    assert watched.find(str(tmp_path / "alias.sock")) == str(tmp_path / "a.sock")
    assert watched.find(str(tmp_path / "dir" / "other")) is None
    assert watched.describe() == f"{tmp_path / 'a.sock'}, {tmp_path / 'dir' / 'work'}"
