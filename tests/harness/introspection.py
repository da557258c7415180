"""Extract org.tmuxorc.Monitor1's interface from live introspection XML; regenerate the packaged copy.

``python -m tests.harness.introspection`` starts a private bus, tmux and daemon, and rewrites
packaging/dbus/org.tmuxorc.Monitor1.xml from what the live service reports.
"""

from __future__ import annotations

import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from tmux_orc import busnames as names

HEADER = ('<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"\n'
          ' "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">\n')
OUT = Path(__file__).resolve().parents[2] / "packaging" / "dbus" / "org.tmuxorc.Monitor1.xml"


def interface_xml(xml: str, interface: str) -> str:
    """The one <interface> of the live XML inside a <node>, normalised (indentation, attribute order)."""
    root = ET.fromstring(xml.split("\n", 2)[-1] if xml.startswith("<!DOCTYPE") else xml)
    found = [i for i in root.iter("interface") if i.get("name") == interface]
    if not found:
        raise ValueError(f"{interface} not in the introspection XML")
    node = ET.Element("node", {"name": names.OBJECT_PATH})
    node.append(found[0])
    ET.indent(node, space="  ")
    return HEADER + ET.tostring(node, encoding="unicode") + "\n"


def main() -> None:
    from tests.harness.bus import PrivateBus, busctl
    from tests.harness.daemon import DaemonProcess
    from tests.harness.tmux import TmuxTestServer

    with tempfile.TemporaryDirectory() as tmp:
        bus = PrivateBus()
        tmux = TmuxTestServer(Path(tmp))
        tmux.new_session("introspect")
        daemon = DaemonProcess(bus.address, tmux.socket, Path(tmp)).start()
        try:
            xml = busctl(bus.address, "introspect", "--xml-interface", names.BUS_NAME, names.OBJECT_PATH)
            OUT.write_text(interface_xml(xml, names.INTERFACE))
            print(f"wrote {OUT}")
        finally:
            daemon.stop()
            tmux.kill()
            bus.stop()


if __name__ == "__main__":
    main()
