"""The installed package carries the bundled fixtures, so `mockzoho serve` works outside a checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import REPO


def test_wheel_contains_the_bundled_fixtures(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                    "-w", str(tmp_path), str(REPO)], check=True, capture_output=True)
    [wheel] = tmp_path.glob("mockzoho-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "mockzoho/bundled/demo.yaml" in names
    assert "mockzoho/zoho/routes.py" in names
    assert not [n for n in names if n.startswith(("tests/", "fixtures/"))]
