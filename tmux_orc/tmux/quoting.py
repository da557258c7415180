"""Text that reaches tmux as data only: never a format, a command separator or a parser word with magic.

tmux (3.2+, checked against 3.3a) treats the arguments it is given in three layers, and each has
its own escape:

1. **Splitting into commands.** Arguments arrive already split (argv of ``tmux CMD ARGS...`` or one
   word of a control-mode line), but an argument that *ends* in ``;`` still ends the command there
   (``cmd_parse_from_arguments``): ``-n 'pm;'`` runs ``new-window -n pm`` and then the next arguments as a
   second command. A trailing ``\\;`` stands for a literal ``;``. :func:`literal_arg` escapes it.
2. **Format expansion.** Some arguments are formats: ``new-window``/``new-session``/``split-window``
   ``-n`` and ``-c``, ``rename-window``/``rename-session``, ``display-message``, every ``-F``. There
   ``#(cmd)`` runs a shell command and ``#{...}`` / ``#W`` insert values. Doubling each ``#`` leaves
   nothing to expand (``##`` is one ``#``; ``#`` runs before ``[`` are copied as they are, see
   :func:`literal_format`). Not formats (checked):
   ``set-buffer`` data, ``send-keys`` keys, the shell command of ``new-window``, ``-t`` targets.
3. **The command-line parser** (control mode, config files): ``$VAR``, ``~``, quotes, ``#`` comments,
   ``{}`` and ``;`` are syntax there. :func:`quote` makes one word that means exactly its text.

:func:`format_arg` is layers 1 and 2 together, for an argv argument that tmux also expands. Targets
are built from ids (``%3``, ``$1``, ``@2``) by :func:`pane_target` / :func:`session_target`, never from
names (a name would be matched as an ``fnmatch`` pattern, or as a prefix).
"""

from __future__ import annotations

import re

__all__ = [
    "format_arg",
    "literal_arg",
    "literal_format",
    "pane_target",
    "quote",
    "session_target",
]

_PANE_ID = re.compile(r"%\d+")
_SESSION_ID = re.compile(r"\$\d+")
_HASHES = re.compile("#+")


def literal_format(text: str) -> str:
    """``text`` as a tmux format that expands to exactly ``text``.

    Every ``#`` is doubled, except a run of ``#`` right before ``[``: tmux copies such a run and the
    ``[`` as they are (``#[`` and ``##[`` both start a style, which only drawing interprets), so
    doubling it would change the text.
    """
    return _HASHES.sub(lambda m: m.group() if text.startswith("[", m.end()) else m.group() * 2, text)


def literal_arg(text: str) -> str:
    """``text`` as an argv argument tmux does not take as the end of a command (trailing ``;`` escaped).

    Only the last character matters: tmux strips one trailing ``;``, and turns a ``\\`` right before it
    into that ``;``. So ``a;`` becomes ``a\\;``, and ``a\\;`` (a literal backslash-semicolon) ``a\\\\;``.
    """
    return text[:-1] + "\\;" if text.endswith(";") else text


def format_arg(text: str) -> str:
    """``text`` for an argv argument that tmux both splits and format-expands (``-n``, ``-c``...)."""
    return literal_arg(literal_format(text))


def quote(arg: str) -> str:
    """``arg`` as one tmux command-parser word that means exactly ``arg`` (no ``$``/``~``/``;`` magic).

    Printable text goes in single quotes (tmux expands nothing there); a single quote and every control
    character (newline included, which would end the command line) go in double quotes as escapes.
    """
    if arg == "":
        return "''"
    out: list[str] = []
    plain: list[str] = []
    for ch in arg:
        code = ord(ch)
        if ch == "'" or code < 0x20 or code == 0x7F:
            if plain:
                out.append("'" + "".join(plain) + "'")
                plain = []
            out.append('"\'"' if ch == "'" else f'"\\{code:03o}"')
        else:
            plain.append(ch)
    if plain:
        out.append("'" + "".join(plain) + "'")
    return "".join(out)


def pane_target(pane_id: str) -> str:
    """A ``-t`` for one pane by its id; ValueError for anything that is not ``%N``."""
    if not _PANE_ID.fullmatch(pane_id):
        raise ValueError(f"not a tmux pane id: {pane_id[:40]!r} (expected %N)")
    return pane_id


def session_target(session_id: str, session_name: str) -> str:
    """A ``-t`` naming a session's next free window: by id (``$1:``), else by exact name (``=name:``)."""
    if _SESSION_ID.fullmatch(session_id):
        return f"{session_id}:"
    if not session_name:
        raise ValueError("a session needs an id or a name")
    return f"={session_name}:"
