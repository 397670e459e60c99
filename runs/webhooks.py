"""Outbound webhook requests, held to one policy (docs/web.md, "Notifications").

- Only http/https URLs without user:password.
- The host name is resolved and every address it resolves to must be public: loopback,
  link-local, multicast, unspecified, private and reserved ranges are refused unless
  ``settings.ATP_WEBHOOK_ALLOW_NETWORKS`` (CIDRs) names them. The check runs when a hook is saved
  and again at every send; the POST then goes to the very address that was checked (the name is
  not resolved a second time), so a name that changes its answer cannot slip past.
- Redirects are not followed (a 3xx is the final answer).
- Only the status of the answer is kept; its body is never read into the database.
- With a signing secret the body is signed: ``X-ATP-Signature: sha256=<hex HMAC-SHA256 of the
  exact body bytes>``.

Every error reads as a sentence (it is shown on the Schedules page).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

from django.conf import settings

from atp_core.errors import InvalidInput

USER_AGENT = "OCloudView-ATP-webhook/1"
SIGNATURE_HEADER = "X-ATP-Signature"


class WebhookRefused(InvalidInput):
    """The URL is not one this site may send to (scheme, address range, unresolvable)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked IP the request goes to


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for item in getattr(settings, "ATP_WEBHOOK_ALLOW_NETWORKS", []) or []:
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            continue  # a malformed entry allows nothing
    return networks


def _internal_reason(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    for attr, label in (
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_unspecified", "the unspecified address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(ip, attr):
            return label
    if not ip.is_global:
        return "not a public address"
    return ""


def mask_url(url: str) -> str:
    """``https://hooks.example.com/…``: scheme and host only (paths and queries often carry a
    token)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "…"
    if not parts.hostname:
        return "…"
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    port = f":{parts.port}" if _safe_port(parts) else ""
    rest = "/…" if (parts.path not in ("", "/") or parts.query) else "/"
    return f"{parts.scheme}://{host}{port}{rest}"


def _safe_port(parts) -> int | None:
    try:
        return parts.port
    except ValueError:
        return None


def check_url(url: str) -> Target:
    """Resolve ``url`` and check it against the policy; raises ``WebhookRefused``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookRefused(f"{mask_url(url)} is not a valid URL.") from None
    if parts.scheme not in ("http", "https"):
        raise WebhookRefused("A webhook URL must start with http:// or https://.")
    if not parts.hostname:
        raise WebhookRefused("The webhook URL has no host name.")
    if parts.username or parts.password:
        raise WebhookRefused(
            "The webhook URL must not carry a user name or password; use a signing secret."
        )
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise WebhookRefused(f"The host name {parts.hostname} does not resolve.") from None
    allowed = _allowed_networks()
    addresses = []
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        reason = _internal_reason(ip)
        if reason and not any(ip in net for net in allowed):
            raise WebhookRefused(
                f"{parts.hostname} resolves to {ip}, {reason}; webhooks may only reach public "
                "addresses unless ATP_WEBHOOK_ALLOW_NETWORKS names the network."
            )
        addresses.append(str(ip))
    if not addresses:
        raise WebhookRefused(f"The host name {parts.hostname} does not resolve.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port, path, addresses[0])


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


class SendError(Exception):
    """A transport failure; ``str()`` is a sentence; ``retryable`` as for a 5xx."""

    def __init__(self, message: str, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


def post_once(
    url: str, body: bytes, *, timeout: float, secret: str = "", event: str = "run_finished"
) -> int:
    """One POST of ``body`` to ``url`` under the policy; returns the HTTP status.

    Raises ``WebhookRefused`` (policy) or ``SendError`` (network)."""
    import urllib3

    target = check_url(url)
    headers = {
        "Host": target.host if target.port in (80, 443) else f"{target.host}:{target.port}",
        "User-Agent": USER_AGENT,
        "Content-Type": "application/json",
        "X-ATP-Event": event,
    }
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    kwargs = {
        "timeout": urllib3.Timeout(connect=timeout, read=timeout),
        "retries": False,
        "maxsize": 1,
    }
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            **kwargs,
        )
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, **kwargs)
    where = f"{target.host}:{target.port}"
    try:
        resp = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers=headers,
            redirect=False,
            preload_content=False,
            assert_same_host=False,
        )
        status = resp.status
        resp.release_conn()
        return status
    except urllib3.exceptions.NewConnectionError as exc:
        raise SendError(f"Could not connect to {where} ({_short(exc)}).") from None
    except urllib3.exceptions.ConnectTimeoutError:
        raise SendError(f"{where} did not accept a connection within {timeout:g} s.") from None
    except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
        raise SendError(f"{where} did not answer within {timeout:g} s.") from None
    except urllib3.exceptions.SSLError as exc:
        raise SendError(f"The TLS handshake with {where} failed ({_short(exc)}).") from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise SendError(f"The request to {where} failed ({_short(exc)}).") from None
    finally:
        pool.close()


def _short(exc: BaseException) -> str:
    """The innermost reason of a urllib3/socket error, e.g. "connection refused"."""
    inner = exc
    for _ in range(5):
        nxt = getattr(inner, "reason", None) or inner.__cause__ or inner.__context__
        if not isinstance(nxt, BaseException) or nxt is inner:
            break
        inner = nxt
    if isinstance(inner, ConnectionRefusedError):
        return "connection refused"
    if isinstance(inner, OSError) and inner.strerror:
        return inner.strerror.lower()
    text = str(inner)
    if ": " in text and text.startswith("<"):
        text = text.split(": ", 1)[1]
    return text[:200] or type(inner).__name__


def status_sentence(status: int) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    text = f"The webhook answered HTTP {status}"
    return f"{text} ({phrase})." if phrase else f"{text}."
