"""12,500 fuzzed D-Bus calls: random members, interfaces, paths, signatures and arguments, as raw messages.

Every call must be answered, and only with a reply, a contract error (``org.tmuxorc.Monitor1.Error.*``)
or a standard bus error; the daemon stays up and keeps monitoring.
"""

from __future__ import annotations

import asyncio
import random
import string
from collections import Counter
from collections.abc import Callable
from typing import Any

from dbus_fast import Message, Variant
from dbus_fast.aio import MessageBus

from tests.harness.bus import PrivateBus, name_has_owner, wait_until
from tests.harness.daemon import DaemonProcess
from tests.harness.tmux import TmuxTestServer
from tests.hostile.faults_helpers import BUS_ERRORS, outcome, team
from tmux_orc.service import names

StartDaemon = Callable[..., DaemonProcess]
FUZZ_CALLS = 12_500
CLIENTS = 10
IN_FLIGHT = 24  # per connection, under the daemon's per-client limit
SEED = 20261201

MEMBERS = ("Start", "Stop", "GetStatus", "ListAgents", "GetAgent", "Explain", "GetRolloutStage",
           "SetRolloutStage", "GetRollout", "Recover", "ReportEvent", "GetMetrics", "Reload",
           "Get", "GetAll", "Set", "Introspect", "Ping", "GetMachineId", "GetManagedObjects")
INTERFACES = (names.INTERFACE, None, "org.freedesktop.DBus.Properties", "org.freedesktop.DBus.Introspectable",
              "org.freedesktop.DBus.Peer", "org.freedesktop.DBus.ObjectManager", names.AGENT_INTERFACE,
              "org.tmuxorc.Nope1")
PATHS = (names.OBJECT_PATH, names.OBJECT_PATH, "/", names.AGENTS_PATH, names.agent_path("team:0.0"),
         names.agent_path("nope"), "/org/tmuxorc")
