"""Delivery into a PM pane on a private tmux server, against a scripted PM with a bracketed-paste prompt."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import pytest

from tests.harness.tmux import TmuxTestServer
from tmux_orc.core.alerts import Alert, AlertBatch, render_pm_message
from tmux_orc.core.delivery import DeliveryRefused, Step, Submission, deliver
from tmux_orc.detect.prompt import message_submitted, prompt_is_empty, prompt_text
from tmux_orc.model import AgentView, AlertKind, Kind, Role, State
from tmux_orc.tmux.actions import TmuxPaneActions
from tmux_orc.tmux.pm_delivery import clean_text, paste_message
from tmux_orc.tmux.runner import run_tmux

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "claude-code-1x"

# A line editor in raw mode that asks for bracketed paste, like the agent CLIs do: a paste may hold
# newlines, Enter outside a paste submits. Each submitted line is appended to the file as JSON.
FAKE_PM = r'''
import json, os, sys, tty
out = sys.argv[1]
tty.setraw(0)
history = ["scripted pm ready"]
RULE = "\u2500" * 60
def draw(typed):
    lines = history[-12:] + ["", RULE, "> " + typed.replace("\n", "\u23ce"), RULE, "  ? for shortcuts"]
    os.write(1, ("\x1b[2J\x1b[H" + "\r\n".join(lines)).encode())
os.write(1, b"\x1b[?2004h")
draw("")
buf, pending, pasting = bytearray(), b"", False
START, END = b"\x1b[200~", b"\x1b[201~"
while True:
    data = os.read(0, 65536)
    if not data:
        break
    pending += data
    while pending:
        if pending.startswith(START) or pending.startswith(END):
            pasting = pending.startswith(START)
            pending = pending[6:]
            continue
        if pending[:1] == b"\x1b" and (START.startswith(pending) or END.startswith(pending)):
            break  # the rest of a marker is still on its way
        c, pending = pending[0], pending[1:]
        if pasting:
            buf.append(10 if c == 13 else c)
        elif c in (10, 13):
            text = buf.decode("utf-8", "replace")
            with open(out, "a") as f:
                f.write(json.dumps(text) + "\n")
            history.append("received %d chars" % len(text))
            buf.clear()
        else:
            buf.append(c)
    draw(buf.decode("utf-8", "replace"))
'''

NASTY = [
    "plain words",
    """'single' "double" ; && | $(touch PWNED) `touch PWNED2` #{pane_id} %1 \\ \\; ~ * ?""",
    "ends with a semicolon;",
    "-starts with a dash",
    "{",
    "multi\nline\nmessage",
    "unicode: héllo ✓ 🚨 日本語 — “quotes”",
]


def received(out: Path) -> list[str]:
    return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []


