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
    assert {"mockzoho/zoho/routes.py", "mockzoho/wsgi.py", "mockzoho/__main__.py"} <= set(names)
    assert [n for n in names if n.endswith("/LICENSE")]
    assert not [n for n in names if n.startswith(("tests/", "fixtures/"))]


def test_python_m_mockzoho_and_its_version() -> None:
    from mockzoho import __version__

    for argv in ([sys.executable, "-m", "mockzoho", "--version"], [str(Path(sys.executable).parent / "mockzoho"),
                                                                   "--version"]):
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        assert (done.returncode, done.stdout) == (0, f"mockzoho {__version__}\n"), done.stderr
