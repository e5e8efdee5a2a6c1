"""The package as a user installs it: the wheel carries the bundled fixtures and the docs, and installed (not
editable) into a fresh venv it runs from any folder: `python -m mockzoho`, `mockzoho docs`, gunicorn, and the
pytest plugin under xdist."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import venv
import zipfile
from pathlib import Path
from typing import Callable

import pytest
import requests
from conftest import REPO, auth
from servers import UNUSED_PLUGINS, Server, free_port


def build_wheel(folder: Path) -> Path:
    """The wheel, built from a copy of the source: pip builds in the source tree, and two builds at once in
    the checkout (two xdist workers) would share its build/ folder."""
    source = folder / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__", "tests",
                                                                "bench"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(folder), str(source)],
                   check=True, capture_output=True)
    [wheel] = folder.glob("mockzoho-*.whl")
    return wheel


def made_once(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], object]) -> Path:
    """A folder `make` fills once for the whole run. Under xdist each worker is a session of its own, and each
    would build the wheel and a venv again: they take turns under a lock in the run's folder (their basetemps'
    parent), and the first to come makes it; one that failed half-way leaves it to be made again."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    folder, done = root / name, root / f"{name}.done"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed, whatever happens
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            done.touch()
    return folder


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    [built] = made_once(tmp_path_factory, "packaging-wheel", build_wheel).glob("mockzoho-*.whl")
    return built


def test_wheel_contains_the_bundled_fixtures_and_the_docs(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "mockzoho/bundled/demo.yaml" in names
    assert {"mockzoho/zoho/routes.py", "mockzoho/wsgi.py", "mockzoho/__main__.py"} <= set(names)
    assert [n for n in names if n.endswith("/LICENSE")]
    assert not [n for n in names if n.startswith(("tests/", "fixtures/", "docs/"))]
    docs = {f"mockzoho/docs/{page.name}" for page in (REPO / "docs").glob("*.md")}
    assert len(docs) == 4 and docs <= set(names)


def test_wheel_contains_every_package_of_the_source(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {str(p.parent.relative_to(REPO)) for p in (REPO / "mockzoho").rglob("__init__.py")}
    assert {"mockzoho", "mockzoho/zoho", "mockzoho/store"} <= packages
    assert {package for package in packages if f"{package}/__init__.py" not in names} == set()


def test_python_m_mockzoho_and_its_version() -> None:
    from mockzoho import __version__

    for argv in ([sys.executable, "-m", "mockzoho", "--version"], [str(Path(sys.executable).parent / "mockzoho"),
                                                                   "--version"]):
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        assert (done.returncode, done.stdout) == (0, f"mockzoho {__version__}\n"), done.stderr


def install(root: Path, wheel: Path) -> None:
    """A fresh venv at root/venv with the wheel installed into it (not editable). Its dependencies come from
    this venv's site-packages through a .pth line (no network); mockzoho itself only from the wheel."""
    venv.create(root / "venv")
    python = root / "venv" / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)],
                   check=True, capture_output=True)
    inner = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                           check=True, capture_output=True, text=True).stdout.strip()
    # A path line in a .pth is added to sys.path, but the .pth files there are not run: this venv's editable
    # hook for mockzoho stays out, and `import mockzoho` finds the wheel's copy first.
    (Path(inner) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """The venv the wheel is installed into (`install`), made once for the run: the tests only run it."""
    return made_once(tmp_path_factory, "packaging-venv", lambda root: install(root, wheel)) / "venv"


def in_venv(venv_dir: Path, *argv: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv_dir / "bin" / argv[0]), *argv[1:]], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def test_the_installed_wheel_runs_from_another_folder(installed: Path, tmp_path: Path) -> None:
    from mockzoho import __version__

    done = in_venv(installed, "python", "-c", "import mockzoho, mockzoho.bundled; print(mockzoho.__file__, "
                   "list(mockzoho.bundled.__path__)[0])", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert all(path.startswith(str(installed)) for path in done.stdout.split()), done.stdout
    for argv in (("python", "-m", "mockzoho", "--version"), ("mockzoho", "--version")):
        done = in_venv(installed, *argv, cwd=tmp_path)
        assert (done.returncode, done.stdout) == (0, f"mockzoho {__version__}\n"), done.stderr


def test_the_installed_wheel_lists_and_prints_its_docs(installed: Path, tmp_path: Path) -> None:
    done = in_venv(installed, "mockzoho", "docs", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    *pages, fixtures = done.stdout.splitlines()
    paths = [Path(line.split()[-1]) for line in pages]
    assert [path.name for path in paths] == ["admin-api.md", "architecture.md", "fidelity.md", "fixtures.md"]
    assert all(path.is_relative_to(installed) for path in paths) and str(installed) in fixtures
    done = in_venv(installed, "mockzoho", "docs", "fixtures", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, (REPO / "docs" / "fixtures.md").read_text()), done.stderr


def test_the_installed_wheel_under_gunicorn(installed: Path, tmp_path: Path) -> None:
    port = free_port()
    argv = [str(installed / "bin" / "python"), "-m", "gunicorn", "--config", "python:mockzoho.server", "--bind",
            f"127.0.0.1:{port}", "mockzoho.wsgi:app"]
    with Server(argv, port, env={"MOCKZOHO_STATE": str(tmp_path / "state.db")}, cwd=tmp_path) as server:
        health = requests.get(f"{server.url}/__admin/health", timeout=5).json()
        assert health["fixtures"].startswith(str(installed))  # the bundled fixtures, from the installed package
        assert requests.delete(f"{server.url}/crm/v8/Leads/2883756000000261075/Attachments/2883756000000261017",
                               headers=auth(), timeout=5).json()["data"][0]["code"] == "SUCCESS"


def test_the_installed_plugin_in_a_project_of_its_own_under_xdist(installed: Path, tmp_path: Path) -> None:
    (tmp_path / "test_project.py").write_text(textwrap.dedent("""
        import mockzoho
        import pytest
        import requests

        def test_it_is_the_installed_package():
            assert mockzoho.__file__.startswith(%r)

        @pytest.mark.parametrize("n", range(6))
        def test_an_org_each(mockzoho_server, mockzoho_org, n):
            url = mockzoho_server.url + "/crm/v8/Leads/2883756000000261075/Attachments/2883756000000261017"
            assert requests.delete(url, headers=mockzoho_org.headers()).json()["data"][0]["code"] == "SUCCESS"
            assert len(mockzoho_org.requests()) == 1
    """ % str(installed)))
    done = in_venv(installed, "python", "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider", *UNUSED_PLUGINS,
                   cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "7 passed" in done.stdout