# (path, interface, member, signature) of what the daemon does answer: most calls go to one of these,
# half of those with the right signature and random values, so that they reach the code behind.
PROPS = "org.freedesktop.DBus.Properties"
AGENT = names.agent_path("team:0.0")
ENDPOINTS = (
    *((names.OBJECT_PATH, names.INTERFACE, m, sig) for m, sig in (
        ("Start", ""), ("Stop", ""), ("GetStatus", ""), ("ListAgents", ""), ("GetAgent", "s"), ("Explain", "s"),
        ("GetRolloutStage", ""), ("SetRolloutStage", "s"), ("GetRollout", ""), ("Recover", "sa{sv}"),
        ("ReportEvent", "ssa{sv}"), ("GetMetrics", ""), ("Reload", ""))),
    (names.OBJECT_PATH, PROPS, "Get", "ss"), (names.OBJECT_PATH, PROPS, "GetAll", "s"),
    (names.OBJECT_PATH, PROPS, "Set", "ssv"), (AGENT, PROPS, "Get", "ss"), (AGENT, PROPS, "GetAll", "s"),
    (AGENT, PROPS, "Set", "ssv"), (names.OBJECT_PATH, "org.freedesktop.DBus.Introspectable", "Introspect", ""),
    (AGENT, "org.freedesktop.DBus.Introspectable", "Introspect", ""),
    (names.OBJECT_PATH, "org.freedesktop.DBus.Peer", "Ping", ""),
    (names.OBJECT_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", ""),
)
WORDS = (names.INTERFACE, names.AGENT_INTERFACE, "Running", "RolloutStage", "AgentCount", "State", "Target",
         "command", "cause", "team:0.0", "%0", "team:Claude-pm", "canary", "partial", "off", "Stop",
         "Notification", "UserPromptSubmit", "PreToolUse")
TEXT = string.printable + "#;{}%$`'\"\\\u00e9\u2500\u23fa\u276f\U0001f600"
BASIC = "ybnqiuxtdsog"


class Fuzzer:
    """Random but valid D-Bus messages (the bus itself would drop the sender of an invalid one)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def text(self) -> str:
        r = self.rng
        roll = r.random()
        if roll < 0.1:
            return ""
        if roll < 0.4:
            return r.choice((*WORDS, "x" * 5000))
        return "".join(r.choice(TEXT) for _ in range(r.randint(1, 40)))

    def member(self) -> str:
        if self.rng.random() < 0.85:
            return self.rng.choice(MEMBERS)
        first = self.rng.choice(string.ascii_letters + "_")
        return first + "".join(self.rng.choice(string.ascii_letters + string.digits + "_")
                               for _ in range(self.rng.randint(0, 30)))

    def signature(self, depth: int = 0) -> str:
        r = self.rng
        roll = r.random()
        if depth >= 3 or roll < 0.6:
            return r.choice(BASIC)
        if roll < 0.75:
            return "a" + self.signature(depth + 1)
        if roll < 0.85:
            return "a{" + r.choice("sy" + "iu") + self.signature(depth + 1) + "}"
        if roll < 0.95:
            return "(" + "".join(self.signature(depth + 1) for _ in range(r.randint(1, 3))) + ")"
        return "v"

    def value(self, sig: str) -> Any:
        r = self.rng
        head = sig[0]
        simple: dict[str, Callable[[], Any]] = {
            "y": lambda: r.randint(0, 255),
            "b": lambda: r.random() < 0.5,
            "n": lambda: r.randint(-(2**15), 2**15 - 1),
            "q": lambda: r.randint(0, 2**16 - 1),
            "i": lambda: r.randint(-(2**31), 2**31 - 1),
            "u": lambda: r.randint(0, 2**32 - 1),
            "x": lambda: r.randint(-(2**63), 2**63 - 1),
            "t": lambda: r.randint(0, 2**64 - 1),
            "d": lambda: r.choice((0.0, -1.5, 1e308, float("nan"), float("inf"), r.uniform(-1e9, 1e9))),
            "s": self.text,
            "o": lambda: r.choice(PATHS),
            "g": lambda: self.signature(2),
        }
        if head in simple:
            return simple[head]()
        if head == "v":
            inner = self.signature(2)
            return Variant(inner, self.value(inner))
        if sig.startswith("a{"):
            key, val = sig[2], sig[3:-1]
            return {self.value(key): self.value(val) for _ in range(r.randint(0, 4))}
        if sig == "ay":
            return bytes(r.randint(0, 255) for _ in range(r.randint(0, 8)))
        if head == "a":
            return [self.value(sig[1:]) for _ in range(r.randint(0, 4))]
        if head == "(":
            return [self.value(part) for part in split_signature(sig[1:-1])]
        raise AssertionError(sig)

    def call(self) -> Message:
        r = self.rng
        roll = r.random()
        if roll < 0.8:
            path, interface, member, signature = r.choice(ENDPOINTS)
            if roll < 0.45:
                sigs = split_signature(signature)  # right signature, random values
            else:
                sigs = [self.signature() for _ in range(r.choice((0, 1, 1, 2, 3)))]
        else:
            path, interface, member = r.choice(PATHS), r.choice(INTERFACES), self.member()
            sigs = [self.signature() for _ in range(r.choice((0, 0, 1, 1, 2, 3)))]
        return Message(destination=names.BUS_NAME, path=path, interface=interface, member=member,
                       signature="".join(sigs), body=[self.value(s) for s in sigs])


def split_signature(sig: str) -> list[str]:
    """The complete types of a signature, in order ("a{sv}(ii)s" -> ["a{sv}", "(ii)", "s"])."""
    out: list[str] = []
    i = 0
    while i < len(sig):
        j = i
        while sig[j] == "a":
            j += 1
        if sig[j] in "({":
            close = {"(": ")", "{": "}"}[sig[j]]
            depth = 0
            for k in range(j, len(sig)):
                depth += sig[k] == sig[j]
                depth -= sig[k] == close
                if depth == 0:
                    j = k
                    break
        out.append(sig[i:j + 1])
        i = j + 1
    return out


async def _client(address: str, messages: list[Message]) -> list[str]:
    bus = await MessageBus(bus_address=address).connect()
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(msg: Message) -> str:
        async with gate:
            try:
                reply = await asyncio.wait_for(bus.call(msg), 30)
            except Exception as exc:  # noqa: BLE001 - counted: a call without an answer fails the test below
                return type(exc).__name__
            return outcome(reply if reply is not None else RuntimeError("no reply"))

    try:
        return list(await asyncio.gather(*(one(m) for m in messages)))
    finally:
        bus.disconnect()


async def fuzz(address: str, calls: int, seed: int = SEED) -> Counter[str]:
    fuzzer = Fuzzer(seed)
    messages = [fuzzer.call() for _ in range(calls)]
    shares = [messages[n::CLIENTS] for n in range(CLIENTS)]
    results = await asyncio.gather(*(_client(address, share) for share in shares))
    return Counter(name for result in results for name in result)


def test_split_signature() -> None:
    assert split_signature("a{sv}(ii)s") == ["a{sv}", "(ii)", "s"]
    assert split_signature("aa(s(ii))v") == ["aa(s(ii))", "v"]


def test_fuzzed_calls_get_only_contract_or_bus_errors(tmux_srv: TmuxTestServer, daemon: StartDaemon,
                                                      session_bus: PrivateBus) -> None:
    team(tmux_srv, agents=2)
    d = daemon(tmux_srv)
    d.wait_state("team:0.0", "idle")
    outcomes = asyncio.run(fuzz(session_bus.address, FUZZ_CALLS))
    assert sum(outcomes.values()) == FUZZ_CALLS
    unexpected = {name: n for name, n in outcomes.items()
                  if name != "ok" and not name.startswith(names.ERROR_PREFIX) and name not in BUS_ERRORS}
    assert not unexpected, (unexpected, outcomes)
    assert "org.freedesktop.DBus.Error.NoReply" not in outcomes, outcomes
    assert "org.freedesktop.DBus.Error.ServiceUnknown" not in outcomes, outcomes
    assert d.proc is not None and d.proc.poll() is None and name_has_owner(session_bus.address)
    assert "Traceback" not in d.log()
    d.call("Start")
    cycles = d.call("GetStatus")[0]["cycles"]
    wait_until(lambda: d.call("GetStatus")[0]["cycles"] > cycles + 1, timeout=20, what="monitoring to go on")
    assert len(d.agents()) == 2
