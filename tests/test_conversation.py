"""A shot's stream-json log read as a conversation, on the real CLI's recorded output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tray.runs.conversation import (
    ConversationReader,
    Item,
    ItemKind,
    read_conversation,
    summarise_input,
)

RECORDED = Path(__file__).parent / "data" / "claude-code"


def recorded(name: str) -> str:
    return (RECORDED / f"{name}.stream-json.log").read_text(encoding="utf-8")


def test_a_tool_run_reads_as_text_call_folded_result_and_cost() -> None:
    items = read_conversation(recorded("tool_write"))
    assert [item.kind for item in items] == [
        ItemKind.SYSTEM,
        ItemKind.ASSISTANT,
        ItemKind.TOOL_CALL,
        ItemKind.TOOL_RESULT,
        ItemKind.ASSISTANT,
        ItemKind.RESULT,
    ]
    system, said, call, answer, done, result = items
    assert system.title.startswith("Session started · claude-opus-4-8[1m] · /sandbox/work")
    assert said.body == "I will write the file."
    assert (call.title, call.body) == ("Write", "/sandbox/work/hello.txt")
    assert answer.title == "Result: 1 line"
    assert answer.body.startswith("File created successfully at: /sandbox/work/hello.txt")
    assert not answer.is_error
    assert done.body == "Done: the change is made."
    assert result == Item(ItemKind.RESULT, "Finished: 2 turns, < $0.01, 0.3 s")


@pytest.mark.parametrize(
    ("name", "status", "said"),
    [
        ("overloaded", "529 (overloaded)", "API Error: 529 Overloaded."),
        ("expired_token", "401 (authentication failed)", "Failed to authenticate."),
        ("rate_limit", "429 (rate limit)", "API Error: Request rejected (429)"),
    ],
)
def test_api_failures_read_as_retries_then_a_highlighted_error(
    name: str, status: str, said: str
) -> None:
    items = read_conversation(recorded(name))
    retries = [item for item in items if item.kind is ItemKind.RETRY]
    assert [item.title.split(" in ")[0] for item in retries] == [
        f"API error {status}: retry 1 of 2",
        f"API error {status}: retry 2 of 2",
    ]
    (error,) = [item for item in items if item.kind is ItemKind.ERROR]
    assert error.title.startswith(said)
    assert error.is_error
    assert items[-1].kind is ItemKind.RESULT
    assert items[-1].title.startswith(f"Ended with an error (API {status.split()[0]}): 1 turn")
    assert items[-1].is_error
    assert all(item.kind is not ItemKind.RAW for item in items)


def test_a_rejected_usage_limit_says_when_it_resets() -> None:
    items = read_conversation(recorded("session_limit"))
    limits = [item.title for item in items if item.title.startswith("Usage limit reached")]
    assert len(limits) == 1
    assert "; it resets at " in limits[0]


def test_every_recorded_log_reads_without_raw_lines() -> None:
    for path in sorted(RECORDED.glob("*.stream-json.log")):
        items = read_conversation(path.read_text(encoding="utf-8"))
        assert all(item.kind is not ItemKind.RAW for item in items), path.name
        if path.stat().st_size:
            assert items[0].kind is ItemKind.SYSTEM, path.name
            assert items[-1].kind is ItemKind.RESULT, path.name


def test_lines_that_are_not_events_stay_raw_and_nothing_is_lost() -> None:
    items = read_conversation('Installing Claude Code…\n[1, 2]\n{"type":"result"\n')
    assert items == [
        Item(ItemKind.RAW, "Installing Claude Code…"),
        Item(ItemKind.RAW, "[1, 2]"),
        Item(ItemKind.RAW, '{"type":"result"'),
    ]


def test_the_reader_joins_lines_cut_between_chunks_and_drops_a_cut_first_line() -> None:
    text = recorded("tool_write")
    whole = read_conversation(text)
    reader = ConversationReader()
    pieces = [reader.feed(text[start : start + 7]) for start in range(0, len(text), 7)]
    assert [item for piece in pieces for item in piece] + reader.flush() == whole

    tail = ConversationReader(mid_line=True)  # a tail of the log begins mid-line
    cut = text.index('{"type":"assistant"') - 40
    assert tail.feed(text[cut:]) == whole[1:]


def test_tool_results_count_their_lines_and_flag_errors() -> None:
    event = {
        "type": "user",
        "message": {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "t",
                    "is_error": True,
                    "content": [{"type": "text", "text": "line 1\nline 2\nline 3"}],
                }
            ],
        },
    }
    (item,) = read_conversation(json.dumps(event))
    assert item == Item(ItemKind.TOOL_RESULT, "Error: 3 lines", "line 1\nline 2\nline 3", True)


def test_a_tool_input_is_summarised_in_one_short_line() -> None:
    assert summarise_input({"command": "pytest -q\n  tests/", "timeout": 5}) == "pytest -q tests/"
    assert summarise_input({"pattern": "TODO", "path": "src"}) == "TODO"
    assert summarise_input({"todos": [1, 2]}) == '{"todos": [1, 2]}'
    assert summarise_input({}) == ""
    long = summarise_input({"command": "x" * 300})
    assert len(long) == 100
    assert long.endswith("…")


def test_a_run_that_ran_out_of_turns_says_so() -> None:
    event = {"type": "result", "subtype": "error_max_turns", "is_error": True, "num_turns": 30}
    (item,) = read_conversation(json.dumps(event))
    assert item.title == "Ended (max turns): 30 turns"
    assert item.is_error
