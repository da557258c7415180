"""The daemon's alerts reach a real notification server (dunst under Xvfb) on its bus."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness.bus import wait_until
from tests.harness.daemon import DaemonProcess
from tests.harness.tmux import TmuxTestServer
from tests.integration.test_desktop import bare_bus, dunst_bus, history  # noqa: F401  (fixtures)

STANDIN = str(Path(__file__).resolve().parents[1] / "harness" / "bin" / "claude")


@pytest.mark.timeout(90)
def test_crash_shows_a_desktop_notification(dunst_bus: dict[str, str], tmux_srv: TmuxTestServer,  # noqa: F811
                                            tmp_path: Path) -> None:
    tmux_srv.new_session("team", "Claude-developer",
                         f"bash --norc --noprofile -c '{STANDIN} exit-after 2; exec bash --norc'")
    d = DaemonProcess(dunst_bus["DBUS_SESSION_BUS_ADDRESS"], tmux_srv.socket, tmp_path,
                      desktop_notifications="true").start()
    try:
        d.wait_state("team:0.0", "crashed")
        entries = wait_until(lambda: [e for e in history(dunst_bus) if e["appname"] == "tmux-orc"], timeout=20,
                             what="a tmux-orc notification in dunst's history")
        crash = [e for e in entries if "crashed" in e["summary"]]
        assert crash and "team:0.0" in crash[0]["summary"]
        assert d.call("GetMetrics")[0]["desktop_skipped"] == 0
    finally:
        d.stop()


def test_desktop_notifications_can_be_switched_off(dunst_bus: dict[str, str], tmux_srv: TmuxTestServer,  # noqa: F811
                                                   tmp_path: Path) -> None:
    tmux_srv.new_session("team", "Claude-developer",
                         f"bash --norc --noprofile -c '{STANDIN} exit-after 1; exec bash --norc'")
    d = DaemonProcess(dunst_bus["DBUS_SESSION_BUS_ADDRESS"], tmux_srv.socket, tmp_path,
                      desktop_notifications="false").start()
    try:
        d.wait_state("team:0.0", "crashed")
        wait_until(lambda: d.call("GetMetrics")[0]["desktop_skipped"] >= 1, what="the alert skipped for desktop")
        assert [e for e in history(dunst_bus) if e["appname"] == "tmux-orc"] == []
    finally:
        d.stop()
