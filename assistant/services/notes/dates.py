"""Due dates as people say them ("by Friday", "by March twentieth"), found and parsed."""

from __future__ import annotations

import re
from datetime import date, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")  # fmt: skip
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30, "thirty-first": 31,
}  # fmt: skip
for _n, _word in enumerate(("first", "second", "third", "fourth", "fifth", "sixth", "seventh",
                            "eighth", "ninth"), start=1):  # fmt: skip
    _ORDINALS[f"twenty-{_word}"] = 20 + _n
    _ORDINALS[f"twenty {_word}"] = 20 + _n

_DAY = r"(?:\d{1,2}(?:st|nd|rd|th)?|" + "|".join(sorted(_ORDINALS, key=len, reverse=True)) + ")"
_MONTH = "(?:" + "|".join(MONTHS) + ")"
_WEEKDAY = "(?:" + "|".join(WEEKDAYS) + ")"
_PART = r"(?:\s+(?:morning|afternoon|evening|night|noon|eod))?"
_WHEN = (
    rf"(?:(?:next\s+|this\s+)?{_WEEKDAY}(?:\s+the\s+{_DAY}(?:\s+of\s+{_MONTH})?)?{_PART}"
    rf"|{_MONTH}\s+(?:the\s+)?{_DAY}|(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}"
    r"|today|tonight|tomorrow(?:\s+(?:morning|afternoon|evening))?"
    r"|this\s+(?:morning|afternoon|evening)"
    r"|(?:the\s+)?end\s+of\s+(?:the\s+)?(?:day|week|month)|next\s+week|eod|eow"
    # "by the eighteenth": a day of this month or the next.
    rf"|the\s+{_DAY}(?!\s+(?:of|quarter|half|week|round|time|floor|place|item|point)\b))"
)
# A deadline: "by Friday", "before the 14th of March", "due tomorrow", "for Thursday's demo".
DUE = re.compile(
    rf"\b(?:by|before|until|due|no later than|for)\s+(?P<when>{_WHEN})\b(?P<of>'s|\u2019s)?", re.I
)
# A date without a deadline word, used for the due date only when it closes a request.
WHEN = re.compile(rf"\b(?P<when>{_WHEN})\b", re.I)


def find_due(text: str) -> tuple[str, str]:
    """The due date said in text, and the text without it: ("Friday", "fix X") or ("", text)."""
    match = DUE.search(text)
    if match is None:
        return "", text
    if match.group("of"):
        # "a deck for Thursday's all-hands": the date belongs to the task's words too.
        return match.group("when").strip(), text
    rest = (text[: match.start()] + text[match.end() :]).strip()
    return match.group("when").strip(), re.sub(r"\s{2,}", " ", rest)


def parse_due(when: str, said_on: date) -> date | None:
    """The calendar date `when` names, said on `said_on`; None when it names none."""
    text = re.sub(r"^the\s+(?=end\b)", "", re.sub(r"\s+", " ", when.strip().lower()))
    if text in {"today", "tonight", "eod", "end of day", "end of the day"} or text.startswith(
        "this "
    ):
        return said_on
    if text.startswith("tomorrow"):
        return said_on + timedelta(days=1)
    if text in {"end of week", "end of the week", "eow"}:
        return said_on + timedelta(days=(4 - said_on.weekday()) % 7)
    if text == "next week":
        return said_on + timedelta(days=7 - said_on.weekday())
    if text in {"end of month", "end of the month"}:
        first_next = date(said_on.year + said_on.month // 12, said_on.month % 12 + 1, 1)
        return first_next - timedelta(days=1)
    explicit = _calendar_date(text, said_on)
    if explicit is not None:
        return explicit
    for index, name in enumerate(WEEKDAYS):
        if re.search(rf"\b{name}\b", text):
            if text.startswith("next "):
                # "Next Tuesday" is the Tuesday of next week, whatever day it is said on.
                return said_on + timedelta(days=7 - said_on.weekday() + index)
            return said_on + timedelta(days=(index - said_on.weekday()) % 7 or 7)
    return None


def _calendar_date(text: str, said_on: date) -> date | None:
    """A "March 20th" / "the 14th of March" date, in the year that puts it next on or after."""
    month = next((i for i, m in enumerate(MONTHS, start=1) if re.search(rf"\b{m}\b", text)), None)
    day = _day_number(text)
    if day is None:
        return None
    if month is None:
        if not text.startswith("the "):
            return None
        # A day of the month alone: the next time it comes (this month or the next).
        month = said_on.month if day >= said_on.day else said_on.month % 12 + 1
        year = said_on.year + (1 if month < said_on.month else 0)
        try:
            return date(year, month, day)
        except ValueError:
            return None
    for year in (said_on.year, said_on.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            return None
        if candidate >= said_on - timedelta(days=7):
            return candidate
    return None


def _day_number(text: str) -> int | None:
    """The day of the month in text, in digits ("20th") or words ("twentieth")."""
    digits = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)?\b", text)
    if digits:
        return int(digits.group(1))
    for word in sorted(_ORDINALS, key=len, reverse=True):
        if re.search(rf"\b{word}\b", text):
            return _ORDINALS[word]
    return None
