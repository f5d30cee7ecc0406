"""A small HTML tree for the AO3 reader: elements, text, and the few searches it needs.

Beautiful Soup with html.parser costs about 20 µs an element: building the tree
of a 10 MB AO3 download took 1.6 s on its own, a flood of 200,000 ``<em>`` four
seconds, a start tag with five million attributes ten. And html.parser looks at
the rest of the input again from every start tag it cannot finish, so 20,000
``<i x"y=">`` took 30 s (quadratic). This builder reads tags with html.parser's
own patterns and follows its goahead() loop, so the tree is the one Beautiful
Soup built (checked on thousands of random and malformed documents), at a
tenth of the cost; it counts attributes as it goes, so a flood of them is
refused early; and an unfinished start tag is not looked at twice (see
``parse_html``).

The tree: no implied end tags; an end tag closes the most recent open element
of its name and everything opened inside it, and is ignored when none is open;
void elements (``br``, ``hr``, ``img``...) and ``<x/>`` have no content;
``script`` and ``style`` hold raw text; comments, doctypes and processing
instructions are left out. It relies on the AO3 pre-pass (``ao3._prepare``):
character references are already resolved, so there is no "&" to handle.

Nothing here recurses, so nesting depth costs memory, not stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ("VOID_ELEMENTS", "Element", "MarkupLimitError", "parse_html")

# The elements html.parser's Beautiful Soup builder treats as empty.
VOID_ELEMENTS = frozenset(
    {
        *("area", "base", "basefont", "bgsound", "br", "col", "command", "embed", "frame"),
        *("hr", "image", "img", "input", "isindex", "keygen", "link", "menuitem", "meta"),
        *("nextid", "param", "source", "spacer", "track", "wbr"),
    }
)
_RAW_TEXT_END = {
    "script": re.compile(r"</\s*script\s*>", re.IGNORECASE),
    "style": re.compile(r"</\s*style\s*>", re.IGNORECASE),
}
# html.parser's patterns (CPython 3.11 html/parser.py), so tags are cut and
# named as Beautiful Soup saw them: tagfind_tolerant for a tag's name,
# attrfind_tolerant for each attribute, endtagfind for a plain end tag, and
# locatestarttagend_tolerant for where a start tag ends. That last one is
# "name, [\s/]*, then (attribute)* greedily, then \s*"; it is matched here one
# attribute at a time, since as one regex a tag of five million attributes
# took 7 s and 3 GB (the regex engine keeps state for every repetition), and
# this way the attribute limit stops it early.
_START_TAG_NAME = re.compile(r"<[a-zA-Z][^\t\n\r\f />\x00]*[\s/]*")
_START_TAG_ATTRIBUTE = re.compile(
    r"""(?<=['"\s/])[^\s/>][^\s/=>]*"""
    r"""(?:\s*=+\s*(?:'[^']*'|"[^"]*"|(?!['"])[^>\s]*)\s*)?(?:\s|/(?!>))*"""
)
_SPACES = re.compile(r"\s*")
_TAG_NAME = re.compile(r"([a-zA-Z][^\t\n\r\f />\x00]*)(?:\s|/(?!>))*")
_ATTRIBUTE = re.compile(
    r"""((?<=['"\s/])[^\s/>][^\s/=>]*)(\s*=+\s*('[^']*'|"[^"]*"|(?!['"])[^>\s]*))?(?:\s|/(?!>))*"""
)
_END_TAG = re.compile(r"</\s*([a-zA-Z][-.a-zA-Z0-9:_]*)\s*>")
_COMMENT_END = re.compile(r"--\s*>")
# What follows a start tag html.parser could not finish (it waits for more input).
_UNFINISHED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ=/")


class MarkupLimitError(Exception):
    """The markup has more of something than any story needs; ``what`` says what."""

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"more than {limit:,} {what}")
        self.what = what
        self.limit = limit


