"""Emphasis spans in story text, so a page or excerpt cut inside one can close and reopen it."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ("MARKS_RESERVE", "Emphasis")

_DELIMITER = re.compile(r"\n\n|\*+|_+|~+")
# Deeper nesting than this is not real prose; capping it bounds what a page adds.
_MAX_NESTING = 8
# Room a cut keeps for the markers it closes (and the next page reopens).
MARKS_RESERVE = 2 * _MAX_NESTING


@dataclass(frozen=True, slots=True)
class _Span:
    open_start: int
    open_end: int
    close_start: int
    marker: str


class Emphasis:
    """The emphasis spans of a paragraph, so a page cut inside one can close and reopen it.

    A small approximation of Discord's rules: ``*``/``**``/``***`` open before a
    non-space and close after one, ``_``/``__`` also need a word boundary outside,
    ``~~`` pairs like ``*``. Spans never cross a paragraph ("\\n\\n") and always nest.
    A marker with no partner stays plain text and never gets closed or reopened.
    Only ``text[start:end]`` is read; indexes are positions in ``text``.
    """

    def __init__(self, text: str, start: int = 0, end: int | None = None) -> None:
        self.start = start
        self.end = len(text) if end is None else end
        spans = sorted(self._pair(text, start, self.end), key=lambda span: span.open_start)
        self._spans = spans
        self._open_ends = [span.open_end for span in spans]
        # Index of the innermost span enclosing each span, or -1.
        self._parent: list[int] = []
        enclosing: list[int] = []
        for i, span in enumerate(spans):
            while enclosing and spans[enclosing[-1]].close_start < span.open_start:
                enclosing.pop()
            self._parent.append(enclosing[-1] if enclosing else -1)
            enclosing.append(i)

    @staticmethod
    def _pair(text: str, first: int, last: int) -> Iterator[_Span]:
        stack: list[tuple[str, int]] = []
        for match in _DELIMITER.finditer(text, first, last):
            start, end = match.span()
            char = text[start]
            if char == "\n":
                stack.clear()
                continue
            length = end - start
            if length > 3 or (char == "~" and length != 2):
                continue
            before = text[start - 1] if start > first else " "
            after = text[end] if end < last else " "
            can_open = not after.isspace()
            can_close = not before.isspace()
            if char == "_":
                can_open = can_open and not before.isalnum()
                can_close = can_close and not after.isalnum()
            cursor = start
            while can_close and cursor < end:
                found = len(stack) - 1
                while found >= 0 and stack[found][0][0] != char:
                    found -= 1
                if found < 0 or len(stack[found][0]) > end - cursor:
                    break
                marker, opened = stack[found]
                del stack[found:]
                yield _Span(opened, opened + len(marker), cursor, marker)
                cursor += len(marker)
            if can_open and cursor < end:
                left = end - cursor
                for marker in (char * 2, char) if left == 3 else (char * left,):
                    if len(stack) < _MAX_NESTING:
                        stack.append((marker, cursor))
                    cursor += len(marker)

    def open_at(self, index: int) -> tuple[str, ...]:
        """Markers of the spans open at ``index`` (opened before, closed after), outermost first."""
        i = bisect.bisect_right(self._open_ends, index) - 1
        while i >= 0 and self._spans[i].close_start < index:
            i = self._parent[i]
        markers: list[str] = []
        while i >= 0:
            markers.append(self._spans[i].marker)
            i = self._parent[i]
        markers.reverse()
        return tuple(markers)
