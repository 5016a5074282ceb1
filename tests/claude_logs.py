"""Realistic Claude Code output for the scanner's tests and benchmark.

The JSON shapes follow `claude -p --output-format stream-json --verbose`; the
error texts are the fragments quoted in shared/reference/claude-code-auth.md.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

# How the judge's prompt (tray/runs/judge.py) begins: the stand-ins answer it as a judge.
JUDGE_MARK = "You are judging attempts at one coding task"
SESSION = "9f0c7c2e-5d1a-4c43-9a57-2f1c0b7e1d11"

WORDS = (
    "the",
    "function",
    "returns",
    "a",
    "value",
    "after",
    "parsing",
    "config",
    "file",
    "module",
    "test",
    "update",
    "error",
    "handler",
    "request",
    "response",
    "token",
    "cache",
    "retry",
    "user",
    "session",
    "key",
    "authentication",
    "invalid",
    "expired",
    "limit",
    "rate",
    "build",
    "import",
    "class",
    "method",
    "refactor",
)

# Lines that the agent's own work produces and that must never raise an alarm.
AGENT_LOOKALIKES = (
    'raise AuthError("Invalid API key")',
    "console.error('OAuth token has expired')",
    "# Rate limit exceeded: back off before retrying",
    '+    msg = "Auth conflict: Both a token and an API key are set."',
    "- Credit balance is too low",
    "> Not logged in · Please run /login",
    'log.warning("You\'ve hit your session limit")',
)


def event(**fields: object) -> str:
    return json.dumps({**fields, "session_id": SESSION}, ensure_ascii=False, separators=(",", ":"))


def init() -> str:
    return event(
        type="system",
        subtype="init",
        cwd="/home/daytona/work",
        model="claude-sonnet-4-5",
        apiKeySource="ANTHROPIC_API_KEY",
        tools=["Bash", "Edit", "Read", "Write", "Grep"],
    )


def assistant_text(text: str) -> str:
    return event(
        type="assistant",
        message={
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": text}],
            "usage": {"input_tokens": 1200, "output_tokens": 85},
        },
        parent_tool_use_id=None,
    )


def tool_use(name: str, tool_input: dict[str, object]) -> str:
    return event(
        type="assistant",
        message={
            "id": "msg_02",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": [{"type": "tool_use", "id": "toolu_01", "name": name, "input": tool_input}],
        },
    )


def tool_result(content: str, *, is_error: bool = False) -> str:
    return event(
        type="user",
        message={
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01",
                    "content": content,
                    "is_error": is_error,
                }
            ],
        },
    )


def synthetic_error(code: str, text: str) -> str:
    return event(
        type="assistant",
        message={
            "id": "msg_synthetic",
            "model": "<synthetic>",
            "role": "assistant",
            "type": "message",
            "content": [{"type": "text", "text": text}],
        },
        error=code,
    )


def result(*, is_error: bool, status: int | None = None, text: str = "Done.") -> str:
    return event(
        type="result",
        subtype="success",
        is_error=is_error,
        api_error_status=status,
        duration_ms=8123,
        num_turns=4,
        result=text,
        total_cost_usd=0.0421,
        usage={"input_tokens": 5200, "output_tokens": 610},
    )


def api_retry(status: int, delay_ms: int, error: str, attempt: int = 1) -> str:
    return event(
        type="system",
        subtype="api_retry",
        attempt=attempt,
        max_retries=10,
        retry_delay_ms=delay_ms,
        error_status=status,
        error=error,
    )


def agent_work(rng: random.Random) -> str:
    """One line of ordinary agent activity, lookalike phrases included."""
    choice = rng.random()
    if choice < 0.35:
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 60)))
        return assistant_text(words.capitalize() + ".")
    if choice < 0.6:
        code = "\n".join(rng.choice(AGENT_LOOKALIKES) for _ in range(rng.randint(1, 4)))
        return tool_use(
            "Edit", {"file_path": "src/auth.py", "old_string": "pass", "new_string": code}
        )
    if choice < 0.95:
        body = "\n".join(
            f"{n:>4}  " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 14)))
            for n in range(rng.randint(5, 80))
        )
        if rng.random() < 0.3:
            body += "\n" + rng.choice(AGENT_LOOKALIKES)
        return tool_result(body)
    return tool_use("Bash", {"command": "pytest -q tests/test_auth.py", "description": "Run tests"})


def stream_json_log(target_bytes: int, seed: int = 7, *, with_errors: bool = True) -> Iterator[str]:
    """Lines (without newlines) of a realistic run, about ``target_bytes`` long in UTF-8."""
    rng = random.Random(seed)
    errors = [
        api_retry(429, 5000, "rate_limit"),
        synthetic_error("rate_limit", "API Error: Rate limit reached"),
        synthetic_error("authentication_failed", "OAuth token has expired · Please run /login"),
        result(is_error=True, status=401, text="OAuth token has expired · Please run /login"),
    ]
    size = 0
    line = init()
    while True:
        yield line
        size += len(line.encode()) + 1
        if size >= target_bytes:
            return
        if with_errors and errors and rng.random() < 0.0005:
            line = errors.pop(0)
        else:
            line = agent_work(rng)
