"""HTML made text: what a reader sees, in a form the redaction corpus' offsets rely on, and hostile markup."""

import pytest

from extractors.mail.html_text import html_to_text

CASES = [
    # the redaction corpus' HTML shape: paragraphs stay separated by a blank line, <br> is a line break
    ("<html><head><style>p { margin: 0; }</style></head><body>\n<p>Hei,<br>kiitos.</p>\n<p>Terveisin</p>\n"
     "</body></html>\n", "Hei,\nkiitos.\n\nTerveisin"),
    ("<p>Tilaus&nbsp;11 &amp; 12 &lt;ok&gt; &#228;&#x00e4;</p>", "Tilaus\xa011 & 12 <ok> ää"),
    ("<div>one</div><div>two</div><ul><li>a</li><li>b</li></ul><h1>T</h1>x", "one\ntwo\na\nb\nT\nx"),
    ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "ab\nc"),
    ("a <script>var x = '<p>no</p>';</script>b<style>.c{}</style> c", "a b c"),
    ("<head><title>Secret title</title><body>text", "text"),  # a head left open ends at <body>
    ("a  \t b\n  c", "a b\n c"),  # runs of spaces and tabs become one; line breaks stay
    ("<!-- hidden -->shown<![CDATA[x]]>", "shown"),
    ("x < y and 1<2", "x < y and 1<2"),
    ("<p>unclosed <b>bold <i>italic", "unclosed bold italic"),
]


@pytest.mark.parametrize(("markup", "text"), CASES)
def test_html_becomes_the_text_a_reader_sees(markup, text):
    assert html_to_text(markup) == text


MIB = 1 << 20
HOSTILE = {
    "a mebibyte of <": ("<" * MIB, "<" * MIB),
    "unclosed comments": ("<!--" * (MIB // 4), "<!--" * (MIB // 4)),
    "unclosed marked sections": ("<![CDATA[>" * (MIB // 10), "<![CDATA[>" * (MIB // 10)),
    "100k nested tags": ("<div><b>" * 100_000 + "deep" + "</b></div>" * 100_000, "deep"),
    "unterminated start tags": ("<a " * (MIB // 3) + "end", ("<a " * (MIB // 3) + "end")),
    "unclosed script": ("before<script>" + "x" * MIB, "before"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_markup_is_read_to_the_end(name):
    # Not timed: bench/bench_parse.py measures. That it finishes, with the text a browser shows, is checked.
    markup, text = HOSTILE[name]
    assert html_to_text(markup) == text
