"""Read the fenced code blocks of the project's Markdown documents, for the tests that keep docs true.

A document's snippets are only worth something if they work: the docs tests run each kind of
block through the tool that would reject it (cfn-lint for templates, the AppSpec reader for
appspecs, the CLIs' own argument models for shell commands). This module only finds the blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ROOT", "Block", "fenced_blocks", "headings"]

ROOT = Path(__file__).resolve().parents[2]

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it is, its info string's first word, its text and its section."""

    path: Path
    #: 1-based line of the opening fence.
    line: int
    #: The info string's first word (``yaml``, ``sh``, ``json``), lower case; empty when there is none.
    lang: str
    #: The rest of the info string (``yaml title=appspec.yml`` gives ``title=appspec.yml``).
    info: str
    text: str
    #: The nearest heading above the block.
    heading: str

    def where(self) -> str:
        """``docs/deploying.md:42`` for an assertion message."""
        try:
            shown = self.path.relative_to(ROOT)
        except ValueError:
            shown = self.path
        return f"{shown}:{self.line}"


def fenced_blocks(path: Path, *, lang: str | None = None) -> list[Block]:
    """Every fenced block of ``path`` (only those whose language is ``lang``, when given).

    A fence closes on a line of the same character, at least as long, as CommonMark says; an
    unclosed fence runs to the end of the document and fails loudly, since it is always a typo.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    heading = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        found_heading = _HEADING.match(line)
        if found_heading:
            heading = found_heading.group(2)
        opening = _FENCE.match(line)
        if not opening:
            i += 1
            continue
        fence = opening.group("fence")
        info = opening.group("info").strip()
        first, _, rest = info.partition(" ")
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not re.match(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$", lines[j]):
            body.append(lines[j])
            j += 1
        if j == len(lines):
            raise AssertionError(f"{path}:{i + 1}: fenced block never closed")
        block = Block(path, i + 1, first.lower(), rest.strip(), "\n".join(body) + "\n", heading)
        if lang is None or block.lang == lang:
            blocks.append(block)
        i = j + 1
    return blocks


def headings(path: Path) -> list[str]:
    """The document's headings in order, outside code blocks."""
    found: list[str] = []
    inside = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            inside = not inside
            continue
        match = _HEADING.match(line)
        if match and not inside:
            found.append(match.group(2))
    return found
