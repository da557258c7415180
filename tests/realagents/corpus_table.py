"""Print how the current detector names each labelled screen of a corpus folder, as a markdown table.

    .venv/bin/python -m tests.realagents.corpus_table tests/corpus/gemini [--pending]

Each screen is classified with the pane title and the process facts recorded at capture time (the kind
the project's own process reader gave then: ``unknown`` when it did not recognise the CLI), an hour after
the agent started. ``--pending`` prints, as JSON, the screens it gets wrong (for ``pending.json``).
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

from tmux_orc.detect.engine import DetectContext, classify
from tmux_orc.model import Kind, PaneInfo, ProcessFacts, State

NOW = 1_800_000_000.0


def _facts(recorded: dict[str, object] | None) -> ProcessFacts:
    recorded = recorded or {}
    kind_name = str(recorded.get("kind") or "unknown")
    kind = Kind(kind_name) if kind_name in {k.value for k in Kind} else Kind.UNKNOWN
    if not recorded.get("agent_alive"):
        facts = ProcessFacts(kind=kind, agent_pid=None, commands=("bash",))
        return replace(facts, shell_in_foreground=bool(recorded.get("shell_in_foreground")))
    command = str(recorded.get("current_command") or kind.value)
    return ProcessFacts(kind=kind, agent_pid=200, commands=("bash", command), stopped=bool(recorded.get("stopped")))


def _pane(title: str) -> PaneInfo:
    return PaneInfo(
        pane_id="%1",
        session="s",
        window_index=0,
        window_name="w",
        pane_index=0,
        pane_pid=100,
        current_command="bash",
        dead=False,
        dead_status=None,
        title=title,
        width=120,
        height=40,
        window_activity=NOW,
        session_id="$1",
        window_id="@1",
        in_mode=False,
    )


def rows(folder: Path) -> list[tuple[str, State, State, str]]:
    """(file, expected, got, rule) for every labelled screen of ``folder``."""
    labels: dict[str, str] = json.loads((folder / "labels.json").read_text())
    titles: dict[str, str] = (
        json.loads((folder / "titles.json").read_text()) if (folder / "titles.json").exists() else {}
    )
    facts: dict[str, dict[str, object]] = (
        json.loads((folder / "facts.json").read_text()) if (folder / "facts.json").exists() else {}
    )
    out = []
    for name, label in sorted(labels.items()):
        screen = (folder / name).read_text()
        ctx = DetectContext(now=NOW, first_seen=NOW - 3600)
        verdict = classify(screen, _pane(titles.get(name, "")), _facts(facts.get(name)), None, ctx).verdict
        out.append((name, State(label), verdict.state, verdict.rule))
    return out


def main(argv: list[str]) -> int:
    folder = Path(argv[0])
    table = rows(folder)
    if "--pending" in argv:
        wrong = {name: f"reads {got.value} ({rule})" for name, want, got, rule in table if got is not want}
        print(json.dumps(wrong, indent=2))
        return 0
    print("| screen | expected | detector today | rule |")
    print("|---|---|---|---|")
    for name, want, got, rule in table:
        mark = "" if got is want else " ✗"
        print(f"| `{name}` | {want.value} | {got.value}{mark} | `{rule}` |")
    right = sum(1 for _n, want, got, _r in table if got is want)
    print(f"\n{right} of {len(table)} named right.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
