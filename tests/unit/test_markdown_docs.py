"""The docs tests' block reader finds what CommonMark would, and refuses an unclosed fence."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.markdown_docs import fenced_blocks, headings

DOC = """# Deploying

Text.

```yaml title=appspec.yml
version: 0.0
```

## Wiring

````sh
aws deploy create-deployment \\
  --application-name shop
```
still inside: a shorter fence does not close it
````

```
plain
```
"""


def test_blocks_carry_language_info_heading_and_line(tmp_path: Path) -> None:
    doc = tmp_path / "d.md"
    doc.write_text(DOC)
    blocks = fenced_blocks(doc)
    assert [(b.lang, b.info, b.heading, b.line) for b in blocks] == [
        ("yaml", "title=appspec.yml", "Deploying", 5),
        ("sh", "", "Wiring", 11),
        ("", "", "Wiring", 18),
    ]
    assert blocks[0].text == "version: 0.0\n"
    assert "still inside" in blocks[1].text
    assert [b.lang for b in fenced_blocks(doc, lang="sh")] == ["sh"]
    assert headings(doc) == ["Deploying", "Wiring"]


def test_an_unclosed_fence_fails_loudly(tmp_path: Path) -> None:
    doc = tmp_path / "d.md"
    doc.write_text("# T\n\n```yaml\nkey: value\n")
    with pytest.raises(AssertionError, match="never closed"):
        fenced_blocks(doc)
