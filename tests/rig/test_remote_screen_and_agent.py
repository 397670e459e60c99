"""Screenshots, keyboard and guest-agent calls through the engine on a remote host's guest,
over qemu+tcp:// and qemu+tls:// (first remote host) and qemu+ssh:// (second remote host)."""

import dataclasses
import io

import libvirt
import pytest
from PIL import Image

from tests.rig.protocol_helpers import open_session, poll

pytestmark = pytest.mark.rig


@pytest.mark.parametrize(("transport", "index"), [("tcp", 0), ("ssh", 1), ("tls", 0)])
def test_screenshot_keys_and_agent_over_the_remote_connection(
    remote_hosts, remote_vms, libvirt_uri, transport, index
):
    host, vm = remote_hosts[index], remote_vms[index]
    # the guest lives on the remote daemon only, not on this machine's libvirtd
    local = libvirt.open(libvirt_uri)
    try:
        with pytest.raises(libvirt.libvirtError):
            local.lookupByName(vm.name)
    finally:
        local.close()

    with open_session(dataclasses.replace(vm, uri=host.uri(transport))) as session:
        assert session.ref.connection.get().getURI() == host.uri(transport)
        result = session.agent.exec(f"echo {transport}-$((6 * 7)); test -e /run/atp-ready")
        assert (result.exit_code, result.stdout) == (0, f"{transport}-42\n")

        png = session.screen.screenshot()
        before = Image.open(io.BytesIO(png))
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and before.size == (720, 400)
        session.keyboard.send_text(f"remote-{transport}-marker\n")
        after = poll(
            lambda: Image.open(io.BytesIO(session.screen.screenshot())).convert("L"),
            lambda img: img.tobytes() != before.convert("L").tobytes(),
            timeout=60,
            every=0.5,
        )
        assert after.tobytes() != before.convert("L").tobytes()
