"""classify(): decision order, live region, staleness, stuck, starting, hook events, title."""

from __future__ import annotations

from dataclasses import replace

from tests.unit.detect_helpers import NOW, SHELL_ONLY, alive, ctx, look, pane
from tmux_orc.detect.engine import classify, hook_confirms
from tmux_orc.model import AgentEvent, Kind, ProcessFacts, State, Verdict

RULE = "─" * 80
NB = "\u00a0"


def claude2(*above: str, typed: str = "", footer: str = "  ⏵⏵ auto mode on (shift+tab to cycle)") -> str:
    return "\n".join([*above, "", RULE, f"❯{NB}{typed}", RULE, footer, "", ""])


WORKING = claude2("> go", "", "✻ Forming… (5s · ↓ 2 tokens)", footer="  esc to interrupt")
IDLE = claude2("> go", "", "● Done.")


def test_dead_pane_is_crashed_whatever_the_screen() -> None:
    obs = classify(WORKING, pane(dead=True, status=1), alive(), None, ctx())
    assert obs.verdict.state is State.CRASHED
    assert obs.verdict.detail == "pane is dead (exit status 1)"
    assert obs.verdict.rule == "process.pane-dead"


def test_no_agent_program_is_crashed_even_if_screen_looks_alive() -> None:
    verdict = look(WORKING, SHELL_ONLY).verdict
    assert (verdict.state, verdict.rule) == (State.CRASHED, "process.exited")
    assert "shell in foreground" in verdict.detail


def test_crash_detail_names_other_program() -> None:
    facts = ProcessFacts(kind=Kind.UNKNOWN, agent_pid=None, commands=("bash", "vim"))
    verdict = look("", facts).verdict
    assert verdict.state is State.CRASHED and "vim" in verdict.detail


def test_stopped_agent_is_stuck() -> None:
    facts = replace(alive(), stopped=True)
    verdict = look(WORKING, facts).verdict
    assert (verdict.state, verdict.rule) == (State.STUCK, "process.stopped")


def test_working_and_idle() -> None:
    assert look(WORKING).verdict.state is State.WORKING
    assert look(WORKING).verdict.detail == "Forming…"
    assert look(IDLE).verdict.state is State.IDLE


def test_working_detail_is_stable_while_counter_runs() -> None:
    later = WORKING.replace("✻ Forming… (5s", "✶ Forming… (6s")
    assert look(WORKING).verdict.detail == look(later).verdict.detail


def test_words_in_transcript_do_not_matter() -> None:
    screen = claude2("> check", "", "● The process crashed and failed.", "  Error: API Error: 500 was logged")
    assert look(screen).verdict.state is State.IDLE


def test_error_only_as_the_agent_shows_it_at_the_prompt() -> None:
    screen = claude2("> hi", "", "● API Error: 500 Internal server error")
    verdict = look(screen).verdict
    assert (verdict.state, verdict.rule) == (State.ERROR, "claude.api-error")
    assert "500" in verdict.detail


def test_stale_error_above_newer_turn_is_not_trusted() -> None:
    screen = claude2("● API Error: 500 Internal server error", "", "> again", "", "● Worked this time.")
    assert look(screen).verdict.state is State.IDLE


def test_rate_limit_with_named_zone_reset() -> None:
    screen = claude2("> go", "", "● Claude usage limit reached. Your limit will reset at 5pm (America/New_York).")
    verdict = look(screen).verdict
    assert verdict.state is State.RATE_LIMITED
    # NOW is 2025-08-11 04:13 in New York: the reset is 17:00 that day, EDT.
    assert "resets 2025-08-11 17:00 EDT (America/New_York)" in verdict.detail


def test_rate_limit_scrolled_out_of_the_live_region_is_stale() -> None:
    filler = [f"● line {n}" for n in range(40)]
    screen = claude2("● Claude usage limit reached. Your limit will reset at 5pm.", *filler)
    assert look(screen).verdict.state is State.IDLE


def test_rate_limit_detail_kept_while_the_same_message_shows() -> None:
    screen = claude2("> go", "", "  ⎿  Rate limited. Try again in 20 minutes")
    screen = claude2("> go", "", "● API Error: Request rejected (429) · try again in 20 minutes")
    first = look(screen)
    second = look(screen, prev=first, context=ctx(now=NOW + 30))
    assert second.verdict.state is State.RATE_LIMITED
    assert second.verdict.detail == first.verdict.detail


def test_queued_text_while_working_is_working() -> None:
    screen = claude2("> go", "", "· Divining… (571s · ↓ 9.1k tokens · esc to interrupt)", typed="next thing")
    assert look(screen).verdict.state is State.WORKING


