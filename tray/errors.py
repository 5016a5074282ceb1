"""Every error a user can meet, with a short title and a message that says what to do.

Neither the title nor the message ever contains a secret: the constructor passes
both through the shared redaction function as a last line of defence. Shells show
``title`` and ``message`` as they are; the command line picks its exit code by
family (bad input: 2, everything else: 1).

    MultishotError
    ├── InvalidInput                 bad input; nothing was saved or started
    │   ├── InvalidSecretInput       a pasted key or token is malformed or of the wrong kind
    │   ├── IncompleteCredentials    the chosen method's secret is missing
    │   ├── InvalidRunSpec           a run's prompt, repository, shots, ... are not acceptable
    │   ├── RunNotFound              no run matches the id (or the prefix matches several)
    │   ├── ShotUnusable             no such shot, still running, or no change to apply
    │   ├── InvalidPatch             a patch is not a git patch, or it changes nothing
    │   └── InvalidApplyTarget       the folder, file or branch to land changes in is not usable
    │       └── BranchExists         the branch to create already exists
    ├── NotLoggedIn                  no credentials in the keychain or the environment
    ├── RunNotRecorded               the history or results folder could not be written
    ├── EngineStopped                the run engine's process did not start or stopped
    ├── HistoryUnreadable            the run history file is not a database, or not a file
    ├── CannotOpen                   a result can't be shown: no opener, or it isn't there
    ├── KeychainError                the OS keychain could not be used
    │   ├── KeychainLocked
    │   └── KeychainTimeout
    ├── LocalLoginError              this computer's Claude Code login could not be read
    ├── ApplyFailed                  a shot's changes could not be landed in a repository
    │   ├── BaseCommitMissing        the run's starting commit is not in the local clone
    │   ├── BaseCommitUnknown        the run did not record its starting commit
    │   ├── PatchDoesNotApply        the patch conflicts; carries the conflicting files
    │   └── GitFailed                git is missing, failed, or did not answer in time
    └── DaytonaProblem               Daytona refused or failed a request
        ├── DaytonaKeyRejected       the API key is wrong or may not manage sandboxes
        ├── DaytonaRateLimited
        ├── DaytonaUnreachable       no connection, no answer in time, or a 5xx
        ├── SandboxError             a sandbox did not start, a command could not run
        └── LogStreamDropped         the live log stream broke (the engine catches up)
"""

from __future__ import annotations

from tray.redaction import redact

__all__ = [
    "ApplyFailed",
    "BaseCommitMissing",
    "BaseCommitUnknown",
    "BranchExists",
    "CannotOpen",
    "DaytonaKeyRejected",
    "DaytonaProblem",
    "DaytonaRateLimited",
    "DaytonaUnreachable",
    "EngineStopped",
    "GitFailed",
    "HistoryUnreadable",
    "IncompleteCredentials",
    "InvalidApplyTarget",
    "InvalidInput",
    "InvalidPatch",
    "InvalidRunSpec",
    "InvalidSecretInput",
    "KeychainError",
    "KeychainLocked",
    "KeychainTimeout",
    "LocalLoginError",
    "LogStreamDropped",
    "MultishotError",
    "NotLoggedIn",
    "PatchDoesNotApply",
    "RunNotFound",
    "RunNotRecorded",
    "SandboxError",
    "ShotUnusable",
    "connection_problem",
]


class MultishotError(Exception):
    """Base class: an error a shell can show to the user as it is."""

    title: str = "Multishot error"

    def __init__(self, message: str, *, title: str | None = None) -> None:
        self.message = redact(message)
        if title is not None:
            self.title = redact(title)
        super().__init__(self.message)


class InvalidInput(MultishotError):
    """Something the user gave is not acceptable; nothing was saved or started."""

    title = "That doesn't look right"


class InvalidSecretInput(InvalidInput):
    """A pasted key or token is malformed or of the wrong kind; nothing was saved."""


class IncompleteCredentials(InvalidInput):
    """The chosen method's secret is missing."""

    title = "Credentials incomplete"


