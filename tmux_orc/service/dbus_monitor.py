"""org.tmuxorc.Monitor1 on /org/tmuxorc/Monitor1: parse arguments, call the service, map errors. Nothing else."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from dbus_fast import Variant
from dbus_fast.annotations import DBusBool, DBusDict, DBusDouble, DBusSignature, DBusStr, DBusUInt32
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property, dbus_signal

from tmux_orc.core.errors import InvalidArgument
from tmux_orc.core.service import MonitorService
from tmux_orc.service import names
from tmux_orc.service.dbus_errors import mapped
from tmux_orc.service.variants import agent_dict, unwrap, variant_dict

DBusDictList = Annotated[list[dict[str, Variant]], DBusSignature("aa{sv}")]
Sig5 = Annotated[tuple[str, str, str, str, str], DBusSignature("sssss")]
Sig4Alert = Annotated[tuple[str, str, str, str], DBusSignature("ssss")]
SigRecovery = Annotated[tuple[str, str, bool, str], DBusSignature("ssbs")]
Sig3 = Annotated[tuple[str, str, str], DBusSignature("sss")]
Sig2 = Annotated[tuple[str, str], DBusSignature("ss")]

MAX_DETAILS = 32
MAX_DETAIL_LEN = 4096
MAX_ARG_LEN = 4096  # characters of a target, stage or event name; longer ones are refused unquoted


def short(name: str, value: str) -> str:
    """``value`` when it is at most MAX_ARG_LEN characters; else an InvalidArgument that does not quote it."""
    if len(value) > MAX_ARG_LEN:
        raise InvalidArgument(f"{name} is {len(value)} characters long; at most {MAX_ARG_LEN}")
    return value


def string_details(details: dict[str, Any]) -> dict[str, str]:
    """ReportEvent details as short strings; anything else is an InvalidArgument."""
    if len(details) > MAX_DETAILS:
        raise InvalidArgument(f"too many details ({len(details)} > {MAX_DETAILS})")
    out: dict[str, str] = {}
    for key, value in unwrap(details).items():
        if not isinstance(value, str | int | float | bool):
            raise InvalidArgument(f"detail {key!r} must be a string or number, not {type(value).__name__}")
        out[key] = str(value)[:MAX_DETAIL_LEN]
    return out


class MonitorInterface(ServiceInterface):
    """The published Monitor1 object: each method one line into the service facade."""

    def __init__(self, service: MonitorService, reload: Callable[[], Awaitable[None]]) -> None:
        super().__init__(names.INTERFACE)
        self.service = service
        self._reload = reload

    # --- methods ---------------------------------------------------------------------------------
    @dbus_method()
    @mapped
    def Start(self) -> None:
        self.service.start()

    @dbus_method()
    @mapped
    def Stop(self) -> None:
        self.service.stop()

    @dbus_method()
    @mapped
    def GetStatus(self) -> DBusDict:
        return variant_dict(self.service.status().as_dict())

    @dbus_method()
    @mapped
    def ListAgents(self) -> DBusDictList:
        return [variant_dict(agent_dict(view)) for view in self.service.agents()]

    @dbus_method()
    @mapped
    def ListAgentKinds(self) -> DBusDictList:
        return [variant_dict(kind.as_dict()) for kind in self.service.agent_kinds()]

    @dbus_method()
    @mapped
    def GetAgent(self, target: DBusStr) -> DBusDict:
        return variant_dict(agent_dict(self.service.get_agent(short("target", target))))

    @dbus_method()
    @mapped
    def Explain(self, target: DBusStr) -> DBusDict:
        return variant_dict(self.service.explain(short("target", target)).as_dict())

    @dbus_method()
    @mapped
    def GetRolloutStage(self) -> DBusStr:
        return self.service.get_rollout_stage()

    @dbus_method()
    @mapped
    def SetRolloutStage(self, stage: DBusStr) -> DBusStr:
        return self.service.set_rollout_stage(short("stage", stage))

    @dbus_method()
    @mapped
    def GetRollout(self) -> DBusDict:
        return variant_dict(self.service.rollout_info().as_dict())

    @dbus_method()
    @mapped
    def Recover(self, target: DBusStr, options: DBusDict) -> DBusStr:
        if len(options) > MAX_DETAILS:
            raise InvalidArgument(f"too many options ({len(options)} > {MAX_DETAILS})")
        return self.service.recover(short("target", target), unwrap(options))

    @dbus_method()
    @mapped
    def ReportEvent(self, target: DBusStr, event: DBusStr, details: DBusDict) -> None:
        plain = string_details(details)
        self.service.report_event(short("target", target), short("event", event), plain,
                                  plain.get(names.EVENT_SERVER_KEY, ""))

    @dbus_method()
    @mapped
    def GetMetrics(self) -> DBusDict:
        return variant_dict(self.service.metrics())

    @dbus_method()
    @mapped
    async def Reload(self) -> None:
        await self._reload()

    # --- properties ------------------------------------------------------------------------------
    @dbus_property(access=PropertyAccess.READ)
    def Running(self) -> DBusBool:
        return self.service.running

    @dbus_property(access=PropertyAccess.READ)
    def RolloutStage(self) -> DBusStr:
        return self.service.get_rollout_stage()

    @dbus_property(access=PropertyAccess.READ)
    def AgentCount(self) -> DBusUInt32:
        return self.service.agent_count

    @dbus_property(access=PropertyAccess.READ)
    def LastCycleMs(self) -> DBusDouble:
        return self.service.last_cycle_ms

    @dbus_property(access=PropertyAccess.READ)
    def TmuxConnected(self) -> DBusBool:
        return self.service.tmux_connected

    @dbus_property(access=PropertyAccess.READ)
    def Version(self) -> DBusStr:
        return self.service.version

    def property_values(self) -> dict[str, Any]:
        """Every property's current value (the publisher diffs them for PropertiesChanged)."""
        service = self.service
        return {
            "Running": service.running,
            "RolloutStage": service.get_rollout_stage(),
            "AgentCount": service.agent_count,
            "LastCycleMs": service.last_cycle_ms,
            "TmuxConnected": service.tmux_connected,
            "Version": service.version,
        }

    # --- signals ---------------------------------------------------------------------------------
    @dbus_signal()
    def AgentStateChanged(self, id: str, target: str, old_state: str, new_state: str, detail: str) -> Sig5:
        return id, target, old_state, new_state, detail

    @dbus_signal()
    def AgentAppeared(self, id: str, target: str) -> Sig2:
        return id, target

    @dbus_signal()
    def AgentVanished(self, id: str, target: str) -> Sig2:
        return id, target

    @dbus_signal()
    def RecoveryFinished(self, recovery_id: str, target: str, success: bool, detail: str) -> SigRecovery:
        return recovery_id, target, success, detail

    @dbus_signal()
    def RolloutStageChanged(self, old_stage: str, new_stage: str, reason: str) -> Sig3:
        return old_stage, new_stage, reason

    @dbus_signal()
    def Alert(self, severity: str, summary: str, body: str, target: str) -> Sig4Alert:
        return severity, summary, body, target
