"""The only module that talks to Daytona, and the only one that imports its SDK.

The SDK costs about a second and 70 MB to import, so it is imported inside the
functions that need it, on worker threads, never at module import time. SDK
errors are translated here into Multishot's own typed errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tray import config
from tray.errors import MultishotError
from tray.redaction import redact

if TYPE_CHECKING:
    from daytona import Daytona


class DaytonaKeyRejected(MultishotError):
    title = "Daytona rejected the API key"


class DaytonaRateLimited(MultishotError):
    title = "Daytona is rate limiting requests"


class DaytonaUnreachable(MultishotError):
    title = "Could not reach Daytona"


def connect(api_key: str, api_url: str | None = None) -> Daytona:
    """A client with explicit configuration, so a stray ``.env`` cannot pick the account."""
    from daytona import Daytona, DaytonaConfig

    return Daytona(DaytonaConfig(api_key=api_key, api_url=api_url or config.daytona_api_url()))


def verify_api_key(api_key: str, api_url: str | None = None, timeout: float = 15.0) -> None:
    """Make one cheap authenticated call (list one sandbox); raise a typed error if it fails."""
    from daytona import (
        DaytonaAuthenticationError,
        DaytonaConnectionError,
        DaytonaError,
        DaytonaForbiddenError,
        DaytonaRateLimitError,
        DaytonaTimeoutError,
        ListSandboxesQuery,
    )

    url = api_url or config.daytona_api_url()
    try:
        client = connect(api_key, url)
        next(iter(client.list(ListSandboxesQuery(limit=1), request_timeout=timeout)), None)
    except DaytonaAuthenticationError as exc:
        raise DaytonaKeyRejected(
            f"Daytona did not accept the API key ({_detail(exc)}). Check it at "
            "app.daytona.io → API Keys, or create a new one."
        ) from None
    except DaytonaForbiddenError as exc:
        raise DaytonaKeyRejected(
            f"The Daytona API key may not manage sandboxes ({_detail(exc)}). Create a key "
            "with sandbox permissions at app.daytona.io → API Keys."
        ) from None
    except DaytonaRateLimitError as exc:
        raise DaytonaRateLimited(
            f"The Daytona key works, but Daytona is rate limiting requests ({_detail(exc)})."
        ) from None
    except DaytonaError as exc:
        # The SDK reports a refused connection as a plain DaytonaError wrapping urllib3's
        # MaxRetryError; no HTTP status means Daytona never answered.
        if isinstance(exc, (DaytonaConnectionError, DaytonaTimeoutError)) or (
            exc.status_code is None
        ):
            raise DaytonaUnreachable(
                f"Could not connect to Daytona at {url} ({_connection_problem(exc)}). Check "
                "the network and try again."
            ) from None
        raise DaytonaUnreachable(
            f"Daytona at {url} answered with an error ({_detail(exc)}), so the key could "
            "not be checked. Try again later."
        ) from None


def _connection_problem(exc: BaseException) -> str:
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "timed out" in text or "timeout" in text:
        return "no answer in time"
    if "name or service not known" in text or "resolution" in text or "getaddrinfo" in text:
        return "the host name could not be resolved"
    return _detail(exc)


def _detail(exc: BaseException) -> str:
    return redact(str(exc)).strip() or type(exc).__name__
