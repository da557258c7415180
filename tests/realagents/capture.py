"""Capture golden screens from the real CLIs into tests/corpus/.

    .venv/bin/python -m tests.realagents.capture [claude] [codex] [gemini] [opencode] [qwen] [aider]

Writes ``<label>-real-<scenario>.txt`` (``capture-pane -p`` text), ``titles.json`` (file -> pane
title), ``facts.json`` (file -> the process facts that decide it when the screen alone cannot) and
adds the new files to ``labels.json`` without touching keys already there.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from tests.realagents import claude, codex, more_captures
from tests.realagents.harness import REPO
from tests.realagents.shots import Shot

CORPUS = REPO / "tests" / "corpus"


def _merge_json(path: Path, entries: Mapping[str, object], *, append_only: bool) -> None:
    data: dict[str, object] = json.loads(path.read_text()) if path.exists() else {}
    for key, value in entries.items():
        if append_only and key in data:
            continue
        data[key] = value
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def save(shots: Iterable[Shot], folder: Path, version: str) -> list[Shot]:
    folder.mkdir(parents=True, exist_ok=True)
    saved: list[Shot] = []
    for shot in shots:
        (folder / shot.filename).write_text(shot.screen)
        saved.append(shot)
        print(f"{shot.filename:45} {shot.label.value:14} title={shot.pane.title!r}  {shot.note}", flush=True)
    _merge_json(folder / "labels.json", {s.filename: s.label.value for s in saved}, append_only=True)
    _merge_json(folder / "titles.json", {s.filename: s.pane.title for s in saved}, append_only=False)
    facts = {
        s.filename: {
            "version": version,
            "kind": s.facts.kind if s.facts else None,
            "agent_alive": s.facts.agent_alive if s.facts else None,
            "stopped": s.facts.stopped if s.facts else None,
            "shell_in_foreground": s.facts.shell_in_foreground if s.facts else None,
            "current_command": s.pane.current_command,
        }
        for s in saved
    }
    _merge_json(folder / "facts.json", facts, append_only=False)
    return saved


def capture_claude(tmp: Path) -> None:
    with claude.ClaudeLab(tmp / "claude") as lab:
        shots = [*claude.main_flow(lab), *claude.retry_and_stop(lab), *claude.startup_failures(lab)]
    save(shots, CORPUS / "claude-2x", f"claude-code {claude.CLAUDE_2}")


def capture_codex(tmp: Path) -> None:
    with codex.CodexLab(tmp / "codex") as lab:
        shots = list(codex.main_flow(lab))
    save(shots, CORPUS / "codex", f"codex-cli {codex.CODEX}")


def main(argv: list[str]) -> int:
    which = set(argv) or {"claude", "codex"}
    with tempfile.TemporaryDirectory(prefix="tmux-orc-real-") as tmp:
        if "claude" in which:
            capture_claude(Path(tmp))
        if "codex" in which:
            capture_codex(Path(tmp))
        for name, (folder, version, shots_of) in more_captures.CAPTURES.items():
            if name in which:
                save(shots_of(Path(tmp) / name), CORPUS / folder, version)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
