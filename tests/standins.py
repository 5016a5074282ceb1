"""Loopback stand-ins for the services Multishot talks to, served by aiohttp on 127.0.0.1.

Each runs its own event loop in a daemon thread. Behaviour is switched per test
through plain attributes; every request is recorded for assertions.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web

from tests.claude_logs import JUDGE_MARK

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


# What the Messages API answers for each failure the real Claude Code CLI must meet:
# status, error type, message (the API's own wording), and whether the subscription's
# unified rate-limit headers come with it.
MESSAGE_FAILURES: dict[str, tuple[int, str, str, bool]] = {
    "invalid_key": (401, "authentication_error", "invalid x-api-key", False),
    "expired_token": (
        401,
        "authentication_error",
        "OAuth token has expired. Please obtain a new token or refresh your existing token.",
        False,
    ),
    "revoked_token": (
        403,
        "permission_error",
        "OAuth token has been revoked. Please obtain a new token.",
        False,
    ),
    "org_not_allowed": (
        403,
        "permission_error",
        "OAuth authentication is currently not allowed for this organization.",
        False,
    ),
    "billing": (
        400,
        "invalid_request_error",
        "Your credit balance is too low to access the Anthropic API. Please go to Plans & "
        "Billing to upgrade or purchase credits.",
        False,
    ),
    "rate_limit": (
        429,
        "rate_limit_error",
        "Number of request tokens has exceeded your limit.",
        False,
    ),
    "session_limit": (429, "rate_limit_error", "Rate limited.", True),
    "overloaded": (529, "overloaded_error", "Overloaded", False),
}


class AnthropicStandIn(LoopbackServer):
    """Plays ``GET /v1/models`` (``mode`` picks the answer for every key but the valid
    one) and the streaming Messages API the real Claude Code CLI calls.

    ``messages`` picks the Messages answer: "text", "tool_write" (a ``Write`` tool call
    creating ``write_file`` in the CLI's working folder, then a final text), or a key of
    ``MESSAGE_FAILURES``; with ``fail_first`` only that many requests fail and the rest
    answer as "tool_write". ``reset_at`` is the epoch second the session limit resets.
    ``writes_by_hint`` varies the written file per shot: the first key found in the
    conversation picks its (name, content). A request holding the judge's prompt is
    answered with ``judge_answer`` alone, when that is set.
    """

    def __init__(self) -> None:
        self.mode = "by_key"
        self.messages = "text"
        self.fail_first: int | None = None
        self.answer = "Done: the change is made."
        self.write_file = ("hello.txt", "hello from the stand-in\n")
        self.writes_by_hint: dict[str, tuple[str, str]] = {}
        self.judge_answer: str | None = None
        self.judge_requests = 0
        self.reset_at = int(time.time()) + 3600
        self.message_requests = 0
        super().__init__(
            [
                ("GET", "/v1/models", self._models),
                ("POST", "/v1/messages", self._messages),
                ("HEAD", "/", self._head),
            ]
        )

    async def _head(self, request: web.Request) -> web.StreamResponse:
        return web.Response()  # the CLI warms its connection up; the answer is ignored

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        self.message_requests += 1
        body = await request.json()
        failing = self.fail_first is None or self.message_requests <= self.fail_first
        if self.messages in MESSAGE_FAILURES and failing:
            status, error_type, message, unified = MESSAGE_FAILURES[self.messages]
            headers = {"request-id": f"req_standin{self.message_requests}"}
            if status == 429:
                headers["retry-after"] = "2"
            if unified:
                headers.update(self._unified_headers("rejected"))
            response = anthropic_error(status, error_type, message)
            response.headers.update(headers)
            return response
        conversation = json.dumps(body.get("messages"), ensure_ascii=False)
        if self.judge_answer is not None and JUDGE_MARK in conversation:
            self.judge_requests += 1
            return await self._stream(
                request, body, [{"type": "text", "text": self.judge_answer}], "end_turn"
            )
        if self.messages != "text" and not _has_tool_result(body):
            name, content = next(
                (edit for hint, edit in self.writes_by_hint.items() if hint in conversation),
                self.write_file,
            )
            path = f"{_working_folder(body)}/{name}"
            blocks: list[dict[str, Any]] = [
                {"type": "text", "text": "I will write the file."},
                {
                    "type": "tool_use",
                    "name": "Write",
                    "input": {"file_path": path, "content": content},
                },
            ]
            return await self._stream(request, body, blocks, "tool_use")
        return await self._stream(
            request, body, [{"type": "text", "text": self.answer}], "end_turn"
        )

    def _unified_headers(self, status: str) -> dict[str, str]:
        reset = str(self.reset_at)
        return {
            "anthropic-ratelimit-unified-status": status,
            "anthropic-ratelimit-unified-reset": reset,
            "anthropic-ratelimit-unified-representative-claim": "five_hour",
            "anthropic-ratelimit-unified-5h-reset": reset,
            "anthropic-ratelimit-unified-5h-utilization": "1.0" if status == "rejected" else "0.2",
            "anthropic-ratelimit-unified-overage-status": "rejected",
            "anthropic-ratelimit-unified-overage-disabled-reason": "org_level_disabled",
        }

    async def _stream(
        self,
        request: web.Request,
        body: dict[str, Any],
        blocks: list[dict[str, Any]],
        stop_reason: str,
    ) -> web.StreamResponse:
        """The Messages API's server-sent events: message_start, each content block as
        start / deltas / stop, message_delta with the stop reason, message_stop."""
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "request-id": f"req_standin{self.message_requests}",
            }
        )
        await response.prepare(request)
        usage = {
            "input_tokens": 42,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": 1,
        }
        message = {
            "id": f"msg_standin{self.message_requests}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "claude-standin"),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        }
        await response.write(_sse("message_start", {"type": "message_start", "message": message}))
        for index, block in enumerate(blocks):
            start: dict[str, Any]
            if block["type"] == "text":
                start = {"type": "text", "text": ""}
                deltas = [{"type": "text_delta", "text": part} for part in _split(block["text"])]
            else:
                start = {
                    "type": "tool_use",
                    "id": f"toolu_standin{index}",
                    "name": block["name"],
                    "input": {},
                }
                deltas = [
                    {"type": "input_json_delta", "partial_json": part}
                    for part in _split(json.dumps(block["input"]))
                ]
            await response.write(
                _sse(
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": start},
                )
            )
            for delta in deltas:
                await response.write(
                    _sse(
                        "content_block_delta",
                        {"type": "content_block_delta", "index": index, "delta": delta},
                    )
                )
            await response.write(
                _sse("content_block_stop", {"type": "content_block_stop", "index": index})
            )
        await response.write(
            _sse(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                    "usage": {"output_tokens": 12},
                },
            )
        )
        await response.write(_sse("message_stop", {"type": "message_stop"}))
        await response.write_eof()
        return response

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


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def _split(text: str, size: int = 24) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _has_tool_result(body: dict[str, Any]) -> bool:
    """Whether the conversation already carries the answer to a tool call."""
    return any(
        isinstance(item, dict) and item.get("type") == "tool_result"
        for message in body.get("messages") or []
        if isinstance(message.get("content"), list)
        for item in message["content"]
    )


def _working_folder(body: dict[str, Any]) -> str:
    """The CLI tells the model its folder in the system prompt."""
    found = re.search(r"Primary working directory: ([^\n\"\\]+)", json.dumps(body.get("system")))
    return found.group(1).strip() if found else "/tmp"


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
