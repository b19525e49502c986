"""The fenced blocks of docs/identity.md that the Auth.js app is built from."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "identity.md"


def doc_block(language: str, first_line: str | None = None) -> str:
    """The fenced block of docs/identity.md in `language` (whose first line is `first_line`)."""
    blocks = re.findall(rf"^```{language}\n(.*?)^```$", DOC.read_text(), re.M | re.S)
    found = [b for b in blocks if first_line is None or b.startswith(first_line + "\n")]
    assert len(found) == 1, f"docs/identity.md should have one ```{language} block {first_line}"
    return found[0]
