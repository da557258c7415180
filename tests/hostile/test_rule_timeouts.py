"""Patterns cannot hold the loop: user rules are searched with a time limit, built-ins run in linear time.

The bounds here are pytest-timeout's, never timed asserts: a pattern that backtracks catastrophically
on these lines takes minutes (the built-ins did, before: 1.2 s for one 8,000-character line), a linear
one milliseconds.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import pkgutil
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import tmux_orc.detect as detect_pkg
from tests.harness.bus import wait_until
from tests.harness.daemon import DaemonProcess
from tests.harness.tmux import TmuxTestServer
from tests.hostile.faults_helpers import STANDIN
from tmux_orc.detect.patterns import MAX_LINE, TimedPattern
from tmux_orc.detect.profiles import load_profiles
from tmux_orc.detect.rules import Rule
from tmux_orc.detect.screen import Layout
from tmux_orc.model import Kind, State

StartDaemon = Callable[..., DaemonProcess]
EVIL = r"^(a|a)+$"  # exponential in the regex module too: only the time limit stops it
ISSUE = r"^(a+)+$"  # the issue's rule: seconds with re on 27 a's and a '!'
LINE = "a" * 40 + "!"


def _layout(*lines: str, typed: str | None = None) -> Layout:
    fields = {f.name for f in dataclasses.fields(Layout)}
    values: dict[str, Any] = {"tail": tuple(lines), "footer": (), "live": tuple(lines), "input": typed}
    return Layout(**{k: v for k, v in values.items() if k in fields})


# --- user rules --------------------------------------------------------------------------------------
@pytest.mark.timeout(30)
def test_the_issues_rule_is_answered_at_once() -> None:
    pattern = TimedPattern(ISSUE, "mine.a")
    assert pattern.search("a" * 27 + "!") is None
    assert pattern.search("aaa") is not None
    assert pattern.timeouts == 0
    assert pattern.search("a" * 5000 + "!") is None  # too much even for regex: out of time, no match


@pytest.mark.timeout(30)
def test_a_pattern_out_of_time_is_no_match_then_disabled(caplog: pytest.LogCaptureFixture) -> None:
    pattern = TimedPattern(EVIL, "mine.evil", timeout=0.01, max_timeouts=3)
    with caplog.at_level(logging.WARNING, logger="tmux_orc.detect.patterns"):
        for _ in range(5):
            assert pattern.search(LINE) is None
    assert pattern.disabled and pattern.timeouts == 3  # no search after it was disabled
    assert pattern.search("aaaa") is None  # disabled: not even an easy line
    messages = [r.getMessage() for r in caplog.records]
    assert sum("ran out of time" in m for m in messages) == 3
    assert any("'mine.evil' disabled" in m for m in messages), messages


@pytest.mark.timeout(30)
def test_a_good_pattern_is_unaffected() -> None:
    pattern = TimedPattern(r"(?i)^press enter to continue", "mine.enter")
    assert pattern.search("Press Enter to continue") is not None
    assert pattern.fullmatch("press enter to continue") is not None
    assert pattern.search("x" * 100_000) is None
    assert not pattern.disabled


@pytest.mark.timeout(60)
def test_a_rules_file_rule_is_timed_and_named(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(f'[[rules]]\nkind = "claude"\nname = "mine.evil"\nstate = "waiting_input"\n'
                    f'pattern = \'{EVIL}\'\nregion = "input"\n\n[placeholders]\nclaude = [\'{EVIL}\']\n')
    profiles = load_profiles(path)
    profile = profiles.get(Kind.CLAUDE)
    assert profile is not None
    mine = profile.rules[0]
    assert mine.name == "mine.evil" and isinstance(mine.pattern, TimedPattern)
    with caplog.at_level(logging.WARNING, logger="tmux_orc.detect.patterns"):
        for _ in range(4):
            assert mine.match(_layout("", typed=LINE), "") is None
    assert isinstance(mine.pattern, TimedPattern) and mine.pattern.disabled
    assert any("'mine.evil' disabled" in r.getMessage() for r in caplog.records)
    assert all(isinstance(p, TimedPattern) for p in profile.shape.placeholders[-1:])


# --- built-in patterns --------------------------------------------------------------------------------
def _patterns(obj: Any, where: str, depth: int = 0) -> Iterator[tuple[str, re.Pattern[str]]]:
    if isinstance(obj, re.Pattern):
        yield where, obj
    elif depth < 6 and dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from _patterns(getattr(obj, f.name), f"{where}.{f.name}", depth + 1)
    elif depth < 6 and isinstance(obj, tuple | list | frozenset | set):
        for i, item in enumerate(obj):
            yield from _patterns(item, f"{where}[{i}]", depth + 1)
    elif depth < 6 and isinstance(obj, dict):
        for key, item in obj.items():
            yield from _patterns(item, f"{where}[{key}]", depth + 1)


def builtin_patterns() -> dict[str, tuple[str, re.Pattern[str]]]:
    """Every compiled pattern of the detect package (module constants, profiles, shapes), by source."""
    found: dict[str, tuple[str, re.Pattern[str]]] = {}
    for info in pkgutil.iter_modules(detect_pkg.__path__):
        module = importlib.import_module(f"tmux_orc.detect.{info.name}")
        for name, value in vars(module).items():
            for where, pattern in _patterns(value, f"{info.name}.{name}"):
                found.setdefault(pattern.pattern, (where, pattern))
    return found


GLYPHS = (" ", "\t", "a", "1", ".", ",", ":", "-", "/", "(", ")", "|", "'", "!", "─", "│", "╭", ">", "❯",
          "›", "·", "•", "…", "⏺", "✻", "■", "⚠", "×", "▌")


def crafted(source: str, size: int) -> Iterator[str]:
    """Lines meant to make ``source`` backtrack: runs of its own characters, words and phrases."""
    words = sorted(set(re.findall(r"[A-Za-z]{2,}", source)))
    phrases = sorted(set(re.findall(r"[A-Za-z][A-Za-z ]{3,}[A-Za-z]", source.replace(r"\b", ""))))
    units = [*GLYPHS, *words, *(f"{g} {p} " for p in phrases for g in ("·", "✻", "("))]
    for unit in units:
        for sep in ("", " ", "1", "  "):
            piece = unit + sep
            yield (piece * (size // len(piece) + 1))[:size] + "\x01"
    yield " ".join(words * (size // (sum(map(len, words)) + 1) + 1))[:size] + "\x01"


def test_every_builtin_pattern_is_found() -> None:
    found = builtin_patterns()
    assert len(found) >= 60, len(found)
    assert any("[codex]" in where and ".rules[" in where for where, _ in found.values())  # the definitions


@pytest.mark.timeout(120)
def test_builtin_patterns_are_linear_on_crafted_lines() -> None:
    # 4,000 characters: twice the longest text a pattern sees (two joined lines of MAX_LINE). A
    # quadratic pattern needs seconds per line here, and there are hundreds of lines.
    size = 4 * MAX_LINE
    for _where, pattern in builtin_patterns().values():
        for line in crafted(pattern.pattern, size):
            pattern.search(line)


@pytest.mark.timeout(60)
def test_rules_never_see_more_than_max_line_characters() -> None:
    seen: list[int] = []

    class Recorder:
        pattern = "recorder"

        def search(self, string: str) -> None:
            seen.append(len(string))

        def fullmatch(self, string: str) -> None:
            seen.append(len(string))

    probe = Rule("probe", State.ERROR, Recorder(), "live")
    probe.match(_layout("x" * 50_000, "y" * 50_000), "t" * 50_000)
    title = Rule("probe.title", State.WORKING, Recorder(), "title")
    title.match(_layout(), "t" * 50_000)
    assert seen and max(seen) <= 2 * MAX_LINE + 1


# --- the daemon --------------------------------------------------------------------------------------
def test_daemon_with_a_runaway_rule_still_answers_and_disables_it(tmux_srv: TmuxTestServer, daemon: StartDaemon,
                                                                  tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(f'[[rules]]\nkind = "claude"\nname = "mine.runaway"\nstate = "waiting_input"\n'
                     f"pattern = '{EVIL}'\nregion = \"input\"\n")
    pane = tmux_srv.new_session("team", "Claude-pm", f"bash --norc -c '{STANDIN} idle; exec bash'")
    d = daemon(tmux_srv, rules_file=rules)
    d.wait_state("team:0.0", "idle")
    tmux_srv.send_keys(pane, "-l", "a" * 60)

    def typed_more() -> bool:  # each new screen is read again, and the rule runs out of time again
        tmux_srv.send_keys(pane, "-l", "a!")
        return "'mine.runaway' disabled" in d.log()

    wait_until(typed_more, timeout=60, interval=0.5, what="the rule to be disabled")
    assert d.log().count("'mine.runaway': pattern") == 2  # two warnings, then disabled: never again
    before = d.call("GetStatus")[0]["cycles"]
    wait_until(lambda: d.call("GetStatus")[0]["cycles"] >= before + 3, timeout=30, what="more cycles")
    assert d.proc is not None and d.proc.poll() is None
    assert d.agent("team:0.0")["state"] == "unsubmitted"  # the built-ins read the typed text
