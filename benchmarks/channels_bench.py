"""The daemon's cycle time with and without alert channels that misbehave.

Run: ``.venv/bin/python benchmarks/channels_bench.py [--agents 20] [--cycles 80]``

Starts a private bus, a private tmux with stand-in agents of which a quarter crash and restart in a
loop (so alerts keep coming, with no cooldown), and one ``tmux-orcd``; measures ``last_cycle_ms`` over
``--cycles`` cycles, first with no channel, then with a webhook that hangs 30 s per request, one that
answers 500 and one that works. Prints one table row per run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.harness.bus import PrivateBus, wait_until
from tests.harness.daemon import DaemonProcess
from tests.harness.receivers import WebhookReceiver
from tests.harness.tmux import TmuxTestServer

STANDIN = str(Path(__file__).resolve().parent.parent / "tests" / "harness" / "bin" / "claude")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def cycle_times(d: DaemonProcess, count: int) -> list[float]:
    samples: list[float] = []
    seen = d.call("GetStatus")[0]["cycles"]
    while len(samples) < count:
        time.sleep(0.05)
        status = d.call("GetStatus")[0]
        if status["cycles"] > seen:
            seen = status["cycles"]
            samples.append(float(status["last_cycle_ms"]))
    return samples


def run(label: str, agents: int, cycles: int, urls: list[str]) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        bus = PrivateBus()
        tmux = TmuxTestServer(directory)
        try:
            for n in range(agents):
                loop = f"while true; do {STANDIN} exit-after 3; sleep 3; done" if n % 4 == 0 else f"{STANDIN} idle"
                command = f"bash --norc --noprofile -c '{loop}'"
                if n == 0:
                    tmux.new_session("team", f"Claude-agent{n}", command)
                else:
                    tmux.new_window("team", f"Claude-agent{n}", command)
            settings: dict[str, object] = {"alert_cooldown": 0, "notify_pm": "false", "log_level": "info",
                                           "notify_batch_delay": 0, "notify_timeout": 30, "notify_retries": 1}
            if urls:
                settings["notify_urls"] = json.dumps(urls)
            d = DaemonProcess(bus.address, tmux.socket, directory, **settings).start()
            try:
                wait_until(lambda: len(d.agents()) == agents, timeout=30, what="every agent")
                samples = cycle_times(d, cycles)
                metrics = d.call("GetMetrics")[0]
            finally:
                d.stop()
        finally:
            tmux.kill()
            bus.stop()
    return {"run": label, "p50": percentile(samples, 0.5), "p95": percentile(samples, 0.95), "max": max(samples),
            "alerts": metrics["alerts_raised"], "sent": metrics.get("channel_messages_sent", 0),
            "failed": metrics.get("channel_messages_failed", 0), "dropped": metrics.get("channel_messages_dropped", 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--cycles", type=int, default=80)
    args = parser.parse_args()
    rows = [run("no channel", args.agents, args.cycles, [])]
    with WebhookReceiver("hang", hang_seconds=30) as hung, WebhookReceiver("fail") as bad, WebhookReceiver() as good:
        rows.append(run("hang 30 s + 500 + ok", args.agents, args.cycles, [hung.url(), bad.url(), good.url()]))
        received = len(good.messages())
    print(f"{args.agents} agents (1 in 4 crashing in a loop), interval 0.3 s, {args.cycles} cycles each; ms")
    print("| run | cycle p50 | cycle p95 | cycle max | alerts raised | channel sent | failed | dropped |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['run']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} | {r['alerts']} | {r['sent']} "
              f"| {r['failed']} | {r['dropped']} |")
    print(f"the working webhook received {received} message(s) meanwhile")


if __name__ == "__main__":
    main()