class Element:
    """An element: its name, attributes, and children (elements and strings)."""

    __slots__ = ("_elements", "attrs", "contents", "end", "name", "order", "parent", "position")

    def __init__(
        self,
        name: str,
        attrs: dict[str, str],
        parent: Element | None,
        elements: list[Element],
    ) -> None:
        self.name = name
        self.attrs = attrs
        self.contents: list[Element | str] = []
        self.parent = parent
        # Where this element sits among its parent's contents.
        self.position = len(parent.contents) if parent is not None else 0
        # Every element of the document in start-tag order; this element's
        # descendants are elements[order + 1 : end].
        self._elements = elements
        self.order = len(elements)
        self.end = self.order + 1

    def __repr__(self) -> str:
        return f"<Element {self.name} {self.attrs!r}>"

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.attrs.get(key, default)

    @property
    def classes(self) -> list[str]:
        value = self.attrs.get("class")
        return value.split() if value else []

    @property
    def children(self) -> Iterator[Element | str]:
        return iter(self.contents)

    @property
    def previous_siblings(self) -> Iterator[Element | str]:
        if self.parent is None:
            return
        contents = self.parent.contents
        for index in range(self.position - 1, -1, -1):
            yield contents[index]

    def find(
        self,
        name: str | None = None,
        *,
        id: str | None = None,
        class_: str | None = None,
    ) -> Element | None:
        found = self.find_all(name, id=id, class_=class_, limit=1)
        return found[0] if found else None

    def find_all(
        self,
        name: str | None = None,
        *,
        id: str | None = None,
        class_: str | None = None,
        rel: str | None = None,
        href: bool = False,
        limit: int | None = None,
        outermost: bool = False,
    ) -> list[Element]:
        """Descendants in document order, like Beautiful Soup's ``find_all``.

        ``class_`` and ``rel`` match one of the attribute's space-separated
        values; ``href=True`` asks for the attribute to be present. With
        ``outermost``, matches inside an earlier match are left out, so reading
        the text of each match reads every character once.
        """
        found: list[Element] = []
        inside = 0  # elements before this order are inside the last match
        for element in self._elements[self.order + 1 : self.end]:
            if name is not None and element.name != name:
                continue
            if element.order < inside:
                continue
            attrs = element.attrs
            if id is not None and attrs.get("id") != id:
                continue
            if class_ is not None and class_ not in attrs.get("class", "").split():
                continue
            if rel is not None and rel not in attrs.get("rel", "").split():
                continue
            if href and "href" not in attrs:
                continue
            found.append(element)
            if outermost:
                inside = element.end
            if limit is not None and len(found) >= limit:
                break
        return found


def parse_html(text: str, *, max_attributes: int) -> Element:
    """The document tree of pre-passed HTML; raises MarkupLimitError past ``max_attributes``.

    The loop is html.parser's goahead() for a whole document, with one
    difference: where html.parser gives up on a start tag it cannot finish,
    keeps it as text up to the next ">" and reads on, a start tag that begins
    inside the part it looked at is text here. html.parser looks at the same
    characters again from each such tag, which is quadratic.
    """
    builder = _Builder(max_attributes)
    size = len(text)
    position = 0
    # Where the last start tag html.parser could not finish stopped looking.
    unfinished_to = 0
    while position < size:
        start = text.find("<", position)
        if start < 0:
            break
        if start > position:
            builder.data(text[position:start])
        follow = text[start + 1 : start + 2]
        end = -1
        if follow.isascii() and follow.isalpha():
            if start >= unfinished_to:
                end, unfinished_to = builder.start_tag(text, start, unfinished_to)
        elif follow == "/":
            end = builder.end_tag(text, start)
        elif follow in ("!", "?"):
            if text.startswith("<!--", start):
                close = _COMMENT_END.search(text, start + 4)
                end = close.end() if close is not None else -1
            else:  # a doctype, a processing instruction or a bogus comment
                close = text.find(">", start + 2)
                end = close + 1 if close >= 0 else -1
            if end >= 0:
                builder.flush()
        else:
            builder.data("<")
            end = start + 1
        if end < 0:
            # Not a finished construct: text up to the next ">" (or "<").
            close = text.find(">", start + 1)
            if close >= 0:
                end = close + 1
            else:
                end = text.find("<", start + 1)
                end = end if end >= 0 else start + 1
            builder.data(text[start:end])
        elif builder.raw_text is not None:
            end = builder.read_raw_text(text, end)
        position = end
    if position < size:
        builder.data(text[position:])
    return builder.finish()