class InvalidRunSpec(InvalidInput):
    title = "The run can't start"


class NotLoggedIn(MultishotError):
    title = "Not logged in"


class RunNotFound(InvalidInput):
    title = "No such run"


class ShotUnusable(InvalidInput):
    """The shot asked for does not exist, has not ended, or has no change to pick or apply."""

    title = "That shot can't be used"


class InvalidPatch(InvalidInput):
    title = "Not a usable patch"


class InvalidApplyTarget(InvalidInput):
    """The folder, patch file or branch name given to land changes in is not usable."""

    title = "Can't put the changes there"


class BranchExists(InvalidApplyTarget):
    """Multishot never moves an existing branch: the user picks another name."""

    title = "That branch already exists"


class HistoryUnreadable(MultishotError):
    title = "The run history cannot be read"


class CannotOpen(MultishotError):
    """A folder or file could not be shown with the desktop's opener; ``path`` is where
    it is (or would be), for the user to copy."""

    title = "Can't open it"

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path


class RunNotRecorded(MultishotError):
    title = "The run could not be recorded"


class EngineStopped(MultishotError):
    title = "The run engine stopped"


class KeychainError(MultishotError):
    """The OS keychain could not be used."""

    title = "Keychain problem"


class KeychainLocked(KeychainError):
    title = "Keychain is locked"

    @classmethod
    def locked(cls) -> KeychainLocked:
        return cls(
            "The keychain is locked, or its unlock prompt was dismissed. Unlock it (for "
            "example by logging in to the desktop session) and try again."
        )

    @classmethod
    def prompt_dismissed(cls) -> KeychainLocked:
        return cls(
            "The keychain asked for a password, and the prompt was dismissed or could not be "
            "shown. Unlock the keychain (or create its default collection) in your desktop "
            "session, then try again."
        )


class KeychainTimeout(KeychainError):
    title = "Keychain is not answering"


class LocalLoginError(MultishotError):
    """A local Claude Code login exists but could not be read."""

    title = "Could not read the Claude Code login"


class ApplyFailed(MultishotError):
    """A shot's changes could not be landed; the user's checkout was left as it was."""

    title = "The changes could not be applied"


class BaseCommitMissing(ApplyFailed):
    title = "The run's starting commit is missing"


class BaseCommitUnknown(ApplyFailed):
    """A run made before Multishot recorded starting commits: only its patch can be saved."""

    title = "The run's starting commit is unknown"


class PatchDoesNotApply(ApplyFailed):
    """The patch conflicts with the tree it was applied to; ``files`` are the conflicting paths."""

    title = "The changes do not apply"

    def __init__(self, message: str, *, files: tuple[str, ...]) -> None:
        super().__init__(message)
        self.files = files


class GitFailed(ApplyFailed):
    title = "Git failed"


class DaytonaProblem(MultishotError):
    """Daytona refused or failed a request."""

    title = "Daytona problem"


class DaytonaKeyRejected(DaytonaProblem):
    title = "Daytona rejected the API key"


class DaytonaRateLimited(DaytonaProblem):
    title = "Daytona is rate limiting requests"


class DaytonaUnreachable(DaytonaProblem):
    title = "Could not reach Daytona"


class SandboxError(DaytonaProblem):
    """A sandbox operation failed (the sandbox did not start, a command could not run...)."""

    title = "Sandbox problem"


class LogStreamDropped(DaytonaProblem):
    title = "The live log stream dropped"


def connection_problem(exc: BaseException) -> str:
    """A connection failure in a few words, without addresses or error numbers."""
    text = str(exc).lower()
    if "refused" in text:
        return "the connection was refused"
    if "timed out" in text or "timeout" in text:
        return "no answer in time"
    if any(sign in text for sign in ("name or service", "resolution", "getaddrinfo", "nodename")):
        return "the server's name could not be found"
    if "ssl" in text or "certificate" in text:
        return "a secure connection could not be made"
    return "the connection failed"