def test_placeholder_is_not_typed_text() -> None:
    assert look(claude2(typed='Try "fix lint errors"')).verdict.state is State.IDLE
    assert look(claude2(typed="fix lint errors")).verdict.state is State.UNSUBMITTED


def test_prose_question_above_the_prompt_is_not_a_dialog() -> None:
    screen = claude2(
        "> plan it", "", "● Here is the plan:", "  1. Parse", "  2. Print", "", "  Do you want to proceed?"
    )
    assert look(screen).verdict.state is State.IDLE


def test_stuck_when_working_screen_frozen() -> None:
    first = look(WORKING, context=ctx(now=NOW))
    assert first.unchanged_since == NOW
    again = look(WORKING, prev=first, context=ctx(now=NOW + 100))
    assert again.verdict.state is State.WORKING and again.unchanged_since == NOW
    frozen = look(WORKING, prev=again, context=ctx(now=NOW + 300))
    assert (frozen.verdict.state, frozen.verdict.rule) == (State.STUCK, "stuck.unchanged")


def test_ticking_clock_alone_is_no_progress() -> None:
    """A stalled stream: the spinner's glyph and clock move, the token count does not -> stuck."""
    prev = None
    glyphs = "·✢✳✶✻✽"
    for second in range(0, 350, 50):
        screen = WORKING.replace("✻ Forming… (5s", f"{glyphs[second % 6]} Forming… ({5 + second}s")
        prev = look(screen, prev=prev, context=ctx(now=NOW + second))
    assert prev is not None and (prev.verdict.state, prev.verdict.rule) == (State.STUCK, "stuck.unchanged")


def test_token_progress_is_never_stuck() -> None:
    prev = None
    for second in range(0, 700, 50):
        screen = WORKING.replace("(5s · ↓ 2 tokens", f"({5 + second}s · ↓ {2 + second} tokens")
        prev = look(screen, prev=prev, context=ctx(now=NOW + second))
        assert prev.verdict.state is State.WORKING


def test_fingerprint_ignores_only_elapsed_time_counters() -> None:
    def same(a: str, b: str, title_a: str = "", title_b: str = "") -> bool:
        return look(claude2(a), title=title_a).screen_hash == look(claude2(b), title=title_b).screen_hash

    assert same("✶ Ideating… (1m 3s · ↓ 3 tokens)", "✻ Ideating… (1m 14s · ↓ 3 tokens)")
    assert same("• Working (0s • esc to interrupt)", "• Working (1h 2m 5s • esc to interrupt)")
    assert same("⠏ Reticulating splines (esc to cancel, 12s)", "⠋ Reticulating splines (esc to cancel, 13s)")
    assert same("● Done.", "● Done.", "⠋ Fake task", "⠙ Fake task")  # a title's spinner frame
    assert not same("✶ Ideating… (3s · ↓ 3 tokens)", "✶ Ideating… (3s · ↓ 4 tokens)")
    assert not same("● sleeping 5s", "● sleeping 6s")  # outside parentheses it is text
    assert not same("● Done (5 files)", "● Done (6 files)")


def test_idle_screen_unchanged_stays_idle() -> None:
    first = look(IDLE, context=ctx(now=NOW))
    later = look(IDLE, prev=first, context=ctx(now=NOW + 10_000))
    assert later.verdict.state is State.IDLE


def test_starting_then_unknown() -> None:
    young = ctx(now=NOW, first_seen=NOW - 5)
    assert look("$ claude\n", context=young).verdict.state is State.STARTING
    assert look("$ claude\n").verdict.state is State.UNKNOWN
    assert look("").verdict.state is State.UNKNOWN


def test_title_refines_an_unreadable_screen() -> None:
    assert look("", title="⠋ Claude Code").verdict.state is State.WORKING
    assert look("", title="✳ Claude Code").verdict.state is State.IDLE
    # ... but never beats the screen or process facts.
    assert look(IDLE, title="⠋ Claude Code").verdict.state is State.IDLE
    assert look(IDLE, SHELL_ONLY, title="⠋ Claude Code").verdict.state is State.CRASHED


def test_hook_events_fill_in_when_screen_says_nothing() -> None:
    events = (AgentEvent(NOW - 5, "UserPromptSubmit"), AgentEvent(NOW - 1, "Stop"))
    verdict = look("", context=ctx(events=events)).verdict
    assert (verdict.state, verdict.rule) == (State.IDLE, "hook.Stop")
    permission = AgentEvent(NOW, "Notification", {"message": "Claude needs your permission to use Bash"})
    verdict = look("", context=ctx(events=(*events, permission))).verdict
    assert verdict.state is State.WAITING_INPUT


