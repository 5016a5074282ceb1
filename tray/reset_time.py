"""When a subscription's usage limit resets, read from the words Claude Code prints."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

__all__ = ["parse_reset_time"]


_RESET_TIME = re.compile(
    r"^(?:(?P<month>[A-Z][a-z]{2}) (?P<day>\d{1,2}),? )?(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?"
    r"\s*(?P<half>am|pm)(?:\s*\((?P<zone>[^)]+)\))?$",
    re.IGNORECASE,
)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def parse_reset_time(text: str, now: dt.datetime | None = None) -> dt.datetime | None:
    """When "3:45pm", "7:32pm (UTC)" or "Dec 2, 9am (Europe/Paris)" next comes, as an
    aware datetime; None for any other wording. Without a zone, this computer's."""
    found = _RESET_TIME.match(text.strip())
    if found is None:
        return None
    zone: dt.tzinfo | None = None
    if found["zone"]:
        try:
            zone = zoneinfo.ZoneInfo(found["zone"].strip())
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return None
    now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(zone)
    hour = int(found["hour"]) % 12 + (12 if found["half"].lower() == "pm" else 0)
    minute = int(found["minute"] or 0)
    if hour > 23 or minute > 59:
        return None
    if found["month"]:
        if found["month"].lower() not in _MONTHS:
            return None
        try:
            when = now.replace(
                month=_MONTHS.index(found["month"].lower()) + 1,
                day=int(found["day"]),
                hour=hour,
                minute=minute,
                second=0,
                microsecond=0,
            )
        except ValueError:
            return None
        return when if when >= now - dt.timedelta(days=1) else when.replace(year=when.year + 1)
    when = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return when if when > now else when + dt.timedelta(days=1)
