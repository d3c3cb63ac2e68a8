"""``getUpdates`` over aiohttp: python-telegram-bot's networking extension point, for polling.

PTB sends every Bot API call through a :class:`telegram.request.BaseRequest`; its default,
``HTTPXRequest``, costs about 0.5 ms of CPU per call here (httpx, httpcore, anyio, h11), on
the event loop, and a bot that polls under load makes a call every few updates. aiohttp
(already a dependency: the webhook server and the Discord client use it) parses HTTP in C and
costs a fraction of that. Only the polling call uses it: what the bot sends (files included)
still goes through ``HTTPXRequest``. PTB itself still builds the request, checks the status,
decodes the JSON and turns it into ``Update`` objects; timeouts and connection errors become
PTB's ``TimedOut`` and ``NetworkError``, which its polling loop retries.

Proxies: ``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``NO_PROXY`` apply, as they do to
``HTTPXRequest``'s calls, read once per host (a process's environment does not change).
aiohttp's own ``trust_env`` would read them, and ``~/.netrc``, again on every call, in two
trips to a thread pool: at 1,000 updates/s that was about a tenth of the bot process's
time under the GIL (``bench/telegram_latency.py``, sampled with py-spy). ``~/.netrc`` is
not read at all: httpx does not read it either, and a Bot API call carries its token in
the URL.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

__all__ = ["PollingRequest"]

_Default = type(BaseRequest.DEFAULT_NONE)  # what PTB passes for "not given"
_Proxy = tuple[URL | None, aiohttp.BasicAuth | None]
_HEADERS = {
    "User-Agent": BaseRequest.USER_AGENT,
    "Content-Type": "application/x-www-form-urlencoded",
}


def _given(value: object, default: float | None) -> float | None:
    if isinstance(value, _Default):
        return default
    assert value is None or isinstance(value, int | float)
    return value


class PollingRequest(BaseRequest):
    """A :class:`~telegram.request.BaseRequest` on one aiohttp session (see the module
    docstring). Timeouts in seconds, as ``HTTPXRequest``'s; ``pool_timeout`` bounds the
    wait for a free connection together with connecting (aiohttp counts both as connect).
    """

    def __init__(
        self,
        connection_pool_size: int = 2,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str | None, int | None], _Proxy] = {}

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (PTB adds the long-poll time to it for ``getUpdates``)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (again, after a shutdown)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            # Not trust_env: the proxy is looked up once per host (see the module docstring).
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def _proxy_for(self, url: str) -> _Proxy:
        """The environment's proxy for ``url``'s scheme and host (and its credentials), or
        none; looked up the first time, off the event loop, then remembered."""
        target = URL(url)
        key = (target.scheme, target.host, target.port)
        if key not in self._proxies:
            try:
                self._proxies[key] = await asyncio.to_thread(get_env_proxy_for_url, target)
            except LookupError:  # no proxy set for the scheme, or NO_PROXY names the host
                self._proxies[key] = (None, None)
        return self._proxies[key]

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """POST the call's parameters as a form; (HTTP status, body)."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This PollingRequest is not initialized!")
        if request_data is not None and request_data.contains_files:
            raise NetworkError("PollingRequest does not upload files; use HTTPXRequest")
        read = _given(read_timeout, self._read_timeout)
        write = _given(write_timeout, self._write_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        if connect is not None and pool is not None:
            connect += pool  # waiting for a pooled connection counts as connecting here
        # The request is small: sending it is bounded by the connect and read timeouts too.
        total = None if read is None or write is None else read + write + (connect or 0.0)
        timeout = aiohttp.ClientTimeout(total=total, connect=connect, sock_read=read)
        # Encoded here: aiohttp's FormData would build (and discard) a multipart writer per call.
        body = urlencode(request_data.json_parameters).encode() if request_data else None
        proxy, proxy_auth = await self._proxy_for(url)
        try:
            async with self._session.request(
                method,
                url,
                data=body,
                headers=_HEADERS,
                timeout=timeout,
                proxy=proxy,
                proxy_auth=proxy_auth,
            ) as response:
                return response.status, await response.read()
        except TimeoutError as err:  # asyncio's (aiohttp's timeouts derive from it)
            raise TimedOut from err
        except (aiohttp.ClientError, OSError) as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err
