"""HTTP client of the OCloudView VDI platform (``/ocloud/v1``), built on ``requests``.

Follows the vendor OpenAPI documents (``ocloudview-9.0-openapi.json`` and the newer lab
``ocloudview-lab-swagger.json``): admin login with the MD5 of the password, the ``Token`` header,
the ``{status, msg, data}`` envelope (unwrapped in ``VdiClient.call`` only), 1-based paging with
``pageNum``/``pageSize`` → ``{list, pageNum, pageSize, pages, total}``.

Usage::

    with VdiClient("http://127.0.0.1:8088", "admin", "11111111") as vdi:
        for vm in vdi.domains.list(status=[DomainStatus.RUNNING]):
            print(vm.name, vm.status)
        result = vdi.domains.start([vm.id])
        vdi.events.wait_all(result.event_ids, timeout=60)
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import requests

from atp_core.cancel import NEVER, CancelToken
from atp_core.errors import InvalidInput
from atp_core.vdiplatform.errors import (
    TOKEN_INVALID,
    VdiApiError,
    VdiAuthError,
    VdiConnectionError,
    VdiHttpError,
    VdiProtocolError,
    VdiTimeout,
)
from atp_core.vdiplatform.records import LoginInfo

log = logging.getLogger(__name__)

T = TypeVar("T")

LOGIN_PATH = "/ocloud/v1/login"
LOGOUT_PATH = "/ocloud/v1/logout"
RETRYABLE_HTTP = frozenset({500, 502, 503, 504})
DEFAULT_PAGE_SIZE = 100


def md5_password(plaintext: str) -> str:
    """The platform's password form: lowercase hex MD5 of the UTF-8 plaintext."""
    return hashlib.md5(plaintext.encode("utf-8")).hexdigest()


