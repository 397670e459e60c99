"""Which libvirt URIs a host may have: only transports that do not run local programs.

libvirt's ``ext`` transport runs any command, and URI options such as ``command=`` (the ssh
binary), ``socket=``/``netcat=`` (a local socket path or remote helper), ``keyfile=``,
``pkipath=`` or ``proxy=`` point the web server or a worker at local programs and files: a
person who may add a host would gain a shell. Allowed: the drivers and transports below, with
no query options except the harmless ones listed.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from django.core.exceptions import ValidationError

ALLOWED_SCHEMES = ("qemu", "qemu+tcp", "qemu+ssh", "qemu+tls", "qemu+unix", "test")
ALLOWED_OPTIONS = ("no_verify", "no_tty", "mode")


def validate_host_uri(uri: str) -> None:
    """Raise ValidationError naming what is wrong and what is allowed."""
    allowed = ", ".join(f"{s}://" for s in ALLOWED_SCHEMES)
    try:
        parts = urlsplit(uri)
    except ValueError as exc:
        raise ValidationError(f"URI {uri!r}: not a URI ({exc}); allowed: {allowed}") from None
    if "://" not in uri or parts.scheme not in ALLOWED_SCHEMES:
        raise ValidationError(
            f"URI {uri!r}: transport {parts.scheme or '(none)'!r} is not allowed; "
            f"allowed: {allowed} (e.g. qemu:///system, qemu+ssh://user@host/system)"
        )
    bad = sorted(
        {k for k, _ in parse_qsl(parts.query, keep_blank_values=True)} - set(ALLOWED_OPTIONS)
    )
    if bad or (parts.query and not parse_qsl(parts.query, keep_blank_values=True)):
        raise ValidationError(
            f"URI {uri!r}: option(s) {', '.join(bad) or parts.query!r} not allowed (they can run "
            f"local programs or read local files); allowed options: {', '.join(ALLOWED_OPTIONS)}; "
            f"allowed transports: {allowed}"
        )
