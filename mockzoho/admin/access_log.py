"""The access log: each journaled call as one readable line, on `mockzoho serve`'s stdout and in
`mockzoho requests --follow`."""

from __future__ import annotations

import logging
import re
import sys
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import quote

LOGGER = logging.getLogger("mockzoho.access")
# A line stays well under PIPE_BUF (4096 bytes), which a pipe takes in one piece: the lines of several workers
# writing to one pipe never interleave, however long the path or tag a client sent.
LONGEST_TARGET, LONGEST_WORD = 1024, 256
# A path is shown as it travels (percent-encoded), so that a space, a `?` or a newline in it cannot pass for
# the line's own separators; the query arrives encoded, but may carry raw bytes from a hostile client.
PATH_SAFE = "/!$&'()*+,;=:@-._~"
# A space would split a word, a control character the line, and what is beyond ASCII may not show as it is.
NOT_A_WORD = re.compile(r"[^!-~]")
NOT_A_PHRASE = re.compile(r"[^ -~]")  # `matched` is words: "route crm.delete_attachment"


def one_line(entry: Mapping[str, Any]) -> str:
    """`time method path?query status code ms org= tag= matched` of a journal entry (as the journal serves it,
    or as the hooks record it); a key the entry lacks is `-`, or left out if it is `matched`."""
    target = quote(str(entry.get("path") or "-"), safe=PATH_SAFE, errors="surrogatepass")
    if entry.get("query"):
        target += "?" + shown(entry["query"])
    words = [when(entry.get("time")), shown(entry.get("method")), shortened(target, LONGEST_TARGET),
             shown(entry.get("status")), shown(entry.get("code")), milliseconds(entry.get("duration_ms")),
             f"org={shown(entry.get('org'))}", f"tag={shown(entry.get('tag'))}"]
    if "matched" in entry or "unmatched" in entry:  # the journal of older servers has neither
        matched = entry.get("matched") or ("unmatched" if entry.get("unmatched") else None)
        words.append(shown(matched, NOT_A_PHRASE))
    return " ".join(words)


def shown(value: Any, unsafe: re.Pattern[str] = NOT_A_WORD) -> str:
    """A value as one word of the line (`-` for none), what could break it percent-encoded."""
    if value is None or value == "":
        return "-"
    text = unsafe.sub(lambda found: quote(found[0], safe="", errors="surrogatepass"), str(value))
    return shortened(text, LONGEST_WORD)


def shortened(text: str, most: int) -> str:
    return text if len(text) <= most else f"{text[:most]}...(+{len(text) - most})"


def when(value: Any) -> str:
    """Epoch seconds (the hooks' entry) or an ISO time (the journal's answer) in UTC, to the millisecond."""
    try:
        moment = (datetime.fromtimestamp(value, timezone.utc) if isinstance(value, (int, float))
                  else datetime.fromisoformat(value))
    except (TypeError, ValueError, OverflowError, OSError):
        return "-"
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def milliseconds(value: Any) -> str:
    return f"{value:.1f}ms" if isinstance(value, (int, float)) else "-"


def log_call(entry: Mapping[str, Any]) -> None:
    """Log a journaled call at INFO; without a handler that takes it (no `mockzoho serve`), nothing is formatted."""
    if LOGGER.isEnabledFor(logging.INFO):
        LOGGER.info("%s", one_line(entry))


def to_stdout() -> None:
    """Print the access log on stdout, each line flushed whole as it is logged. Called before gunicorn forks:
    every worker inherits the handler (and logging gives each its own lock)."""
    handler = logging.StreamHandler(sys.stdout)  # one write of the line and its newline, then a flush
    handler.setFormatter(logging.Formatter("%(message)s"))
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.INFO)
    LOGGER.propagate = False  # the lines are for stdout, not for whatever the root logger does with INFO
