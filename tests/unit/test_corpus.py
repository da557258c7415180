"""Every labelled real screen gives its label; crash labels only from process facts, never words.

A folder may hold ``titles.json`` (file -> the pane title at capture time) and ``facts.json`` (file ->
the process facts read from /proc then): both are what the daemon would have seen with that screen.
``pending.json`` (file -> why) lists real screens the detector does not name right yet: their label
test is a strict xfail, so it reports when a change starts getting them right.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.unit.detect_helpers import SHELL_ONLY, alive, look
from tmux_orc.model import Kind, ProcessFacts, State

REPO = Path(__file__).resolve().parents[2]
SHARED_CORPUS = REPO.parent / "shared" / "corpus" / "claude-code-1x"
OWN_CORPUS = REPO / "tests" / "corpus"
HEALTHY = {State.WORKING, State.IDLE, State.UNSUBMITTED, State.WAITING_INPUT}


def _side(path: Path, name: str) -> Any:
    """This screen's entry in ``titles.json`` / ``facts.json`` of its folder, or None."""
    side = path.parent / name
    return json.loads(side.read_text(encoding="utf-8")).get(path.name) if side.is_file() else None


def _title(path: Path) -> str:
    return str(_side(path, "titles.json") or "")


def _facts(path: Path, kind: Kind, expected: State) -> ProcessFacts:
    """The recorded process facts when the capture has them, else a live agent (or a bare shell for crashes)."""
    recorded = _side(path, "facts.json")
    if not recorded or recorded.get("agent_alive") is None:
        return SHELL_ONLY if expected is State.CRASHED else alive(kind)
    if not recorded["agent_alive"]:
        return replace(SHELL_ONLY, shell_in_foreground=bool(recorded.get("shell_in_foreground")))
    return replace(alive(kind), stopped=bool(recorded.get("stopped")))


def _cases(folder: Path) -> list[Any]:
    labels_file = folder / "labels.json"
    if not labels_file.is_file():
        return []
    labels: dict[str, str] = json.loads(labels_file.read_text(encoding="utf-8"))
    pending_file = folder / "pending.json"
    pending: dict[str, str] = json.loads(pending_file.read_text(encoding="utf-8")) if pending_file.is_file() else {}
    kind = Kind.CLAUDE
    for candidate in Kind:
        if folder.name.startswith(str(candidate)):
            kind = candidate
    return [
        pytest.param(
            folder / name,
            label,
            kind,
            marks=[pytest.mark.xfail(strict=True, reason=pending[name])] if name in pending else [],
            id=f"{folder.name}/{name}",
        )
        for name, label in sorted(labels.items())
    ]


def _all_cases() -> list[Any]:
    cases = _cases(SHARED_CORPUS)
    if OWN_CORPUS.is_dir():
        for folder in sorted(p for p in OWN_CORPUS.iterdir() if p.is_dir()):
            cases += _cases(folder)
    return cases


CASES = _all_cases()
# The words-never-crash check holds for every real screen, pending or not.
PLAIN_CASES = [pytest.param(*case.values, id=case.id) for case in CASES]


def test_shared_corpus_present() -> None:
    if not SHARED_CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {SHARED_CORPUS}")
    assert _cases(SHARED_CORPUS), "labels.json is empty"


@pytest.mark.parametrize(("path", "label", "kind"), CASES)
def test_screen_gives_its_label(path: Path, label: str, kind: Kind) -> None:
    screen = path.read_text(encoding="utf-8")
    expected = State(label)
    verdict = look(screen, _facts(path, kind, expected), title=_title(path)).verdict
    assert verdict.state is expected, f"{verdict.rule}: {verdict.detail} {verdict.evidence}"


@pytest.mark.parametrize(("path", "label", "kind"), PLAIN_CASES)
def test_words_never_crash_a_live_agent(path: Path, label: str, kind: Kind) -> None:
    verdict = look(path.read_text(encoding="utf-8"), alive(kind), title=_title(path)).verdict
    assert verdict.state is not State.CRASHED
    if State(label) in HEALTHY:
        assert verdict.state not in (State.ERROR, State.RATE_LIMITED, State.STUCK), verdict
