"""HTML made text in one linear pass with the stdlib's HTMLParser, for mail that has no text/plain part.

The text keeps the source's line breaks and adds one where a block ends, so
that a mail's paragraphs stay paragraphs; what a reader never sees (head,
script, style) is left out. Regular expressions with backtracking took hours
on hostile mail; `HTMLParser` scans each character a bounded number of times
once `_defused` has removed the constructs it would rescan to the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

# Content a reader never sees. `head` also ends at <body>, so a head left open does not swallow the mail.
_HIDDEN = frozenset({"script", "style", "head", "title", "template"})
# Elements that begin a new line wherever they start or end.
_BLOCKS = frozenset({"div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table",
                     "blockquote", "pre", "hr", "dt", "dd"})


def html_to_text(markup: str) -> str:
    """The text a reader of `markup` sees: entities decoded, runs of spaces and tabs made one space."""
    parser = _TextParser()
    parser.feed(_defused(markup))
    parser.close()
    return re.sub(r"[ \t]+", " ", "".join(parser.out)).strip()


def _defused(markup: str) -> str:
    """`markup` with every `<` after the last `>` escaped: text, as a browser shows it.

    HTMLParser looks for the `>` of a construct from where it starts; with none left it moves on by one
    construct, so N such openers would cost N scans of the rest.
    """
    last_gt = markup.rfind(">")
    if markup.find("<", last_gt + 1) < 0:
        return markup
    return markup[: last_gt + 1] + markup[last_gt + 1:].replace("<", "&lt;")


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._hidden: str | None = None  # the element whose content is being skipped
        # Where a comment or marked section was found to have no end: one after it has none either,
        # and looking again would rescan the rest of the text for each of them.
        self._endless: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._hidden == "head" and tag == "body":
            self._hidden = None
        if self._hidden is not None:
            return
        if tag in _HIDDEN:
            self._hidden = tag
        elif tag == "br":
            self.out.append("\n")
        elif tag == "p" or tag in _BLOCKS:
            self._line_break()

    def handle_endtag(self, tag: str) -> None:
        if self._hidden is not None:
            if tag == self._hidden:
                self._hidden = None
            return
        if tag == "p":
            self.out.append("\n")
        elif tag in _BLOCKS:
            self._line_break()

    def handle_data(self, data: str) -> None:
        if self._hidden is None:
            self.out.append(data)

    def parse_html_declaration(self, i: int) -> int:
        # _markupbase asserts on a malformed `<![` or `<!x`: a browser shows such bytes as text.
        if self.rawdata.startswith("<![", i) and not self.rawdata[i + 3: i + 4].isalpha():
            self.handle_data("<![")  # the common case, without the cost of an exception
            return i + 3
        try:
            return super().parse_html_declaration(i)
        except AssertionError:
            self.handle_data(self.rawdata[i: i + 2])
            return i + 2

    def updatepos(self, i: int, j: int) -> int:
        return j  # line and column of each token are never asked for: skip counting them (a tenth of the time)

    def parse_comment(self, i: int, report: bool = True) -> int:
        return self._once("comment", i, lambda: super(_TextParser, self).parse_comment(i, report))

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        return self._once("marked", i, lambda: super(_TextParser, self).parse_marked_section(i, report))

    def close(self) -> None:
        self._endless.clear()  # positions change when close() parses what feed() left
        super().close()

    def _once(self, kind: str, i: int, parse: Callable[[], int]) -> int:
        if self._endless.get(kind, i + 1) <= i:
            return -1
        end = parse()
        if end < 0:
            self._endless[kind] = i
        return end

    def _line_break(self) -> None:
        """A new line unless the text is at the start of one already."""
        if self.out and not self.out[-1].endswith("\n"):
            self.out.append("\n")
