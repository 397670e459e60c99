"""The rig's remote libvirt hosts (``rig/remote-hosts.sh``): daemons in their own network and
mount namespaces, reached over qemu+tcp://, qemu+ssh:// and qemu+tls://, each with its own guests.

``$ATP_REMOTE_STATE/hosts.json`` (written by the rig) names them. Raw libvirt and ``ip`` calls
only: the rig must not depend on the code it tests. Taking a host's link down (``link_down``)
cuts every connection to it, as a pulled cable would; the daemon and its guests live on.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import libvirt

STATE = os.environ.get("ATP_REMOTE_STATE", "/var/lib/atp-rig/remote")
HOSTS_FILE = os.path.join(STATE, "hosts.json")


@dataclass(frozen=True)
class RemoteHost:
    name: str
    netns: str
    link: str
    address: str
    tcp_uri: str
    ssh_uri: str
    state_dir: str
    tls_uri: str = ""

    def uri(self, transport: str) -> str:
        return {"tcp": self.tcp_uri, "ssh": self.ssh_uri, "tls": self.tls_uri}[transport]

    def _ip(self, *args: str) -> None:
        subprocess.run(["ip", "-n", self.netns, *args], check=True, timeout=20)

    def link_down(self) -> None:
        self._ip("link", "set", self.link, "down")

    def link_up(self) -> None:
        self._ip("link", "set", self.link, "up")

    @contextlib.contextmanager
    def link_cut(self) -> Iterator[None]:
        """The host's network link down for the block; always back up afterwards."""
        self.link_down()
        try:
            yield
        finally:
            self.link_up()

    @property
    def host_side_device(self) -> str:
        return f"{self.netns}-h"

    @property
    def subnet_prefix(self) -> str:
        return self.address.rsplit(".", 1)[0]


def load_remote_hosts() -> list[RemoteHost]:
    """The rig's remote hosts, or [] when the rig has not made them."""
    try:
        with open(HOSTS_FILE) as f:
            return [RemoteHost(**entry) for entry in json.load(f)]
    except (OSError, ValueError, TypeError):
        return []


def answers(uri: str) -> bool:
    try:
        libvirt.open(uri).close()
        return True
    except libvirt.libvirtError:
        return False


@contextlib.contextmanager
def black_hole(host: RemoteHost, last_octet: int = 99) -> Iterator[str]:
    """An address on the host's subnet that swallows packets: a static neighbour entry points it
    at a MAC nobody has, so SYNs leave and nothing ever answers (no refusal, no unreachable).
    Yields the address."""
    address = f"{host.subnet_prefix}.{last_octet}"
    dev = host.host_side_device
    subprocess.run(
        ["ip", "neigh", "replace", address, "lladdr", "02:00:00:a7:00:63", "dev", dev]
        + ["nud", "permanent"],
        check=True,
        timeout=20,
    )
    try:
        yield address
    finally:
        subprocess.run(["ip", "neigh", "del", address, "dev", dev], check=False, timeout=20)
