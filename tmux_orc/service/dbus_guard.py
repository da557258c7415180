"""Answer calls with the wrong argument types with the contract's InvalidArgument, not UnknownMethod."""

from collections.abc import Callable

from dbus_fast import Message, MessageType
from dbus_fast.service import ServiceInterface

from tmux_orc.service import names


def signature_guard(interface: ServiceInterface, path: str) -> Callable[[Message], Message | None]:
    """A bus message handler that rejects a known method called with the wrong signature."""
    expected = {
        method.name: "".join(str(arg.signature) for arg in method.in_args)
        for method in interface.introspect().methods
    }

    def handle(msg: Message) -> Message | None:
        if (
            msg.message_type is MessageType.METHOD_CALL
            and msg.path == path
            and msg.interface in (interface.name, None)
            and msg.member in expected
            and msg.signature != expected[msg.member]
        ):
            want = expected[msg.member] or "no arguments"
            return Message.new_error(
                msg, names.ERROR_INVALID_ARGUMENT,
                f"{msg.member} takes ({want}), not ({msg.signature or 'no arguments'})",
            )
        return None

    return handle