def wait_until(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def scripted_pm(tmux_srv: TmuxTestServer, tmp_path: Path) -> tuple[TmuxTestServer, str, Path]:
    script = tmp_path / "fake_pm.py"
    script.write_text(FAKE_PM)
    out = tmp_path / "received.jsonl"
    tmux_srv.width = 200
    pane = tmux_srv.new_session("deliv", "Claude-pm", f"{sys.executable} {script} {out}")
    tmux_srv.wait_for(pane, "scripted pm ready")
    return tmux_srv, pane, out


def actions(srv: TmuxTestServer) -> TmuxPaneActions:
    return TmuxPaneActions(str(srv.socket), 5.0, enter_delay=0.05)


def test_batch_arrives_literally_exactly_once_and_is_submitted(
    scripted_pm: tuple[TmuxTestServer, str, Path], tmp_path: Path
) -> None:
    srv, pane, out = scripted_pm
    batch = AlertBatch("deliv:0.0", pane, "deliv", (Alert.for_agent(AlertKind.CRASHED, AgentView(
        "deliv:1.0", "deliv:1.0", "deliv", "Claude-dev", "%9", Role.DEVELOPER, Kind.CLAUDE, State.CRASHED, 0.0,
        detail="$(rm -rf ~); echo 'x' #{session_name}"), 0.0),))
    texts = [*NASTY, render_pm_message(batch)]

    async def scenario() -> None:
        for n, text in enumerate(texts, start=1):
            screen = srv.capture(pane)
            assert prompt_is_empty(screen, Kind.CLAUDE), screen
            sub = await deliver(actions(srv), pane, text, screen, Kind.CLAUDE)
            await asyncio.to_thread(wait_until, lambda n=n: len(received(out)) >= n)
            assert received(out)[-1] == text
            after = srv.wait_for(pane, f"received {len(text)} chars")
            assert sub.check(after) == Step.DONE

    asyncio.run(scenario())
    time.sleep(0.5)
    assert received(out) == texts  # each exactly once, nothing else
    assert not list(tmp_path.glob("PWNED*")) and not list(Path.cwd().glob("PWNED*"))
    assert "tmux-orc-" not in srv.run("list-buffers", "-F", "#{buffer_name}")


def test_text_typed_beforehand_is_never_touched(scripted_pm: tuple[TmuxTestServer, str, Path]) -> None:
    srv, pane, out = scripted_pm
    srv.send_keys(pane, "-l", "half typed thought")
    screen = srv.wait_for(pane, "> half typed thought")
    assert not prompt_is_empty(screen, Kind.CLAUDE)
    with pytest.raises(DeliveryRefused, match="not empty"):
        asyncio.run(deliver(actions(srv), pane, "alert text", screen, Kind.CLAUDE))
    time.sleep(0.3)
    assert received(out) == []
    assert srv.capture(pane) == screen
    srv.send_keys(pane, "Enter")  # the person finishes their line: it is exactly what they typed
    wait_until(lambda: received(out) == ["half typed thought"])


def test_lost_enter_is_retried_until_submitted(scripted_pm: tuple[TmuxTestServer, str, Path]) -> None:
    srv, pane, out = scripted_pm
    dropped: list[tuple[str, ...]] = []

    async def flaky(*args: str) -> str:
        if args[0] == "send-keys" and not dropped:
            dropped.append(args)  # the first Enter gets lost
            return ""
        return str(await run_tmux(*args, socket=str(srv.socket), timeout=5.0))

    flaky_actions = TmuxPaneActions(str(srv.socket), 5.0, enter_delay=0, run=flaky)

    async def scenario() -> None:
        before = srv.capture(pane)
        sub = await deliver(flaky_actions, pane, "needs a second Enter", before, Kind.CLAUDE)
        screen = srv.wait_for(pane, "> needs a second Enter")
        assert not message_submitted(before, screen, sub.text, Kind.CLAUDE)
        assert sub.check(screen) == Step.ENTER
        await sub.retry_enter(flaky_actions)
        assert sub.check(srv.wait_for(pane, "received 20 chars")) == Step.DONE

    asyncio.run(scenario())
    assert received(out) == ["needs a second Enter"]


def test_submission_gives_up_after_bounded_enters() -> None:
    stuck = CLAUDE2.format("[tmux-orc] 1 alert for session s: x")
    sub = Submission("%1", "[tmux-orc] 1 alert for session s: x", Kind.CLAUDE, CLAUDE2.format(""), enters=3)
    assert sub.check(stuck) == Step.FAILED


def test_bad_arguments_are_refused_before_tmux_is_called() -> None:
    async def never(*args: str) -> str:
        raise AssertionError(f"tmux called with {args}")

    for pane, text in (("deliv:0.0", "x"), ("%1; kill-server", "x"), ("%1", "\x1b\x07 \n"), ("%1", "y" * 9000)):
        with pytest.raises(ValueError):
            asyncio.run(paste_message(never, pane, text))


def test_clean_text_cannot_end_a_bracketed_paste() -> None:
    assert clean_text("a\x1b[201~b\tc\r\nd\x00") == "ab c\nd"


@pytest.mark.parametrize("name", ["idle-after-summary.txt", "idle-fresh-placeholder.txt",
                                  "idle-discussing-crash-words.txt", "idle-fresh-placeholder-after-shell.txt"])
def test_real_claude_1x_idle_prompts_are_empty(name: str) -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    assert prompt_is_empty((CORPUS / name).read_text(), Kind.CLAUDE)


@pytest.mark.parametrize("name", ["unsubmitted-one-line.txt", "unsubmitted-multiline-alert.txt",
                                  "crashed-shell-prompt.txt", "crashed-command-not-found.txt",
                                  "working-long-tool-run.txt", "working-thinking-with-queued-text.txt"])
def test_real_claude_1x_prompts_with_text_or_no_prompt_are_not_empty(name: str) -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    assert not prompt_is_empty((CORPUS / name).read_text(), Kind.CLAUDE)


REPO_CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def corpus_cases() -> list[tuple[str, str, str]]:
    cases = []
    for sub, kind in (("claude-2x", "claude"), ("codex", "codex")):
        labels_file = REPO_CORPUS / sub / "labels.json"
        if labels_file.exists():
            for name, label in sorted(json.loads(labels_file.read_text()).items()):
                if label in ("idle", "unsubmitted", "waiting_input", "crashed"):
                    cases.append((f"{sub}/{name}", kind, label))
    return cases


@pytest.mark.parametrize(("path", "kind", "label"), corpus_cases())
def test_real_2x_and_codex_screens(path: str, kind: str, label: str) -> None:
    """Idle screens have an empty prompt (placeholders included); typed text, dialogs and shells do not."""
    assert prompt_is_empty((REPO_CORPUS / path).read_text(), kind) == (label == "idle")


RULE = "─" * 60
CLAUDE2 = "● Done.\n\n" + RULE + "\n❯ {}\n" + RULE + "\n  ⏵⏵ auto mode on (shift+tab to cycle)\n"


def test_claude_2x_style_prompt_box() -> None:
    assert prompt_is_empty(CLAUDE2.format(""), Kind.CLAUDE)
    assert prompt_text(CLAUDE2.format("say hello"), Kind.CLAUDE) == "say hello"
    assert not prompt_is_empty(CLAUDE2.format("say hello"), Kind.CLAUDE)
    permission = "Do you want to proceed?\n❯ 1. Yes\n  2. No\n\nEsc to cancel · Tab to amend\n"
    assert not prompt_is_empty(permission, Kind.CLAUDE)
    assert not prompt_is_empty(CLAUDE2.format("[Pasted text #1 +3 lines]"), Kind.CLAUDE)
    assert not message_submitted("", CLAUDE2.format("[Pasted text #1 +3 lines]"), "a\nb\nc\nd")


def test_shells_and_unknown_programs_never_have_an_empty_prompt() -> None:
    for kind in (Kind.SHELL, Kind.UNKNOWN, "nonsense"):
        assert not prompt_is_empty("user@host:~$ \n> ", kind)
    assert prompt_is_empty("aider v0.80\n\narchitect> ", Kind.AIDER)
    gemini = "╭" + "─" * 40 + "╮\n│ >   Type your message or @path/to/file │\n╰" + "─" * 40 + "╯"
    assert prompt_is_empty(gemini, Kind.GEMINI)
    assert prompt_is_empty("› Implement {feature}\n\n  ? for shortcuts", Kind.CODEX)
    assert not prompt_is_empty("› Write tests for @server.py\n\n  ? for shortcuts", Kind.CODEX)
