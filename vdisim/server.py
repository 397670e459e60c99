"""The simulator's HTTP side: vendor paths, envelope, token rule, fault injection, recording.

Standard library only (``ThreadingHTTPServer``). Besides the vendor API it answers a small
control API under ``/_sim/`` (no token; for tests and demos): ``GET /_sim/health``,
``POST /_sim/faults``, ``POST /_sim/reset``, ``GET|DELETE /_sim/records``.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from atp_core.vdiplatform.api import OPERATIONS
from vdisim.api import HANDLERS, Operation, Request
from vdisim.errors import OK_MSG, SimError
from vdisim.platform import Platform

log = logging.getLogger(__name__)


@dataclass
class Route:
    operation: Operation
    regex: re.Pattern = field(init=False)

    def __post_init__(self) -> None:
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        self.regex = re.compile(f"^{pattern}$")

    @property
    def method(self) -> str:
        return self.operation.method

    @property
    def template(self) -> str:
        return self.operation.template


class RouteMismatch(RuntimeError):
    """The client's operation table and the simulator's handlers disagree."""


def build_routes(
    operations: list[tuple[str, str]] = OPERATIONS,
    handlers: dict[tuple[str, str], Operation] = HANDLERS,
) -> list[Route]:
    """One route per operation of the client's table (``atp_core.vdiplatform.api.OPERATIONS``),
    answered by the handler registered for it: a client operation without a handler, or a
    handler no client operation calls, is refused here, so the two cannot drift apart."""
    wanted = set(operations)
    missing = [f"{m} {t}" for m, t in operations if (m, t) not in handlers]
    unused = [f"{m} {t}" for m, t in handlers if (m, t) not in wanted]
    if missing or unused:
        raise RouteMismatch(
            "the simulator's handlers do not match the client's operation table "
            "(atp_core.vdiplatform.api.OPERATIONS): "
            + "; ".join(
                part
                for part in (
                    missing and f"no simulator handler for {', '.join(missing)}",
                    unused and f"no client operation for {', '.join(unused)}",
                )
                if part
            )
        )
    routes = [Route(handlers[op]) for op in dict.fromkeys(operations)]
    # literal paths before templated ones (``/host/all`` before ``/host/{id}``)
    return sorted(routes, key=lambda r: r.template.count("{"))


ROUTES = build_routes()


class Faults:
    """Fault injection: set with ``POST /_sim/faults`` (JSON) or ``--faults`` on the command line.

    Keys (all optional): ``delay`` seconds before answering (with ``delay_paths``: only paths
    containing one of these strings); ``http_error`` ``{"status": 500, "count": n}``;
    ``api_error`` ``{"status": 9001, "msg": "...", "count": n}`` (both may add ``"paths": [...]``,
    substrings of the paths they hit); ``garbage`` n answers that are
    not JSON; ``expire_tokens`` true (revokes every token now); ``token_ttl`` seconds (null = no
    expiry); ``state_drift`` ``{"<vm name>": status}`` (the platform's record of those VMs
    changes without the VM doing anything); ``op_delay`` seconds per simulated operation.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.delay = 0.0
        self.delay_paths: list[str] = []
        self.http_error: dict | None = None
        self.api_error: dict | None = None
        self.garbage = 0

    def apply(self, spec: dict, platform: Platform) -> dict:
        if not isinstance(spec, dict):
            raise SimError(4001, "faults must be a JSON object")
        known = {
            "delay",
            "delay_paths",
            "http_error",
            "api_error",
            "garbage",
            "expire_tokens",
            "token_ttl",
            "state_drift",
            "op_delay",
            "clear",
        }
        unknown = set(spec) - known
        if unknown:
            raise SimError(4001, f"unknown fault keys {sorted(unknown)}; allowed: {sorted(known)}")
        with self.lock:
            if spec.get("clear"):
                self.clear()
            if "delay" in spec:
                self.delay = float(spec["delay"] or 0)
                self.delay_paths = list(spec.get("delay_paths") or [])
            if "http_error" in spec:
                self.http_error = dict(spec["http_error"]) if spec["http_error"] else None
            if "api_error" in spec:
                self.api_error = dict(spec["api_error"]) if spec["api_error"] else None
            if "garbage" in spec:
                self.garbage = int(spec["garbage"] or 0)
        revoked = platform.expire_tokens() if spec.get("expire_tokens") else 0
        if "token_ttl" in spec:
            platform.token_ttl = None if spec["token_ttl"] is None else float(spec["token_ttl"])
        if spec.get("state_drift"):
            with platform.lock:
                platform.drift.update({str(k): int(v) for k, v in spec["state_drift"].items()})
        if "op_delay" in spec and hasattr(platform.backend, "op_delay"):
            platform.backend.op_delay = float(spec["op_delay"])
        return {"revoked_tokens": revoked, **self.describe()}

    def describe(self) -> dict:
        return {
            "delay": self.delay,
            "delay_paths": self.delay_paths,
            "http_error": self.http_error,
            "api_error": self.api_error,
            "garbage": self.garbage,
        }

    def take(self, kind: str, path: str) -> dict | None:
        """Consume one occurrence of a counted fault (optionally only on some ``paths``)."""
        with self.lock:
            fault = getattr(self, kind)
            if not fault or int(fault.get("count", 1)) <= 0:
                return None
            if fault.get("paths") and not any(p in path for p in fault["paths"]):
                return None
            fault["count"] = int(fault.get("count", 1)) - 1
            if fault["count"] <= 0:
                setattr(self, kind, None)
            return fault

    def take_garbage(self) -> bool:
        with self.lock:
            if self.garbage > 0:
                self.garbage -= 1
                return True
            return False


class SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, platform: Platform, *, record: bool = False) -> None:
        super().__init__(address, SimRequestHandler)
        self.platform = platform
        self.faults = Faults()
        self.recording = record
        self.records: deque[dict] = deque(maxlen=20000)


def _spring_error(status: int, error: str, path: str) -> dict:
    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "status": status,
        "error": error,
        "path": path,
    }


class SimRequestHandler(BaseHTTPRequestHandler):
    server: SimHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "vdisim/1.0"

    def log_message(self, fmt: str, *args: Any) -> None:
        log.debug("%s " + fmt, self.address_string(), *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    # -------------------------------------------------------------------------

    def _send_json(self, code: int, payload: Any) -> None:
        self._send_raw(
            code,
            json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            "application/json;charset=UTF-8",
        )

    def _send_raw(self, code: int, body: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _read_body(self) -> tuple[bool, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return True, None
        try:
            return True, json.loads(raw)
        except ValueError:
            return False, None

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = {k: v[-1] if len(v) == 1 else ",".join(v) for k, v in parse_qs(url.query).items()}
        ok, body = self._read_body()
        if path.startswith("/_sim"):
            return self._control(method, path, body)
        if not ok:
            return self._send_json(400, _spring_error(400, "Bad Request", path))

        route, args, path_known = None, {}, False
        for candidate in ROUTES:
            match = candidate.regex.match(path)
            if match:
                path_known = True
                if candidate.method == method:
                    route, args = candidate, match.groupdict()
                    break
        if route is None:
            code, err = (405, "Method Not Allowed") if path_known else (404, "Not Found")
            return self._send_json(code, _spring_error(code, err, path))

        faults = self.server.faults
        if faults.delay and (not faults.delay_paths or any(p in path for p in faults.delay_paths)):
            time.sleep(faults.delay)
        http_error = faults.take("http_error", path)
        if http_error:
            code = int(http_error.get("status", 500))
            return self._send_json(code, _spring_error(code, "Internal Server Error", path))
        if faults.take_garbage():
            return self._send_raw(200, b"<html><body>502 Bad Gateway</body></html>", "text/html")

        token = self.headers.get("Token")
        platform = self.server.platform
        try:
            api_error = faults.take("api_error", path)
            if api_error:
                raise SimError(
                    int(api_error.get("status", 9001)), str(api_error.get("msg", "模拟故障"))
                )
            operation = route.operation
            if operation.auth:
                platform.check_token(token)
            data = operation.handler(platform, Request(args, query, body, token))
            envelope: dict[str, Any] = {"status": 0, "msg": OK_MSG}
            if not operation.base_response:
                envelope["data"] = data
        except SimError as exc:
            envelope = {"status": exc.status, "msg": exc.msg}
        except Exception as exc:  # a simulator bug is answered, not dropped
            log.exception("simulator handler failed on %s %s", method, path)
            return self._send_json(
                500, {**_spring_error(500, "Internal Server Error", path), "message": str(exc)}
            )
        if self.server.recording:
            self.server.records.append(
                {
                    "method": method,
                    "template": route.template,
                    "path": path,
                    "query": query,
                    "request": body,
                    "response": envelope,
                }
            )
        self._send_json(200, envelope)

    def _control(self, method: str, path: str, body: Any) -> None:
        server, platform = self.server, self.server.platform
        try:
            if path == "/_sim/health" and method == "GET":
                return self._send_json(
                    200,
                    {
                        "ok": True,
                        "backend": platform.backend.name,
                        "prefix": platform.backend.prefix,
                    },
                )
            if path == "/_sim/faults" and method == "POST":
                return self._send_json(200, server.faults.apply(body or {}, platform))
            if path == "/_sim/reset" and method == "POST":
                server.faults.clear()
                platform.reset()
                return self._send_json(200, {"ok": True})
            if path == "/_sim/records" and method == "GET":
                return self._send_json(200, list(server.records))
            if path == "/_sim/records" and method == "DELETE":
                server.records.clear()
                return self._send_json(200, {"ok": True})
            if path == "/_sim/records" and method == "POST":
                server.recording = bool((body or {}).get("enabled", True))
                return self._send_json(200, {"recording": server.recording})
        except (SimError, TypeError, ValueError) as exc:
            return self._send_json(400, {"error": str(exc)})
        self._send_json(404, _spring_error(404, "Not Found", path))


class SimServer:
    """A running simulator: ``SimServer(platform, port=0).start()``; ``.base_url``; ``.stop()``."""

    def __init__(
        self, platform: Platform, host: str = "127.0.0.1", port: int = 0, *, record: bool = False
    ):
        self.httpd = SimHTTPServer((host, port), platform, record=record)
        self.platform = platform
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SimServer:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="vdisim-http", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.platform.close()
