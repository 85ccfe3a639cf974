"""HTML to plain text with the standard library, so HTML-only mail still reads well in a case."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = frozenset({"script", "style", "head", "title", "noscript", "template"})
_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "fieldset",
        "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
        "main", "nav", "ol", "p", "pre", "section", "table", "tr", "ul",
    }
)  # fmt: skip
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "ul", "ol"})


_LINK_SCHEMES = ("http://", "https://", "mailto:", "ftp://")
# Text a reader of the mail never sees: a sender can hide instructions or words in it.
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|%)?\s*(?:;|$|!)"
    r"|opacity\s*:\s*0(?:\.0+)?\s*(?:;|$|!)|max-height\s*:\s*0(?:px)?\s*(?:;|$|!)",
    re.IGNORECASE,
)
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


def _hidden(attrs: list[tuple[str, str | None]]) -> bool:
    found = dict(attrs)
    return "hidden" in found or bool(_HIDDEN_STYLE.search(found.get("style") or ""))


class _TextExtractor(HTMLParser):
    """Collects text lines; lines inside <blockquote> get a "> " prefix per level; a link
    whose words differ from its target keeps the target in brackets, so that nobody reads
    "https://bank.example" for a link to somewhere else."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._current: list[str] = []
        self._skip = 0
        self._quote = 0
        self._link: tuple[str, int, int] | None = None  # (href, lines, pieces) at <a>
        self._hiding: list[list[str | int]] = []  # [tag, how deep] of hidden elements open

    def _flush(self, *, blank: bool = False) -> None:
        text = " ".join("".join(self._current).split())
        self._current = []
        if text:
            self.lines.append("> " * self._quote + text)
        if blank and self.lines and self.lines[-1] != "":
            self.lines.append("")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._hiding and tag == self._hiding[-1][0]:
            self._hiding[-1][1] = int(self._hiding[-1][1]) + 1
        elif tag not in _VOID and _hidden(attrs):
            self._hiding.append([tag, 1])
            self._skip += 1
            return
        if tag == "a":
            href = " ".join((dict(attrs).get("href") or "").split())
            if href.lower().startswith(_LINK_SCHEMES):
                self._link = (href, len(self.lines), len(self._current))
            return
        if tag in _SKIP:
            self._skip += 1
        elif tag == "br":
            if self._current:
                self._flush()
            else:
                self.lines.append("> " * self._quote)
        elif tag in _BLOCK:
            self._flush(blank=tag in _PARAGRAPH)
            if tag == "blockquote":
                self._quote += 1
            elif tag == "li":
                self._current.append("- ")
        elif tag in ("td", "th"):
            self._current.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            return
        self.handle_starttag(tag, attrs)

    def _end_link(self) -> None:
        if self._link is None:
            return
        href, lines, pieces = self._link
        self._link = None
        inside = self._current[pieces:] if lines == len(self.lines) else []
        words = " ".join("".join(inside).split())
        shown = href.removeprefix("mailto:")
        if words and words not in (href, shown, href.split("://", 1)[-1]):
            self._current.append(f" ({shown})")

    def handle_endtag(self, tag: str) -> None:
        if self._hiding and tag == self._hiding[-1][0]:
            self._hiding[-1][1] = int(self._hiding[-1][1]) - 1
            if self._hiding[-1][1] == 0:
                self._hiding.pop()
                self._skip = max(0, self._skip - 1)
                return
        if tag == "a":
            self._end_link()
            return
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK:
            self._flush(blank=tag in _PARAGRAPH)
            if tag == "blockquote":
                self._quote = max(0, self._quote - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._current.append(data)

    def text(self) -> str:
        self._flush()
        joined = "\n".join(line.rstrip() for line in self.lines)
        return re.sub(r"\n{3,}", "\n\n", joined).strip()


def html_to_text(html: str) -> str:
    """Readable text: no script/style, block elements and <br> become line breaks."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
        return parser.text()
    except Exception:  # html.parser is lenient, but never let a bad page break parsing
        stripped = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>|<[^>]*>", " ", html)
        return "\n".join(" ".join(line.split()) for line in stripped.splitlines()).strip()
