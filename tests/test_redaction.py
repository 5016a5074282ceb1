from __future__ import annotations

import io
import logging

from tray.redaction import RedactingFilter, install_redaction, mask, redact, remember

API_KEY = "sk-ant-api03-" + "x" * 30 + "a1b2"
DAYTONA_KEY = "dtn_" + "0123456789abcdef" * 2
ODD_SECRET = "corp-gateway-key-7f3a9b2c4d5e"


def test_mask_keeps_the_kind_and_last_four_only() -> None:
    assert mask(API_KEY) == "sk-ant-…a1b2"
    assert mask(DAYTONA_KEY) == "dtn_…cdef"
    assert mask(ODD_SECRET) == "…4d5e"
    assert mask("short") == "…"
    assert mask("sk-ant-abc") == "sk-ant-…"


def test_redact_masks_secret_shaped_text_never_seen_before() -> None:
    text = f"export ANTHROPIC_API_KEY={API_KEY}; DAYTONA={DAYTONA_KEY} done"
    out = redact(text)
    assert API_KEY not in out
    assert DAYTONA_KEY not in out
    assert "sk-ant-…a1b2" in out
    assert "dtn_…cdef" in out
    assert out.endswith(" done")


def test_redact_masks_remembered_secrets_of_any_shape() -> None:
    assert ODD_SECRET in redact(f"key={ODD_SECRET}")
    remember(ODD_SECRET)
    assert ODD_SECRET not in redact(f"key={ODD_SECRET}")
    assert redact("nothing secret here") == "nothing secret here"


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "Invalid API key · Fix external API key; dtn_ and sk-ant- alone are prefixes"
    assert redact(text) == text


def test_logging_filter_masks_message_args_and_traceback() -> None:
    stream = io.StringIO()
    handler = install_redaction(logging.StreamHandler(stream))
    install_redaction(handler)  # idempotent
    assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("using %s", API_KEY)
        try:
            raise RuntimeError(f"server echoed {DAYTONA_KEY}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert "using sk-ant-…a1b2" in written
    assert "RuntimeError: server echoed dtn_…cdef" in written
    assert API_KEY not in written
    assert DAYTONA_KEY not in written
