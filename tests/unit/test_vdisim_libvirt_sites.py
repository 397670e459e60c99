"""The libvirt backend's host list: ``--libvirt-uri`` takes ``URI`` or ``NAME=URI`` (a URI may
hold ``=`` in its query), and a host's address is its URI's (none for a local URI)."""

from __future__ import annotations

import pytest

from vdisim.__main__ import build_parser
from vdisim.backends import LibvirtBackend, parse_site, uri_address


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("qemu:///system", (None, "qemu:///system")),
        ("rh1=qemu+tcp://10.0.0.2/system", ("rh1", "qemu+tcp://10.0.0.2/system")),
        (
            "qemu+ssh://root@10.0.0.3/system?no_tty=1",
            (None, "qemu+ssh://root@10.0.0.3/system?no_tty=1"),
        ),
        (
            "b=qemu+ssh://root@10.0.0.3/system?no_tty=1",
            ("b", "qemu+ssh://root@10.0.0.3/system?no_tty=1"),
        ),
    ],
)
def test_a_site_is_a_uri_or_a_named_uri(spec, expected):
    assert parse_site(spec) == expected


def test_a_local_uri_has_no_address_and_a_remote_one_its_host():
    assert uri_address("qemu:///system") is None
    assert uri_address("qemu+tcp://10.231.61.2/system") == "10.231.61.2"
    assert uri_address("qemu+ssh://root@10.231.62.2/system?no_tty=1") == "10.231.62.2"


def test_the_option_repeats_and_defaults_to_none():
    parser = build_parser()
    assert parser.parse_args([]).libvirt_uri is None
    args = parser.parse_args(["--libvirt-uri", "qemu:///system", "--libvirt-uri", "x=test:///a"])
    assert args.libvirt_uri == ["qemu:///system", "x=test:///a"]


def test_two_hosts_of_one_name_are_refused():
    with pytest.raises(ValueError, match="two libvirt hosts are called 'a'"):
        LibvirtBackend(["a=test:///default", "a=test:///default"], "atp-x-")
    with pytest.raises(ValueError, match="at least one"):
        LibvirtBackend([], "atp-x-")
