"""Flow control bookkeeping of an output client (tmux/flow.py): which panes are held, and when let go."""

from __future__ import annotations

from tmux_orc.tmux.flow import FrameMeter, PaneFlow


def test_news_is_never_held() -> None:
    flow = PaneFlow(hold=1.0, quiet=0.3)
    flow.output("%1", news=True, now=10.0)
    assert flow.take_pauses() == [] and not flow.is_held("%1") and flow.unsure() == set()
    flow.output("%1", news=False, now=10.1)  # a spinner frame after it: held
    assert flow.take_pauses() == ["%1"]
    assert flow.release({"%1", "%2"}) == ["%1"]  # continued just before its reading
    assert not flow.is_held("%1") and flow.unsure() == set()


def test_a_spinner_is_held_then_let_go_and_read_when_it_falls_silent() -> None:
    flow = PaneFlow(hold=1.0, quiet=0.3, slack=0.1)
    flow.output("%1", news=False, now=10.0)
    flow.output("%2", news=False, now=10.05)
    assert flow.take_pauses() == ["%1", "%2"]
    assert flow.unsure() == {"%1", "%2"}  # their frames are dropped from now on
    assert flow.due(10.5) == []
    assert flow.due(11.0) == ["%1", "%2"]  # holds ending close together: one command
    assert not flow.is_held("%1") and flow.next_at() == 11.0 + 0.3
    flow.output("%1", news=False, now=11.1)  # still animating: held again, not read
    assert flow.take_pauses() == ["%1"]
    assert flow.silent(11.3) == ["%2"]  # printed nothing after it was let go: read it
    assert flow.silent(12.0) == []
    assert flow.unsure() == {"%1", "%2"}  # until read
    assert flow.release(flow.unsure()) == ["%1"]
    assert flow.unsure() == set()


def test_panes_without_an_agent_stay_held() -> None:
    flow = PaneFlow(hold=1.0, quiet=0.3)
    assert flow.follow({"%1"}) == []
    flow.output("%9", news=False, now=1.0)
    assert flow.take_pauses() == ["%9"]
    assert flow.due(100.0) == [] and flow.release({"%9"}) == [] and flow.unsure() == set()
    assert flow.follow({"%1", "%9"}) == ["%9"]  # an agent was found there: its output flows again
    assert not flow.is_held("%9") and flow.unsure() == {"%9"}  # and it is read
    flow.output("%1", news=False, now=2.0)
    flow.follow({"%9"})  # the agent in %1 went away: held for good
    assert flow.due(100.0) == []


def test_a_new_connection_holds_nothing() -> None:
    flow = PaneFlow()
    flow.output("%1", news=False, now=1.0)
    flow.reset()
    assert not flow.is_held("%1") and flow.take_pauses() == [] and flow.unsure() == set()


def test_frames_stream_until_the_budget_is_exceeded_then_are_held_a_while() -> None:
    """Below the budget nothing is held; over it, holding goes on for ``engaged_for`` seconds and the
    frames are counted afresh after."""
    meter = FrameMeter(budget=3, engaged_for=10.0)
    for t in (100.0, 100.2, 100.4):
        meter.frame(t)
    assert not meter.holding(100.5)
    for t in (101.0, 101.1, 101.2, 101.3):  # 4 in one second
        meter.frame(t)
    assert meter.holding(101.3) and meter.holding(111.2) and not meter.holding(111.4)
    assert meter.engagements == 1
    flow = PaneFlow(hold=1.0, quiet=0.3)
    flow.output("%1", news=False, now=1.0, hold=False)  # a spinner frame, the client not busy
    assert flow.take_pauses() == [] and not flow.is_held("%1") and flow.unsure() == set()
    flow.follow({"%1"})
    flow.output("%9", news=False, now=1.0, hold=False)  # no agent there: held for good all the same
    assert flow.take_pauses() == ["%9"]


def test_panes_whose_continue_failed_are_continued_again_and_read() -> None:
    """A continue that tmux may not have carried out (it failed or timed out) must not leave a pane
    paused for good: the pane counts as held until the retry, then is let go and listened to."""
    flow = PaneFlow(hold=1.0, quiet=0.3, slack=0.0)
    flow.follow({"%1", "%2"})
    flow.output("%1", news=False, now=10.0)
    assert flow.take_pauses() == ["%1"]
    assert flow.due(11.0) == ["%1"]  # let go: the continue is sent ... and fails
    flow.retry(["%1", "%9"], at=11.5)  # %9 is no agent's: it stays as it is
    assert flow.is_held("%1") and not flow.is_held("%9") and flow.unsure() == {"%1"}
    assert flow.silent(11.4) == []  # not listened to while it may still be paused
    assert flow.next_at() == 11.5
    assert flow.due(11.5) == ["%1"]  # continued again
    assert flow.silent(11.8) == ["%1"]  # and read if it prints nothing: what it drew was dropped
    flow.retry(["%2"], at=20.0)  # a failed continue before a reading: held until the retry too
    assert flow.release({"%2"}) == ["%2"]  # a reading continues it first anyway
