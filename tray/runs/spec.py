"""What a run is: one prompt, several shots, and the options every shot shares."""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import urlsplit

from tray.errors import InvalidRunSpec
from tray.redaction import looks_like_secret

__all__ = [
    "DEFAULT_CHECK_TIME_LIMIT_MINUTES",
    "DEFAULT_SHOTS",
    "DEFAULT_TIME_LIMIT_MINUTES",
    "MAX_BUDGET_USD",
    "MAX_COMMAND_CHARS",
    "MAX_HINT_CHARS",
    "MAX_PROMPT_BYTES",
    "MAX_SHOTS",
    "MAX_TIME_LIMIT_MINUTES",
    "MAX_TURNS",
    "MIN_SHOTS",
    "RunSpec",
]

MIN_SHOTS = 1
MAX_SHOTS = 16
DEFAULT_SHOTS = 4
DEFAULT_TIME_LIMIT_MINUTES = 60
MAX_TIME_LIMIT_MINUTES = 24 * 60
MAX_PROMPT_BYTES = 1_000_000  # in UTF-8: the prompt reaches the sandbox as a file
MAX_HINT_CHARS = 2_000
MAX_TURNS = 1_000
MAX_BUDGET_USD = 1_000.0
MAX_COMMAND_CHARS = 10_000
DEFAULT_CHECK_TIME_LIMIT_MINUTES = 10

_BRANCH = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/\-]{1,200}(?<![./])$")
# claude-sonnet-4-5, opus, sonnet[1m], us.anthropic.claude-…-v1:0: a letter first, so
# never an option.
_MODEL = re.compile(r"^[A-Za-z][A-Za-z0-9._:\[\]\-]{0,99}$")
_SCP_LIKE = re.compile(r"^[A-Za-z0-9._][A-Za-z0-9._\-]*@[A-Za-z0-9.\-]+:[A-Za-z0-9._/~\-]+$")
_URL_SCHEMES = ("https", "http", "ssh", "git", "file")


@dataclasses.dataclass(frozen=True)
class RunSpec:
    prompt: str
    shots: int = DEFAULT_SHOTS
    repo_url: str | None = None
    branch: str | None = None
    model: str | None = None
    max_turns: int | None = None
    max_budget_usd: float | None = None
    hints: tuple[str, ...] = ()
    time_limit_minutes: int = DEFAULT_TIME_LIMIT_MINUTES
    # Shell commands run in the repository folder: setup before Claude, check after it.
    setup: str | None = None
    check: str | None = None
    check_time_limit_minutes: int = DEFAULT_CHECK_TIME_LIMIT_MINUTES
    judge: bool = False  # after the shots, one more session ranks them
    # A later round starts from this run's shot, its changes committed on top of its base.
    parent_run_id: str | None = None
    parent_shot: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "prompt", _check_prompt(self.prompt))
        object.__setattr__(self, "repo_url", _check_repo_url(self.repo_url))
        object.__setattr__(self, "branch", _check_optional(self.branch, _BRANCH, "branch name"))
        object.__setattr__(self, "model", _check_model(self.model))
        object.__setattr__(self, "hints", _check_hints(tuple(self.hints), self.shots))
        _check_range("number of shots", self.shots, MIN_SHOTS, MAX_SHOTS)
        _check_range("time limit (minutes)", self.time_limit_minutes, 1, MAX_TIME_LIMIT_MINUTES)
        if self.max_turns is not None:
            _check_range("maximum number of turns", self.max_turns, 1, MAX_TURNS)
        if self.max_budget_usd is not None and not 0 < self.max_budget_usd <= MAX_BUDGET_USD:
            raise InvalidRunSpec(
                f"The budget must be more than 0 and at most {MAX_BUDGET_USD:g} USD per shot."
            )
        if self.branch and not self.repo_url:
            raise InvalidRunSpec("A branch needs a repository URL.")
        object.__setattr__(self, "setup", _check_command(self.setup, "setup command"))
        object.__setattr__(self, "check", _check_command(self.check, "check command"))
        _check_range(
            "check time limit (minutes)", self.check_time_limit_minutes, 1, MAX_TIME_LIMIT_MINUTES
        )
        if (self.parent_run_id is None) != (self.parent_shot is None):
            raise InvalidRunSpec("A later round needs both the run and the shot it continues.")
        if self.parent_shot is not None:
            _check_range("shot to continue from", self.parent_shot, MIN_SHOTS, MAX_SHOTS)

    def prompt_for(self, shot: int) -> str:
        """The prompt of shot ``shot`` (1-based): the shared prompt plus that shot's hint."""
        if 1 <= shot <= len(self.hints):
            return f"{self.prompt}\n\nApproach to take in this attempt: {self.hints[shot - 1]}"
        return self.prompt


