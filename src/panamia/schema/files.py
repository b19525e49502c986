"""Migration files on disk: their names, headers and checksums.

Shared by validation, the sum file, the ledger and deploy, so all of them agree on what
a migration is and what its checksum means.
"""

import ast
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

VERSIONS_DIR = Path(__file__).parent / "versions"
NAME = re.compile(r"^(?P<timestamp>\d{14})_(?P<slug>[a-z0-9]+(?:_[a-z0-9]+)*)$")
HEADER_LINE = re.compile(r"^(?P<key>[A-Z][A-Za-z -]*):(?P<value>.*)$")
REQUIRED_HEADERS = ("Migration", "Purpose", "Ticket", "Reversible")
REVERSIBLE_VALUES = ("Yes", "No", "Partial")
DATA_MIGRATION_VALUES = ("None", "Inline", "Separate script")
TICKET = re.compile(r"^(PANA-\d+|N/A)$")
LINT_ALLOW = re.compile(r"^Lint-Allow:\s*(?P<rule>\S+)\s+because\s+(?P<reason>\S.*)$")


def display(path: Path) -> str:
    """`path` relative to the working directory when it is under it, for messages."""
    return os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(path)


def checksum(content: bytes) -> str:
    """sha256 of the file with line endings normalized, so a CRLF checkout matches."""
    return hashlib.sha256(content.replace(b"\r\n", b"\n").replace(b"\r", b"\n")).hexdigest()


def parse_header(docstring: str) -> dict[str, str]:
    """`Key: value` lines of a docstring; indented lines continue the previous value."""
    headers: dict[str, str] = {}
    key = None
    for line in docstring.splitlines():
        match = HEADER_LINE.match(line)
        if match:
            key = match["key"].strip()
            headers.setdefault(key, "")
            value = match["value"].strip()
            headers[key] = f"{headers[key]}\n{value}".strip() if headers[key] else value
        elif key and line.startswith((" ", "\t")) and line.strip():
            headers[key] = f"{headers[key]}\n{line.strip()}".strip()
        elif not line.strip():
            key = None
    return headers


@dataclass
class MigrationFile:
    path: Path
    content: bytes
    docstring: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    revision: str | None = None
    down_revision: str | tuple[str, ...] | None = None

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def checksum(self) -> str:
        return checksum(self.content)

    @property
    def reversible(self) -> str | None:
        return self.headers.get("Reversible")

    @property
    def lint_allowances(self) -> dict[str, str]:
        """Rule id -> reason, from `Lint-Allow: <rule-id> because <reason>` header lines."""
        matches = (LINT_ALLOW.match(line) for line in self.docstring.splitlines())
        return {m["rule"]: m["reason"].strip() for m in matches if m}

    @classmethod
    def read(cls, path: Path) -> "MigrationFile":
        content = path.read_bytes()
        migration = cls(path=path, content=content)
        try:
            module = ast.parse(content)
        except SyntaxError:
            return migration
        migration.docstring = ast.get_docstring(module) or ""
        migration.headers = parse_header(migration.docstring)
        for node in module.body:
            # `revision = "…"`, or Alembic's own template's `revision: str = "…"`
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                try:
                    setattr(migration, target.id, ast.literal_eval(value))
                except ValueError:
                    pass
        return migration


def migration_files(directory: Path = VERSIONS_DIR) -> list[MigrationFile]:
    """Every migration in `directory`, oldest first (by file name: it starts with a timestamp)."""
    paths = sorted(directory.glob("*.py"))
    return [MigrationFile.read(p) for p in paths if p.name != "__init__.py"]