class _Builder:
    """Beautiful Soup's tree building, for the events parse_html reads."""

    def __init__(self, max_attributes: int) -> None:
        self.elements: list[Element] = []
        self.root = Element("[document]", {}, None, self.elements)
        self.elements.append(self.root)
        self.open_elements = [self.root]
        self.open_names: dict[str, int] = {}
        self.pending: list[str] = []
        self.attributes = 0
        self.max_attributes = max_attributes
        # The element whose text is raw ("script", "style") while it is read.
        self.raw_text: Element | None = None

    def data(self, text: str) -> None:
        self.pending.append(text)

    def flush(self) -> None:
        """Adjacent pieces of text are one string, as Beautiful Soup joins them."""
        if self.pending:
            text = self.pending[0] if len(self.pending) == 1 else "".join(self.pending)
            self.open_elements[-1].contents.append(text)
            self.pending = []

    def start_tag(self, text: str, start: int, unfinished_to: int) -> tuple[int, int]:
        """html.parser's check_for_whole_start_tag and parse_starttag: (end, unfinished_to)."""
        found = _START_TAG_NAME.match(text, start)
        assert found is not None  # "<" and a letter
        stop = found.end()
        attribute_match = _START_TAG_ATTRIBUTE.match
        while (attribute := attribute_match(text, stop)) is not None:
            self.attributes += 1
            if self.attributes > self.max_attributes:
                raise MarkupLimitError("attributes", self.max_attributes)
            stop = attribute.end()
        spaces = _SPACES.match(text, stop)
        assert spaces is not None  # \s* matches anywhere
        stop = spaces.end()
        follow = text[stop : stop + 1]
        if follow == ">":
            end = stop + 1
        elif text.startswith("/>", stop):
            end = stop + 2
        elif not follow or follow in _UNFINISHED:
            return -1, max(unfinished_to, stop)
        else:
            end = max(stop, start + 1)
        name_match = _TAG_NAME.match(text, start + 1)
        assert name_match is not None  # "<" and a letter
        name = name_match.group(1).lower()
        attrs: dict[str, str] = {}
        position = name_match.end()
        while position < end:
            attribute = _ATTRIBUTE.match(text, position)
            if attribute is None:
                break
            key, equals, value = attribute.group(1, 2, 3)
            if not equals:
                value = ""
            elif value[:1] in ("'", '"') and value[:1] == value[-1:]:
                value = value[1:-1]
            attrs[key.lower()] = value
            position = attribute.end()
        rest = text[position:end].strip()
        if rest not in (">", "/>"):
            self.data(text[start:end])  # not a tag after all
            return end, unfinished_to
        self.flush()
        parent = self.open_elements[-1]
        element = Element(name, attrs, parent, self.elements)
        self.elements.append(element)
        parent.contents.append(element)
        if rest == "/>" or name in VOID_ELEMENTS:
            return end, unfinished_to
        self.open_elements.append(element)
        self.open_names[name] = self.open_names.get(name, 0) + 1
        if name in _RAW_TEXT_END:
            self.raw_text = element
        return end, unfinished_to

    def read_raw_text(self, text: str, position: int) -> int:
        """The text of a script or style element, up to its end tag; without one, the rest."""
        element = self.raw_text
        assert element is not None
        self.raw_text = None
        close = _RAW_TEXT_END[element.name].search(text, position)
        if close is None:
            return len(text)  # html.parser drops an unclosed script's text
        if close.start() > position:
            self.data(text[position : close.start()])
        self.close(element.name)
        return close.end()

    def end_tag(self, text: str, start: int) -> int:
        """html.parser's parse_endtag."""
        close = text.find(">", start + 1)
        if close < 0:
            return -1
        found = _END_TAG.match(text, start)
        if found is not None:
            self.close(found.group(1).lower())
            return close + 1
        name_match = _TAG_NAME.match(text, start + 2)
        if name_match is None:
            self.flush()
            return start + 3 if text.startswith("</>", start) else close + 1
        self.close(name_match.group(1).lower())
        return text.find(">", name_match.end()) + 1

    def close(self, name: str) -> None:
        """An end tag: close the latest open element of that name, and all inside it."""
        self.flush()
        if not self.open_names.get(name):
            return
        while True:
            closed = self.open_elements.pop()
            closed.end = len(self.elements)
            self.open_names[closed.name] -= 1
            if closed.name == name:
                return

    def finish(self) -> Element:
        self.flush()
        for element in self.open_elements:
            element.end = len(self.elements)
        return self.root