def _check_range(what: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRunSpec(f"The {what} must be a whole number from {low} to {high}.")


def _check_prompt(prompt: str) -> str:
    if not prompt.strip():
        raise InvalidRunSpec("The prompt is empty: say what Claude should do.")
    if "\x00" in prompt:
        raise InvalidRunSpec("The prompt contains a NUL character; remove it.")
    try:
        size = len(prompt.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidRunSpec(
            "The prompt contains characters that are not valid text (lone surrogates)."
        ) from None
    if size > MAX_PROMPT_BYTES:
        raise InvalidRunSpec(
            f"The prompt is {size / 1e6:.1f} MB; the limit is {MAX_PROMPT_BYTES / 1e6:g} MB. "
            "Put long material in the repository and refer to it."
        )
    return prompt


def _check_command(command: str | None, what: str) -> str | None:
    """A shell command for the sandbox: None when blank; never a secret, never binary."""
    if command is None or not command.strip():
        return None
    command = command.strip()
    if len(command) > MAX_COMMAND_CHARS:
        raise InvalidRunSpec(f"The {what} is too long (at most {MAX_COMMAND_CHARS:,} characters).")
    if "\0" in command:
        raise InvalidRunSpec(f"The {what} contains a NUL character.")
    if looks_like_secret(command):
        raise InvalidRunSpec(
            f"The {what} looks like it contains a key or token. Sandboxes get your Claude "
            "credential already; keep other secrets out of commands (they are stored in "
            "the run's history)."
        )
    return command


def _check_optional(value: str | None, pattern: re.Pattern[str], what: str) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not pattern.match(value):
        raise InvalidRunSpec(f"'{value[:80]}' is not a valid {what}.")
    return value


def _check_model(model: str | None) -> str | None:
    if model is not None and looks_like_secret(model.strip()):
        raise InvalidRunSpec(
            "The model name looks like an API key. Give a model name such as "
            "claude-sonnet-4-5 or opus; keys belong in `multishot login`."
        )
    return _check_optional(model, _MODEL, "model name (for example claude-sonnet-4-5 or opus)")


def _check_hints(hints: tuple[str, ...], shots: int) -> tuple[str, ...]:
    cleaned = tuple(h.strip() for h in hints)
    if len(cleaned) > shots:
        raise InvalidRunSpec(f"There are {len(cleaned)} approach hints for {shots} shots.")
    for number, hint in enumerate(cleaned, start=1):
        if not hint or "\x00" in hint or len(hint) > MAX_HINT_CHARS:
            raise InvalidRunSpec(
                f"Hint {number} must be 1 to {MAX_HINT_CHARS:,} characters of plain text."
            )
    return cleaned


def _check_repo_url(url: str | None) -> str | None:
    if url is None or not url.strip():
        return None
    url = url.strip()
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise InvalidRunSpec("The repository URL contains spaces or control characters.")
    if url.startswith("-"):
        raise InvalidRunSpec("The repository URL starts with '-': git would read it as an option.")
    if _SCP_LIKE.match(url):
        return url
    parts = urlsplit(url)
    if "@" in parts.netloc and not (parts.scheme == "ssh" and parts.password is None):
        raise InvalidRunSpec(
            "The repository URL contains a user name or token. Multishot never keeps "
            "credentials in URLs (they would be saved in the run history and shown on "
            "screen), and it cannot clone private repositories yet: give a public "
            "repository's URL, such as https://github.com/owner/repo.git."
        )
    if parts.scheme not in _URL_SCHEMES:
        raise InvalidRunSpec(
            f"'{url[:80]}' is not a repository URL Multishot can clone: use https://host/"
            "owner/repo(.git), ssh://…, git@host:owner/repo.git or file:///path."
        )
    if parts.scheme != "file" and not parts.hostname:
        raise InvalidRunSpec(f"The repository URL '{url[:80]}' has no host.")
    if parts.scheme == "file" and not parts.path.startswith("/"):
        raise InvalidRunSpec("A file:// repository URL needs an absolute path.")
    return url
