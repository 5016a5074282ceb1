"""Loopback stand-ins for the services Multishot talks to, served by aiohttp on 127.0.0.1.

Each runs its own event loop in a daemon thread. Behaviour is switched per test
through plain attributes; every request is recorded for assertions.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_Server = TypeVar("_Server", bound="LoopbackServer")

VALID_ANTHROPIC_KEY = "sk-ant-api03-" + "V" * 40 + "-valid0AA"


@dataclasses.dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


class LoopbackServer:
    """An aiohttp application on 127.0.0.1:<free port>, started and stopped by the test."""

    def __init__(self, routes: list[tuple[str, str, Handler]]) -> None:
        self.requests: list[RecordedRequest] = []
        self._routes = routes
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self: _Server) -> _Server:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _start(self) -> None:
        app = web.Application(middlewares=[self._record])
        for method, path, handler in self._routes:
            app.router.add_route(method, path, handler)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    @web.middleware
    async def _record(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests.append(
            RecordedRequest(
                request.method, request.path, dict(request.query), dict(request.headers)
            )
        )
        return await handler(request)


async def _never_answer(request: web.Request) -> web.StreamResponse:
    await asyncio.sleep(3600)
    raise AssertionError("unreachable")


def anthropic_error(status: int, error_type: str, message: str) -> web.Response:
    return web.json_response(
        {
            "type": "error",
            "error": {"type": error_type, "message": message},
            "request_id": "req_011CStandIn",
        },
        status=status,
    )


class AnthropicStandIn(LoopbackServer):
    """Plays ``GET /v1/models``. ``mode`` picks the answer for every key but the valid one."""

    def __init__(self) -> None:
        self.mode = "by_key"
        super().__init__([("GET", "/v1/models", self._models)])

    async def _models(self, request: web.Request) -> web.StreamResponse:
        answers: dict[str, Callable[[], web.Response]] = {
            "forbidden": lambda: anthropic_error(
                403, "permission_error", "Your API key does not have permission."
            ),
            "rate_limited": lambda: anthropic_error(
                429, "rate_limit_error", "Number of requests has exceeded your rate limit."
            ),
            "server_error": lambda: anthropic_error(500, "api_error", "Internal server error"),
            "overloaded": lambda: anthropic_error(529, "overloaded_error", "Overloaded"),
            "billing": lambda: anthropic_error(
                402,
                "billing_error",
                "Your credit balance is too low to access the Anthropic API.",
            ),
            "html": lambda: web.Response(
                status=502, text="<html>Bad gateway</html>", content_type="text/html"
            ),
        }
        if self.mode == "hang":
            return await _never_answer(request)
        if self.mode in answers:
            return answers[self.mode]()
        if request.headers.get("x-api-key") == VALID_ANTHROPIC_KEY:
            return web.json_response(
                {
                    "data": [{"type": "model", "id": "claude-sonnet-4-5", "display_name": "S"}],
                    "has_more": True,
                    "first_id": "claude-sonnet-4-5",
                    "last_id": "claude-sonnet-4-5",
                }
            )
        return anthropic_error(401, "authentication_error", "invalid x-api-key")


def sandbox_list_item(
    sandbox_id: str, labels: dict[str, str], toolbox_url: str
) -> dict[str, object]:
    return {
        "id": sandbox_id,
        "organizationId": "org-standin",
        "name": sandbox_id,
        "target": "us",
        "state": "started",
        "user": "daytona",
        "public": False,
        "networkBlockAll": False,
        "cpu": 1,
        "gpu": 0,
        "memory": 1,
        "disk": 3,
        "labels": labels,
        "toolboxProxyUrl": toolbox_url,
    }


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
