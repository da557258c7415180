"""The change feed continues a pane again when tmux may not have done it (tmux/notify.py, no tmux)."""

from __future__ import annotations

import asyncio

from tmux_orc.tmux.connection import TmuxTimeout
from tmux_orc.tmux.flow import PaneFlow
from tmux_orc.tmux.notify import OutputWatch


class SlowClient:
    """An output client whose first ``failures`` commands time out; the commands it was given."""

    connected = True

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.commands: list[str] = []

    async def command(self, line: str, timeout: float | None = None) -> list[str]:
        self.commands.append(line)
        if self.failures:
            self.failures -= 1
            raise TmuxTimeout("no reply from tmux within 2s")
        return []


def test_a_continue_that_timed_out_is_sent_again() -> None:
    async def scenario() -> list[str]:
        watch = OutputWatch(None)
        client = SlowClient(failures=1)
        watch._clients["$0"] = client  # type: ignore[assignment]
        flow = watch._flows["$0"] = PaneFlow(hold=1.0, quiet=0.3)
        flow.follow({"%1"})
        await watch._send("$0", ["%1"], "continue")
        assert flow.is_held("%1") and flow.unsure() == {"%1"}  # counted held until the retry
        watch._pacer = asyncio.get_running_loop().create_task(watch._run_pacer())
        await asyncio.sleep(0.7)  # RETRY_CONTINUE later the pacer continues it again
        watch._pacer.cancel()
        await asyncio.gather(watch._pacer, return_exceptions=True)
        assert not flow.is_held("%1")
        return client.commands

    assert asyncio.run(scenario()) == ["refresh-client -A '%1:continue'"] * 2