class VdiClient:
    """One authenticated session with the platform.

    ``timeout`` bounds every HTTP request (connect and read). ``retries`` applies to idempotent
    reads (GET) only, on connection errors, timeouts and HTTP 5xx, with exponential backoff from
    ``backoff`` seconds. Any call answered with status 1006 (token rejected) logs in again once and
    is repeated. Log in explicitly with ``login()`` or let the first call do it.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        timeout: float = 10.0,
        retries: int = 2,
        backoff: float = 0.2,
        verify_ssl: bool = True,
        password_is_md5: bool = False,
        cancel: CancelToken = NEVER,
        session: requests.Session | None = None,
    ) -> None:
        if not base_url or not base_url.startswith(("http://", "https://")):
            raise InvalidInput(
                f"VDI base_url must start with http:// or https://, got {base_url!r}"
            )
        if not username:
            raise InvalidInput("VDI username must not be empty")
        if timeout <= 0 or retries < 0:
            raise InvalidInput(f"VDI timeout must be > 0 and retries >= 0 ({timeout}, {retries})")
        self.base_url = base_url.rstrip("/")
        self.username = username
        self._password_md5 = password.lower() if password_is_md5 else md5_password(password)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.cancel = cancel
        self.session = session or requests.Session()
        self.session.verify = verify_ssl
        self._token: str | None = None
        self._login_lock = threading.Lock()
        self.login_info: LoginInfo | None = None

        from atp_core.vdiplatform.api import (
            DeskPoolsApi,
            DomainsApi,
            EventsApi,
            GroupsApi,
            HostsApi,
            ModelsApi,
            UsersApi,
        )

        self.domains = DomainsApi(self)
        self.desk_pools = DeskPoolsApi(self)
        self.hosts = HostsApi(self)
        self.models = ModelsApi(self)
        self.users = UsersApi(self)
        self.groups = GroupsApi(self)
        self.events = EventsApi(self)

    def __repr__(self) -> str:
        return f"VdiClient({self.base_url!r}, user={self.username!r})"

    def __enter__(self) -> VdiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- session

    @property
    def logged_in(self) -> bool:
        return self._token is not None

    def login(self) -> LoginInfo:
        """``POST /ocloud/v1/login``; keeps the token for later calls. Raises ``VdiAuthError``."""
        body = {"username": self.username, "password": self._password_md5, "client": ""}
        try:
            data = self._send("POST", LOGIN_PATH, json=body, auth=False, idempotent=False)
        except VdiApiError as exc:
            raise VdiAuthError(exc.status, exc.msg, method="POST", path=LOGIN_PATH) from None
        token = data.get("token") if isinstance(data, Mapping) else None
        if not isinstance(token, str) or not token:
            raise VdiProtocolError("login answer has no data.token", method="POST", path=LOGIN_PATH)
        self._token = token
        self.login_info = LoginInfo(
            username=str(data.get("username") or self.username),
            role_level=data.get("roleLevel"),
            token=token,
        )
        return self.login_info

    def logout(self) -> None:
        """``POST /ocloud/v1/logout``, then forget the token (also when the call fails)."""
        if self._token is None:
            return
        try:
            self._send("POST", LOGOUT_PATH, auth=True, idempotent=False)
        finally:
            self._token = None
            self.login_info = None

    def close(self) -> None:
        """Log out (best effort) and release the HTTP connections."""
        try:
            self.logout()
        except Exception as exc:  # closing must not mask the caller's own error
            log.debug("VDI logout during close failed: %s", exc)
        self.session.close()

    # ---------------------------------------------------------------- calls

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """One authenticated API call; returns the envelope's ``data`` (``None`` if absent).

        Raises ``VdiApiError`` for ``status != 0``, ``VdiHttpError``, ``VdiTimeout``,
        ``VdiConnectionError`` or ``VdiProtocolError``. ``idempotent`` defaults to GET-only.
        """
        if self._token is None:
            self._relogin(None)
        try:
            return self._send(method, path, params=params, json=json, idempotent=idempotent)
        except VdiApiError as exc:
            if exc.status != TOKEN_INVALID:
                raise
            log.info("VDI token rejected on %s %s; logging in again", method, path)
        self._relogin(self._token)
        try:
            return self._send(method, path, params=params, json=json, idempotent=idempotent)
        except VdiApiError as exc:
            if exc.status == TOKEN_INVALID:
                raise VdiAuthError(exc.status, exc.msg, method=method, path=path) from None
            raise

    def iter_pages(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        convert: Callable[[Mapping[str, Any]], T] | None = None,
    ) -> Iterator[T]:
        """Every row of a paged list, fetching page after page until ``pageNum >= pages``.

        While the rows of one page are handed out, the next page is already being fetched (one
        page ahead, in a helper thread): the platform's time to build a page overlaps the
        caller's and the conversion's. A page that comes back with fewer rows than ``pageSize``
        before the last page (rows deleted meanwhile) does not stop the walk; an answer without
        ``list``/``pages`` is a ``VdiProtocolError``, never a silent truncation.
        """
        if page_size < 1:
            raise InvalidInput(f"page_size must be >= 1, got {page_size}")
        query = {k: v for k, v in (params or {}).items() if v is not None}
        rows, pages = self._page(path, query, 1, page_size)
        if pages <= 1:
            yield from (map(convert, rows) if convert else rows)
            return
        ahead_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vdi-pages")
        try:
            page = 1
            while True:
                ahead = (
                    ahead_pool.submit(self._page, path, query, page + 1, page_size)
                    if page < pages
                    else None
                )
                yield from (map(convert, rows) if convert else rows)
                if ahead is None:
                    return
                self.cancel.raise_if_cancelled()
                rows, pages = ahead.result()  # bounded: timeout × (1 + retries)
                page += 1
                if not rows:
                    return
        finally:
            # an abandoned walk does not wait for the page in flight
            ahead_pool.shutdown(wait=False, cancel_futures=True)

    def _page(
        self, path: str, query: Mapping[str, Any], page: int, page_size: int
    ) -> tuple[list, int]:
        """One page of a paged list: its rows and the number of pages."""
        self.cancel.raise_if_cancelled()
        data = self.call("GET", path, params={**query, "pageNum": page, "pageSize": page_size})
        if not isinstance(data, Mapping) or not isinstance(data.get("list", []), list):
            raise VdiProtocolError("paged answer without data.list", method="GET", path=path)
        pages = data.get("pages")
        if pages is None:
            total = data.get("total")
            if total is None:
                raise VdiProtocolError(
                    "paged answer without data.pages/total", method="GET", path=path
                )
            pages = -(-int(total) // page_size)
        return data.get("list") or [], int(pages)

    # ---------------------------------------------------------------- internals

    def _relogin(self, stale_token: str | None) -> None:
        with self._login_lock:
            if self._token is None or self._token == stale_token:
                self.login()

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        auth: bool = True,
        idempotent: bool | None = None,
    ) -> Any:
        if idempotent is None:
            idempotent = method.upper() == "GET"
        attempts = 1 + (self.retries if idempotent else 0)
        headers = {"Token": self._token} if auth and self._token else {}
        url = self.base_url + path
        for attempt in range(attempts):
            self.cancel.raise_if_cancelled()
            last = attempt == attempts - 1
            try:
                response = self.session.request(
                    method,
                    url,
                    params=_encode_params(params),
                    json=json,
                    headers=headers,
                    timeout=self.timeout,
                )
            except requests.Timeout:
                if last:
                    raise VdiTimeout(
                        f"no answer within {self.timeout}s", method=method, path=path
                    ) from None
            except requests.ConnectionError as exc:
                if last:
                    raise VdiConnectionError(
                        f"cannot reach {self.base_url}: {type(exc).__name__}",
                        method=method,
                        path=path,
                    ) from None
            else:
                if response.status_code in RETRYABLE_HTTP and not last:
                    pass
                elif not 200 <= response.status_code < 300:
                    raise VdiHttpError(
                        response.status_code, response.text, method=method, path=path
                    )
                else:
                    return _unwrap(response, method, path)
            delay = self.backoff * (2**attempt)
            log.info(
                "VDI %s %s failed (attempt %d); retrying in %.2fs", method, path, attempt + 1, delay
            )
            self.cancel.wait(delay)
        raise AssertionError("unreachable")


def _encode_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Lists become Spring's comma form (``status=0,1``); enums become their ints."""
    if not params:
        return None
    encoded: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set | frozenset):
            encoded[key] = ",".join(str(int(v)) if isinstance(v, int) else str(v) for v in value)
        elif isinstance(value, int):  # bool and IntEnum included
            encoded[key] = int(value)
        else:
            encoded[key] = value
    return encoded


def _unwrap(response: requests.Response, method: str, path: str) -> Any:
    """The single place where the ``{status, msg, data}`` envelope is opened."""
    try:
        body = response.json()
    except ValueError:
        raise VdiProtocolError(
            f"answer is not JSON: {response.text[:120]!r}", method=method, path=path
        ) from None
    if not isinstance(body, Mapping) or "status" not in body:
        raise VdiProtocolError(
            f"answer is not a {{status, msg, data}} envelope: {str(body)[:120]}",
            method=method,
            path=path,
        )
    status = body.get("status")
    if not isinstance(status, int):
        raise VdiProtocolError(
            f"envelope status is not an int: {status!r}", method=method, path=path
        )
    if status != 0:
        raise VdiApiError(status, str(body.get("msg") or "(no message)"), method=method, path=path)
    return body.get("data")
