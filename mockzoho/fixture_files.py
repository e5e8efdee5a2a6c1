"""Fixture files on disk: which files a path names, and the digest a seeded state remembers them by
(no parsing here, so that a restart on a seeded state needs neither YAML nor marshmallow)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable

SUFFIXES = (".yaml", ".yml", ".json")


def fixture_files(path: Path) -> list[Path]:
    """The fixture files a path names: the file itself, or every *.yaml, *.yml and *.json in the folder."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
    return [path]


def files_digest(files: Iterable[tuple[str, bytes]]) -> str:
    """The digest of fixture files by base name and bytes: what a seeded state remembers its fixtures by."""
    digest = hashlib.sha256()
    for name, raw in files:
        digest.update(Path(name).name.encode() + b"\0" + raw + b"\0")
    return digest.hexdigest()


def fixture_digest(path: Path) -> str | None:
    """The digest of the fixture files under `path`, without parsing them; None if unreadable."""
    try:
        return files_digest((file.name, file.read_bytes()) for file in fixture_files(path))
    except OSError:
        return None
