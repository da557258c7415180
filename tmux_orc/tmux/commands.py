"""argv of the tmux commands the daemon runs on panes, every name, path and text escaped by ``quoting``.

Each builder returns the arguments after ``tmux [-S socket]`` (for ``runner.run_tmux``); ids are
checked, and whatever came from a pane, a window or a directory goes in as data only.
"""

from __future__ import annotations

from tmux_orc.tmux.quoting import format_arg, literal_arg, pane_target, session_target

NEW_PANE_FORMAT = "#{pane_id} #{pane_pid} #{window_index}"  # what new_window prints (-P -F)


def new_window(session_id: str, session_name: str, window_name: str, start_dir: str, command: str,
               *, print_format: str = NEW_PANE_FORMAT) -> list[str]:
    """``new-window`` in the background in that session, named ``window_name`` exactly, running ``command``.

    ``command`` is a shell command line (tmux runs it with ``sh -c``); the name and the directory are
    formats to tmux, so they go through :func:`~tmux_orc.tmux.quoting.format_arg`. An empty
    ``start_dir`` leaves the directory to tmux.
    """
    args = ["new-window", "-d", "-P", "-F", print_format, "-t", session_target(session_id, session_name),
            "-n", format_arg(window_name)]
    if start_dir:
        args += ["-c", format_arg(start_dir)]
    return [*args, "--", literal_arg(command)]


def display_value(pane_id: str, variable: str) -> list[str]:
    """``display-message -p`` of one format variable of a pane (read its answer with :func:`one_value`)."""
    if not variable.replace("_", "").isalnum():
        raise ValueError(f"not a tmux format variable: {variable[:40]!r}")
    return ["display-message", "-p", "-t", pane_target(pane_id), f"#{{{variable}}}"]


def one_value(output: str) -> str:
    """The value a ``display-message -p`` printed: its output without the one newline tmux adds.

    Only that newline goes: a directory named ``"x "`` or holding a newline stays what it is.
    """
    return output[:-1] if output.endswith("\n") else output


def kill_pane(pane_id: str) -> list[str]:
    """``kill-pane`` of exactly that pane (by id)."""
    return ["kill-pane", "-t", pane_target(pane_id)]
