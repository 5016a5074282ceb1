"""The default ranking: check, Claude's success, diff size, cost, shot number; and its reasons."""

from __future__ import annotations

from tray.runs.ranking import Candidate, Ranked, rank_shots
from tray.runs.status import ShotStatus

OK = ShotStatus.SUCCEEDED


def shot(
    number: int,
    *,
    status: ShotStatus = OK,
    check: int | None = None,
    lines: int = 10,
    files: int = 1,
    cost: float | None = 1.0,
) -> Candidate:
    return Candidate(number, status, check, lines, files, cost)


def order(ranked: list[Ranked]) -> list[int]:
    return [r.number for r in ranked]


def reasons(ranked: list[Ranked]) -> dict[int, str]:
    return {r.number: r.reason for r in ranked}


def test_no_shots_no_ranks() -> None:
    assert rank_shots([]) == []


def test_a_passing_check_beats_success_and_size_and_cost() -> None:
    ranked = rank_shots(
        [
            shot(1, check=1, lines=2, cost=0.1),
            shot(2, check=0, lines=500, cost=9.0, status=ShotStatus.TIMED_OUT),
            shot(3, check=0, lines=80, cost=5.0),
            shot(4, check=0, lines=40, cost=7.0),
        ]
    )
    assert ranked == [
        Ranked(4, 1, "check passed, smallest diff of the passing shots (40 lines changed)"),
        Ranked(3, 2, "check passed, 80 lines changed"),
        Ranked(2, 3, "check passed, Claude did not succeed (timed out), 500 lines changed"),
        Ranked(1, 4, "check failed (exit 1), 2 lines changed"),
    ]


def test_without_checks_success_comes_first_then_the_smaller_diff() -> None:
    ranked = rank_shots(
        [
            shot(1, status=ShotStatus.FAILED, lines=1),
            shot(2, lines=30),
            shot(3, lines=12),
            shot(4, status=ShotStatus.QUOTA_EXHAUSTED, lines=3),
        ]
    )
    assert order(ranked) == [3, 2, 1, 4]
    assert reasons(ranked) == {
        3: "Claude succeeded, smallest diff of the successful shots (12 lines changed)",
        2: "Claude succeeded, 30 lines changed",
        1: "Claude did not succeed (failed), "
        "smallest diff of the unsuccessful shots (1 line changed)",
        4: "Claude did not succeed (usage limit reached), 3 lines changed",
    }


def test_a_failed_check_ranks_below_no_check_with_the_same_status() -> None:
    ranked = rank_shots([shot(1, check=2, lines=1), shot(2, check=None, lines=100)])
    assert order(ranked) == [2, 1]
    assert [r.rank for r in ranked] == [1, 2]


def test_a_shot_that_changed_nothing_ranks_after_those_that_changed_something() -> None:
    ranked = rank_shots(
        [
            shot(1, lines=0, files=0, cost=0.01),
            shot(2, lines=900, cost=3.0),
            shot(3, lines=0, files=2),  # binary or mode changes only: still a change
        ]
    )
    assert order(ranked) == [3, 2, 1]
    assert reasons(ranked) == {
        3: "Claude succeeded, smallest diff of the successful shots "
        "(2 files changed, no lines (binary or mode changes))",
        2: "Claude succeeded, 900 lines changed",
        1: "Claude succeeded, no changes",
    }


def test_a_shot_that_changed_nothing_ranks_after_one_whose_check_failed() -> None:
    ranked = rank_shots([shot(1, check=None, lines=0, files=0), shot(2, check=1, lines=5)])
    assert order(ranked) == [2, 1]
    assert reasons(ranked)[1] == "Claude succeeded, no changes"


def test_cost_breaks_a_tie_in_size_and_an_unknown_cost_counts_as_the_highest() -> None:
    ranked = rank_shots(
        [
            shot(1, check=0, lines=20, cost=None),
            shot(2, check=0, lines=20, cost=0.75),
            shot(3, check=0, lines=20, cost=0.25),
        ]
    )
    assert order(ranked) == [3, 2, 1]
    assert reasons(ranked) == {
        3: "check passed, smallest diff of the passing shots (20 lines changed), "
        "cheaper than shot 2 ($0.25 vs $0.75)",
        2: "check passed, 20 lines changed, costs more than shot 3 ($0.75 vs $0.25)",
        1: "check passed, 20 lines changed, costs more than shot 2 (unknown vs $0.75)",
    }


def test_complete_ties_keep_shot_number_order() -> None:
    ranked = rank_shots([shot(n, lines=5, cost=0.5) for n in (4, 2, 3)])
    assert ranked == [
        Ranked(
            2,
            1,
            "Claude succeeded, smallest diff of the successful shots (5 lines changed), "
            "same size and cost as shot 3",
        ),
        Ranked(3, 2, "Claude succeeded, 5 lines changed, same size and cost as shot 2"),
        Ranked(4, 3, "Claude succeeded, 5 lines changed, same size and cost as shot 3"),
    ]


def test_a_lone_shot_is_not_called_the_smallest() -> None:
    assert rank_shots([shot(7, check=0, lines=1)]) == [Ranked(7, 1, "check passed, 1 line changed")]