def test_hook_events_never_override_process_facts_or_screen() -> None:
    events = (AgentEvent(NOW, "UserPromptSubmit"),)
    assert look(IDLE, SHELL_ONLY, context=ctx(events=events)).verdict.state is State.CRASHED
    assert look(IDLE, context=ctx(events=events)).verdict.state is State.IDLE


def test_hook_confirms() -> None:
    stop = (AgentEvent(NOW, "Stop"), AgentEvent(NOW, "SessionEnd"))
    assert hook_confirms(Verdict(State.IDLE), stop)
    assert not hook_confirms(Verdict(State.WORKING), stop)
    assert not hook_confirms(Verdict(State.IDLE), ())


def test_permission_dialog_replaces_prompt() -> None:
    screen = "\n".join(
        [
            "● Bash(rm -rf build)",
            RULE,
            " Bash command",
            "",
            "   rm -rf build",
            "",
            " Do you want to proceed?",
            " ❯ 1. Yes",
            "   2. No",
            "",
            " Esc to cancel · Tab to amend",
        ]
    )
    verdict = look(screen).verdict
    assert (verdict.state, verdict.detail) == (State.WAITING_INPUT, "Do you want to proceed?")


def test_claude1_permission_box() -> None:
    top, bottom = "╭" + "─" * 60 + "╮", "╰" + "─" * 60 + "╯"
    rows = ["Edit file", "", "Do you want to make this edit to parser.py?", "❯ 1. Yes", "  2. No (esc)"]
    screen = "\n".join([top, *(f"│ {row:<58} │" for row in rows), bottom])
    assert look(screen).verdict.state is State.WAITING_INPUT


def test_hash_ignores_scrollback_above_live_region() -> None:
    old = look(claude2("ancient line A", *[f"● {n}" for n in range(30)]))
    new = look(claude2("ancient line B", *[f"● {n}" for n in range(30)]))
    assert old.screen_hash == new.screen_hash


def test_evidence_holds_matched_lines() -> None:
    verdict = look(WORKING).verdict
    assert verdict.evidence and "Forming" in verdict.evidence[0]


def test_message_wrapped_in_a_narrow_pane() -> None:
    screen = claude2("> hi", "", "● API Error: Request rejected", "  (429) · slow down")
    assert look(screen).verdict.state is State.RATE_LIMITED


def test_api_retry_is_an_error_with_the_attempt() -> None:
    screen = claude2(
        "> please", "✻ 529 Overloaded · retrying in 3s · attempt 3/10", "  ⎿  If it persists, check your gateway",
        footer="  ⏵⏵ auto mode on (shift+tab to cycle) · esc to interrupt",
    )
    verdict = look(screen).verdict
    assert (verdict.state, verdict.rule) == (State.ERROR, "claude.api-retrying")
    assert verdict.detail == "API error 529 Overloaded, retrying (attempt 3/10)"
    later = look(screen.replace("retrying in 3s", "retrying in 1s")).verdict
    assert later.detail == verdict.detail  # the countdown does not churn the detail
    generic = look(screen.replace("529 Overloaded", "API error").replace("3/10", "1/10")).verdict
    assert (generic.state, generic.detail) == (State.ERROR, "API error, retrying (attempt 1/10)")
    limited = look(screen.replace("529 Overloaded", "429 Too Many Requests")).verdict
    assert limited.state is State.RATE_LIMITED


def test_resend_placeholder_is_not_typed_text() -> None:
    resend = "Resend your message to try again"
    error = claude2("> and again", "● API Error: 529 Overloaded. This is a server-side issue", typed=resend)
    assert look(error).verdict.state is State.ERROR
    assert look(claude2("● Done.", typed=resend)).verdict.state is State.IDLE


def test_unnumbered_choice_list_without_input_box_is_a_question() -> None:
    screen = "\n".join(
        [
            " Let's get started.",
            " Choose the text style that looks best with your terminal",
            "",
            " ❯ ✔ Auto (match terminal)",
            "     Dark mode",
            "     Light mode",
            "",
            "  Syntax theme: Monokai Extended (ctrl+t to disable)",
        ]
    )
    verdict = look(screen).verdict
    assert verdict.state is State.WAITING_INPUT
    assert verdict.detail.startswith("Choose the text style")
    typed = claude2("> go", "● Done.", typed="first line\n  second line\n  third line")
    assert look(typed).verdict.state is State.UNSUBMITTED  # a multi-line prompt is no menu



