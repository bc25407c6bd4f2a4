#!/usr/bin/env python3
"""Checks the links of the book (docs/), README.md and ARCHITECTURE.md. Python stdlib only.

- Every chapter named in docs/src/SUMMARY.md exists, and every .md under docs/src is named there.
- A link to a chapter must name an existing one, and its #anchor a heading of it (or of the same
  page), with the ids mdBook gives headings (GitHub gives the same ones to README.md and
  ARCHITECTURE.md).
- A relative link out of the book (or in README.md / ARCHITECTURE.md) must name a file or folder
  of the repository; an #anchor into a Markdown file must name one of its headings.
- http(s) and mailto links are not fetched (CI has no network).

Usage: scripts/check-book.py [REPO_ROOT]   (exit 1 and a list of broken links if any)
"""

import re
import sys
from pathlib import Path

ROOT = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent).resolve()
SRC = ROOT / "docs" / "src"

LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ID = re.compile(r"""<a\s+(?:name|id)=["']([^"']+)["']""")


def prose_lines(text):
    """(line number, line) outside fenced code blocks."""
    fence = None
    for n, line in enumerate(text.splitlines(), 1):
        s = line.lstrip()
        m = re.match(r"(```+|~~~+)", s)
        if m:
            if fence is None:
                fence = m.group(1)[0] * len(m.group(1))
                continue
            if s.startswith(fence):
                fence = None
                continue
        if fence is None:
            yield n, line


def heading_id(text):
    """The id mdBook (and GitHub) give a heading: its text without markup, lowercased; letters,
    digits, '_' and '-' kept, whitespace made '-', everything else dropped."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # [text](url) -> text
    text = text.replace("`", "").replace("*", "")
    text = re.sub(r"<[^>]+>", "", text)
    out = []
    for ch in text:
        if ch.isalnum() or ch in "_-":
            out.append(ch.lower())
        elif ch.isspace():
            out.append("-")
    return "".join(out)


_anchors = {}


def anchors(path):
    if path not in _anchors:
        ids, seen = set(), {}
        for _, line in prose_lines(path.read_text(encoding="utf-8")):
            m = HEADING.match(line)
            if m:
                base = heading_id(m.group(2))
                n = seen.get(base, 0)
                seen[base] = n + 1
                ids.add(base if n == 0 else f"{base}-{n}")
            ids.update(HTML_ID.findall(line))
        _anchors[path] = ids
    return _anchors[path]


def links(path):
    for n, line in prose_lines(path.read_text(encoding="utf-8")):
        m = REFDEF.match(line)
        if m:
            yield n, m.group(1)
            continue
        for m in LINK.finditer(INLINE_CODE.sub("", line)):
            yield n, m.group(1)


def check_file(path, errors):
    rel = path.relative_to(ROOT)
    for n, target in links(path):
        where = f"{rel}:{n}: {target}"
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):  # https:, mailto:, ...
            continue
        file_part, _, anchor = target.partition("#")
        dest = path if not file_part else (path.parent / file_part).resolve()
        try:
            dest.relative_to(ROOT)
        except ValueError:
            errors.append(f"{where}: points outside the repository")
            continue
        if not dest.exists():
            errors.append(f"{where}: no such file")
            continue
        if anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            errors.append(f"{where}: no heading #{anchor} in {dest.relative_to(ROOT)}")
        if anchor and dest.suffix not in (".md", ".html"):
            errors.append(f"{where}: an #anchor into a file that is not Markdown")


def main():
    errors = []
    summary = SRC / "SUMMARY.md"
    named = set()
    for n, target in links(summary):
        dest = (SRC / target.partition("#")[0]).resolve()
        named.add(dest)
        if not dest.is_file():
            errors.append(f"docs/src/SUMMARY.md:{n}: {target}: no such chapter")
    for md in sorted(SRC.rglob("*.md")):
        if md != summary and md.resolve() not in named:
            errors.append(f"{md.relative_to(ROOT)}: not in SUMMARY.md (mdBook would not build it)")
    files = sorted(SRC.rglob("*.md")) + [ROOT / "README.md", ROOT / "ARCHITECTURE.md"]
    checked = 0
    for f in files:
        if not f.is_file():
            errors.append(f"{f.relative_to(ROOT)}: missing")
            continue
        check_file(f, errors)
        checked += 1
    for e in errors:
        print(e)
    if errors:
        print(f"check-book: {len(errors)} broken link(s)", file=sys.stderr)
        return 1
    print(f"check-book: links of {checked} files resolve")
    return 0


if __name__ == "__main__":
    sys.exit(main())
