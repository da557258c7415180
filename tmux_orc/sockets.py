"""tmux server sockets: where tmux keeps them, what ``tmux_socket`` names, and server names in agent ids.

A leaf module (its only I/O: reading the environment, listing a directory's sockets and resolving
paths), shared by the settings, the tmux layer, the core's hook inbox, the D-Bus adapter and the CLI.

tmux keeps a user's server sockets in ``$TMUX_TMPDIR/tmux-UID/`` (``/tmp/tmux-UID/`` when TMUX_TMPDIR is
unset); ``tmux -L NAME`` is the socket ``NAME`` there, and plain ``tmux`` is ``default``. A server's
*name* is its socket's file name.

Names of panes, windows and sessions of several servers are told apart by a qualifier: every server
but the *home* one (the first of ``tmux_socket``, else ``default``) puts ``NAME.`` in front of its
session names and its ``%N`` / ``@N`` / ``$N`` ids, so its agents' ids and targets read
``NAME.SESSION:WINDOW.PANE``. tmux never lets a session name hold a ``.`` or a ``:`` (it turns both
into ``_``), and its ids hold neither, so a target whose part before the first ``:`` holds a ``.``
(or a ``%N`` form with a ``.``) can only be a qualified one: no session name can make it ambiguous.
The home server's names are tmux's own, exactly as with one server.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

SEPARATOR = "."
DEFAULT_NAME = "default"  # plain ``tmux``'s socket
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def socket_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where tmux keeps this user's sockets: ``$TMUX_TMPDIR/tmux-UID``, else ``/tmp/tmux-UID``."""
    env = os.environ if env is None else env
    return Path(env.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"


def find_sockets(directory: Path) -> list[Path]:
    """The socket files in ``directory`` (sorted; none when it is absent)."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    found = []
    for name in names:
        try:
            if stat.S_ISSOCK(os.lstat(directory / name).st_mode):
                found.append(directory / name)
        except OSError:
            continue  # vanished between listing and stat
    return found


def parse_setting_text(value: str) -> str | list[str]:
    """An environment value of ``tmux_socket``: a JSON list, or names and paths separated by commas or
    spaces; one entry stays the string it was.

    >>> parse_setting_text("/tmp/tmux-1000/default")
    '/tmp/tmux-1000/default'
    >>> parse_setting_text("default, work")
    ['default', 'work']
    >>> parse_setting_text('["a b/s", "work"]')
    ['a b/s', 'work']
    """
    text = value.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            return value  # refused by the check of entries, with the value quoted
        return parsed if isinstance(parsed, list) else value
    if "," in text:
        parts = [part.strip() for part in text.split(",")]
    elif len(text.split()) > 1 and not os.path.exists(text):  # a path with a space names itself
        parts = text.split()
    else:
        return value
    return parts if len(parts) > 1 else parts[0]


def entries(setting: str | Sequence[str] | None) -> list[str]:
    """The entries of a ``tmux_socket`` value (none when unset: every server is watched)."""
    if setting is None:
        return []
    return [setting] if isinstance(setting, str) else list(setting)


def check_entry(entry: object) -> str:
    """``entry`` when it can name a socket (a path, or a ``-L`` name); else ValueError saying why."""
    if not isinstance(entry, str):
        raise ValueError(f"each entry must be a string (a socket path or a tmux -L name), not {entry!r}")
    if not entry.strip():
        raise ValueError("must not be empty (leave the setting out to watch every tmux server of yours)")
    if _CONTROL.search(entry):
        raise ValueError("must not contain control characters")
    if entry != entry.strip():
        raise ValueError(f"{entry!r} has spaces around it")
    if "/" not in entry and entry in (".", ".."):
        raise ValueError(f"{entry!r} is not a tmux -L name")
    if entry.endswith("/"):
        raise ValueError(f"{entry!r} is a directory; name the socket file in it")
    return entry


def resolve_entry(entry: str, directory: Path) -> str:
    """The socket path an entry names: a path as is (made absolute), a bare name under ``directory``."""
    if "/" in entry:
        return os.path.abspath(os.path.expanduser(entry))
    return str(directory / entry)


def watched_paths(setting: str | Sequence[str] | None, directory: Path) -> list[str]:
    """The socket paths ``tmux_socket`` names, in order, each once (none: every socket in ``directory``)."""
    return list(dict.fromkeys(resolve_entry(entry, directory) for entry in entries(setting)))


def home_path(setting: str | Sequence[str] | None, directory: Path) -> str:
    """The socket of the home server: the first ``tmux_socket`` entry, else ``default`` in ``directory``."""
    paths = watched_paths(setting, directory)
    return paths[0] if paths else str(directory / DEFAULT_NAME)


def unique_names(paths: Sequence[str]) -> dict[str, str]:
    """Socket path -> server name: the file name, with ``-2``, ``-3``... after a name already taken.

    >>> unique_names(["/a/tmux.sock", "/b/tmux.sock", "/c/work"])
    {'/a/tmux.sock': 'tmux.sock', '/b/tmux.sock': 'tmux.sock-2', '/c/work': 'work'}
    """
    names: dict[str, str] = {}
    taken: set[str] = set()
    for path in paths:
        base = os.path.basename(path) or path
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name)
        names[path] = name
    return names


def qualifier(name: str, home: bool) -> str:
    """What a server puts in front of its names: nothing for the home server, else ``NAME.``."""
    return "" if home else name + SEPARATOR


def local_name(server: str, value: str) -> str:
    """A qualified name or id as tmux itself calls it on ``server`` (unqualified ones as they are).

    >>> local_name("work", "work.team"), local_name("work", "work.%3"), local_name("default", "team")
    ('team', '%3', 'team')
    """
    prefix = server + SEPARATOR
    return value[len(prefix):] if server and value.startswith(prefix) else value


def same_socket(a: str, b: str) -> bool:
    """Whether two socket paths name the same tmux server (compared after resolving symlinks)."""
    return os.path.realpath(a) == os.path.realpath(b)


class WatchedSockets:
    """Which tmux servers a ``tmux_socket`` setting watches, what each is called, and which is home.

    With the setting unset every socket in ``directory`` is watched (servers come and go); else the
    sockets it names, in its order. Reads the file system only to compare paths (:meth:`find`).
    """

    def __init__(self, setting: str | Sequence[str] | None, directory: Path) -> None:
        self.directory = directory
        self.explicit = watched_paths(setting, directory)
        self.home = home_path(setting, directory)
        self._names = unique_names(self.explicit)

    @property
    def watch_all(self) -> bool:
        """True when every socket in :attr:`directory` is watched (``tmux_socket`` unset)."""
        return not self.explicit

    def name_of(self, path: str) -> str:
        """The server name of a watched socket path (its file name, made unique among the watched)."""
        return self._names.get(path) or os.path.basename(path)

    def prefix_of(self, path: str) -> str:
        """The qualifier of a watched socket's names ("" for the home server)."""
        return qualifier(self.name_of(path), path == self.home)

    def find(self, socket: str) -> str | None:
        """The watched socket path ``socket`` names (symlinks resolved), None when it is not watched."""
        if self.watch_all:
            if not socket or os.path.realpath(os.path.dirname(socket)) != os.path.realpath(self.directory):
                return None
            return str(self.directory / os.path.basename(socket))
        return next((path for path in self.explicit if same_socket(path, socket)), None)

    def where(self) -> str:
        """Where the servers are looked for, for "no tmux server answers ..." messages."""
        return f"under {self.directory}" if self.watch_all else "at " + ", ".join(self.explicit)

    def describe(self) -> str:
        """The watched servers in words, for messages."""
        if self.watch_all:
            return f"every tmux server under {self.directory}"
        return ", ".join(self.explicit)