CLAUDE20_RETRY = "\n".join([
    "> please",
    '  ⎿  529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
    "     Retrying in 4 seconds… (attempt 4/10)",
    "✻ Perusing… (esc to interrupt)",
    RULE, "> ", RULE, "  ? for shortcuts", "",
])


def test_claude20_retry_on_two_lines_is_error_with_a_steady_detail() -> None:
    """Claude Code 2.0 shows the failure, then `Retrying in Ns… (attempt n/10)`, above a spinner."""
    verdict = look(CLAUDE20_RETRY).verdict
    assert (verdict.state, verdict.rule) == (State.ERROR, "claude20.api-retrying")
    assert verdict.detail == "API error 529 Overloaded, retrying (attempt 4/10)"
    later = look(CLAUDE20_RETRY.replace("Retrying in 4 seconds", "Retrying in 2 seconds")).verdict
    assert later.detail == verdict.detail  # the countdown is no news


def test_claude20_retry_of_a_rate_limit_is_rate_limited() -> None:
    screen = CLAUDE20_RETRY.replace(
        '529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
        '429 {"type":"error","error":{"type":"rate_limit_error","message":"Too many tokens per minute"}}',
    )
    verdict = look(screen).verdict
    assert (verdict.state, verdict.rule) == (State.RATE_LIMITED, "claude20.api-retrying")
    assert verdict.detail == "API error 429 Too many tokens per minute, retrying (attempt 4/10)"


def test_claude20_retry_with_a_wrapped_body() -> None:
    """A long JSON body wraps: the failure is read from the `⎿` line on."""
    screen = CLAUDE20_RETRY.replace(
        '529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
        '429 {"type":"error","error":{"type":"rate_limit_error","message":"Number of request\n'
        '     tokens has exceeded your per-minute rate limit"}}',
    )
    verdict = look(screen).verdict
    assert verdict.state is State.RATE_LIMITED, verdict
    assert verdict.detail.startswith("API error 429 Number of request"), verdict.detail


def test_retry_lines_quoted_by_a_tool_or_the_transcript_are_not_the_agent_retrying() -> None:
    """Only Claude's own retry line right above its spinner counts, not text that quotes one."""
    quoted = claude2('> fix it', '', '● Done. On HTTP 429 the client now logs "Retrying in 2s (attempt 1/5)".')
    assert look(quoted).verdict.state is State.IDLE
    tool = claude2("> run the tests", "", "● Bash(pytest)", "  ⎿  WARNING client: 429 Too Many Requests",
                   "     Retrying in 1 seconds (attempt 1/3)", "     ctrl+b ctrl+b to run in background",
                   "✻ Perusing… (esc to interrupt)", footer="  ? for shortcuts")
    assert look(tool).verdict.state is State.WORKING
    user = claude2("> why does this loop?", "  Retrying in 5 seconds (attempt 2/3)", "✻ Perusing… (esc to interrupt)",
                   footer="  ? for shortcuts")
    assert look(user).verdict.state is State.WORKING


def test_fingerprint_sees_progress_above_a_todo_list() -> None:
    """Claude 2.x draws its todo list under the spinner: the spinner's token count still counts."""
    todos = ["  ⎿  ☒ Parse input", "     ☐ Print output", "     ☐ Write tests", "     ☐ Update docs"]
    one = claude2("> plan", "", "✻ Forming… (5s · ↓ 1.2k tokens)", *todos, footer="  esc to interrupt")
    two = one.replace("↓ 1.2k tokens", "↓ 3.4k tokens")
    assert look(one).screen_hash != look(two).screen_hash
    ticked = one.replace("☐ Print output", "☒ Print output")
    assert look(one).screen_hash != look(ticked).screen_hash


def test_fingerprint_ignores_a_blinking_tool_bullet() -> None:
    """Claude Code 2.0 blinks the `●` of a running tool; with it off, the newest entry seems to start
    at the user's message above. Neither is progress; a new line of output is."""
    on = claude2("> build it", "", "● Bash(python3 spin.py)", "  ⎿  Running…",
                 "     ctrl+b ctrl+b to run in background", "✻ Deliberating… (esc to interrupt)",
                 footer="  ? for shortcuts")
    off = on.replace("● Bash(", "  Bash(")
    assert look(on).screen_hash == look(off).screen_hash
    more = on.replace("  ⎿  Running…", "  ⎿  compiling 3/9")
    assert look(more).screen_hash != look(on).screen_hash
