"""README.html read back the way a browser shows it, for the tests."""

from html.parser import HTMLParser


class Page(HTMLParser):
    """What a browser would see: elements with their attributes, table rows as text, the stylesheet."""

    def __init__(self, html: bytes) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.rows: list[str] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._row: list[str] | None = None
        self._in_style = False
        self.feed(html.decode("utf-8"))
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th", "br") and self._row is not None:
            self._row.append(" ")  # cells read apart, as on screen
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "tr" and self._row is not None:
            self.rows.append(" ".join("".join(self._row).split()))
            self._row = None
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)
            return
        self.text.append(data)
        if self._row is not None:
            self._row.append(data)

    def all_text(self) -> str:
        return " ".join("".join(self.text).split())

    def row(self, first_cell: str) -> str:
        matches = [r for r in self.rows if r.startswith(first_cell + " ")]
        assert len(matches) == 1, f"expected one row for {first_cell!r}, found {matches}"
        return matches[0]

    def tags(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.elements if tag == name]


def coverage_row(page: Page, source: str) -> str:
    """The source's row in the coverage table (the one that names its kind)."""
    return next(r for r in page.rows if r.startswith(source + " ") and ("Haettu" in r or "Searched" in r
                                                                         or "Ei haettu" in r or "Not searched" in r))
