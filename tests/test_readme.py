"""The README's copy-paste blocks, run as they stand against real servers; compose.yaml, the `docker run` line and
the CI jobs, checked against the Dockerfile (Docker itself is not run)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import requests
import yaml

from mockzoho.config import Settings

from conftest import REPO, SEED_TOKEN, auth
from servers import Server, free_port, serve_command

README = (REPO / "README.md").read_text()
DEFAULT_URL = "http://127.0.0.1:8000"  # where the README's `mockzoho serve` listens
LIFECYCLE_MARKER = "<!-- the lifecycle script: tests/test_readme.py runs this block as it stands -->"
LIFECYCLE_RECORD = "/crm/v8/Leads/2883756000000261101/Attachments"
STATE_VOLUME = "mockzoho-state"  # the named volume of the `docker run` line and of compose.yaml

needs_curl = pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None,
                                reason="the README's blocks need curl and bash (.ci/run installs curl)")


# -- reading the README and the Dockerfile ------------------------------------------------------

@dataclass(frozen=True)
class Block:
    """A fenced block: its info string (`bash`, `yaml`...), its text, the line just above its fence, and the
    README's line numbers (from 0) of its opening and closing fences."""

    info: str
    text: str
    above: str
    start: int
    end: int


def blocks(markdown: str = README) -> list[Block]:
    found, lines, i = [], markdown.splitlines(), 0
    while i < len(lines):
        if lines[i].startswith("```"):
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            above = next((line for line in reversed(lines[:i]) if line.strip()), "")
            found.append(Block(lines[i][3:].strip(), "\n".join(lines[i + 1:end]) + "\n", above, i, end))
            i = end
        i += 1
    return found


def lifecycle_script() -> str:
    [script] = [b.text for b in blocks() if b.above == LIFECYCLE_MARKER]
    return script


@dataclass(frozen=True)
class Command:
    """One curl command of a block (continuation lines joined), and the answer the README shows under it."""

    line: str
    shown: str | None


def curl_commands(block: Block) -> list[Command]:
    commands: list[Command] = []
    lines = block.text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if not line.startswith("curl "):
            i += 1
            continue
        while line.endswith("\\"):
            i += 1
            line = line[:-1].rstrip() + " " + lines[i].strip()
        i += 1
        shown = lines[i].strip() if i < len(lines) and lines[i].startswith("{") else None
        commands.append(Command(line, shown))
    return commands


def serve_line(block: Block) -> tuple[dict[str, str], list[str]] | None:
    """The environment and flags of a shell block's own `[VAR=value ...] .venv/bin/mockzoho serve ...` line."""
    if block.info not in ("", "bash"):
        return None
    for line in (line for line in block.text.splitlines() if "mockzoho serve" in line):
        words = shlex.split(line, comments=True)
        if "serve" in words and words[words.index("serve") - 1].endswith("mockzoho"):
            return dict(w.split("=", 1) for w in words[:words.index("serve") - 1]), words[words.index("serve") + 1:]
    return None


def aimed(text: str, url: str) -> str:
    """The README's text with its default address replaced by a test server's."""
    text = text.replace(DEFAULT_URL, url).replace("localhost:8000", url.removeprefix("http://"))
    assert ":8000" not in text, text
    return text


def matches_shown(answer: str, shown: str) -> bool:
    """`...` in the README's answer stands for anything."""
    return re.fullmatch(".*?".join(map(re.escape, shown.split("..."))), answer) is not None


def dockerfile() -> dict[str, str]:
    """The Dockerfile's instructions (continuation lines joined), by name; the last one of a name wins."""
    found: dict[str, str] = {}
    text = re.sub(r"\\\n\s*", " ", (REPO / "Dockerfile").read_text())
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, rest = line.strip().partition(" ")
            found[name] = rest.strip()
    return found


def healthcheck() -> tuple[dict[str, str], list[str]]:
    """The Dockerfile's HEALTHCHECK: its options (`interval`: `10s`...) and its CMD."""
    options, _, cmd = dockerfile()["HEALTHCHECK"].partition(" CMD ")
    return dict(o.removeprefix("--").split("=", 1) for o in options.split()), json.loads(cmd)


def image_port() -> int:
    [port] = dockerfile()["EXPOSE"].split()
    return int(port)


def image_volume() -> str:
    [volume] = json.loads(dockerfile()["VOLUME"])
    return volume


# -- running them ------------------------------------------------------------------------------

@contextmanager
def serving(tmp_path: Path, *flags: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """`mockzoho serve` with these flags, on a free port and a state of its own."""
    port = free_port()
    folder = tmp_path / f"server-{port}"
    folder.mkdir()
    argv = serve_command(*flags, "--port", str(port), "--state", str(folder / "state.db"))
    with Server(argv, port, env=env, cwd=folder) as server:
        yield server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with serving(tmp_path) as running:
        yield running


def run_curl(command: Command, url: str) -> tuple[int, str]:
    """Run one README curl command against `url`: the HTTP status and what curl printed."""
    argv = shlex.split(aimed(command.line, url), comments=True)
    done = subprocess.run([*argv, "-sS", "-w", "\n%{http_code}"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{command.line}\n{done.stderr}"
    printed, _, status = done.stdout.rpartition("\n")
    return int(status), printed


def journal(server: Server, path: str) -> list[dict]:
    """The journal's entries under a path, oldest first."""
    answer = requests.get(f"{server.url}/__admin/requests", params={"path": f"{path}*", "limit": 1000}, timeout=10)
    return list(reversed(answer.json()["requests"]))


# -- the lifecycle script -------------------------------------------------------------------------

def test_the_lifecycle_script_defaults_to_the_readme_server() -> None:
    script = lifecycle_script()
    assert "BASE=${MOCKZOHO_URL:-http://127.0.0.1:8000}" in script
    assert not re.search(r"<\w+>", script) and "report.pdf" not in script  # no placeholder, no missing file
    assert "!" not in script  # an interactive bash would expand it from its history


@needs_curl
def test_the_lifecycle_script_runs_as_pasted_and_as_a_script(server: Server, tmp_path: Path) -> None:
    script, cwd, home, tmp = (lifecycle_script(), *(tmp_path / name for name in ("cwd", "home", "tmp")))
    for folder in (cwd, home, tmp):
        folder.mkdir()
    env = {**os.environ, "MOCKZOHO_URL": server.url, "HOME": str(home), "HISTFILE": str(home / "history"),
           "TMPDIR": str(tmp)}
    # Pasted into an interactive shell (as a terminal sends it), then saved and run as a script.
    pasted = subprocess.run(["bash", "--norc", "--noprofile", "-i"], input=script + "exit $?\n", env=env,
                            cwd=cwd, capture_output=True, text=True, timeout=120)
    run = subprocess.run(["bash", "-c", script], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    ids = []
    for done in (pasted, run):
        assert done.returncode == 0, done.stdout + done.stderr
        [uploaded] = re.findall(r"^uploaded: (\d+)$", done.stdout, re.M)
        assert "downloaded: the exact bytes" in done.stdout and "listed again: 204" in done.stdout
        ids.append(uploaded)
    assert ids[0] != ids[1]
    # Each run in a new folder of its own, holding the file it made and the copy it downloaded.
    assert not list(cwd.iterdir())
    folders = list(tmp.iterdir())
    assert len(folders) == 2
    for folder in folders:
        assert (folder / "copy.txt").read_bytes() == (folder / "report.txt").read_bytes() != b""
    # What the server saw, twice: upload, list, download, delete, an empty list.
    entries = journal(server, LIFECYCLE_RECORD)
    seen = [(r["method"], r["path"].removeprefix(LIFECYCLE_RECORD), r["status"]) for r in entries]
    assert seen == [step for i in ids for step in (
        ("POST", "", 200), ("GET", "", 200), ("GET", f"/{i}", 200), ("DELETE", f"/{i}", 200), ("GET", "", 204))]
    uploads = [r for r in entries if r["method"] == "POST"]
    assert [r["body_preview"] for r in uploads] == ["file=report.txt"] * 2
    listed = requests.get(f"{server.url}{LIFECYCLE_RECORD}", params={"fields": "id"}, headers=auth(), timeout=10)
    assert listed.status_code == 204


# -- every other curl line ------------------------------------------------------------------------

def other_curl_blocks() -> list[Block]:
    return [b for b in blocks() if b.above != LIFECYCLE_MARKER and curl_commands(b)]


def test_every_readme_curl_line_outside_the_script_runs_alone() -> None:
    """Each runs as it is: no shell variable to set first, and every line that calls curl is one found here."""
    found = [c for b in other_curl_blocks() for c in curl_commands(b)]
    assert found
    assert not [c.line for c in found if "$" in c.line]
    calls = [line for b in blocks() if b.above != LIFECYCLE_MARKER for line in b.text.splitlines()
             if re.search(r"(^|[\s;&|(])curl\s", line)]
    assert len(calls) == len(found), calls


@needs_curl
def test_every_readme_curl_line_reaches_a_served_route_and_answers_as_shown(tmp_path: Path) -> None:
    """In README order, each block on the server it starts (`MOCKZOHO_COSMOS_VERIFY=false ... serve --fresh`) or on
    one started as the README's first command, seeded with the bundled fixtures."""
    problems: list[str] = []
    with serving(tmp_path) as default:
        for block in other_curl_blocks():
            own = serve_line(block)
            with serving(tmp_path, *own[1], env=own[0]) if own else nullcontext(default) as server:
                for command in curl_commands(block):
                    status, printed = run_curl(command, server.url)
                    if status >= 400:  # a 404 INVALID_URL_PATTERN first of all: a route that is not served
                        problems.append(f"{status} {command.line}\n{printed}")
                    elif command.shown is not None and not matches_shown(printed, aimed(command.shown, server.url)):
                        problems.append(f"{command.line}\nshown:  {command.shown}\nanswer: {printed}")
    assert not problems, "\n\n".join(problems)


@needs_curl
def test_a_sample_delete_sent_again_is_400_invalid_data(server: Server) -> None:
    [samples] = [b for b in other_curl_blocks() if "/Attachments/" in b.text and "-X DELETE" in b.text][:1]
    for command in curl_commands(samples):
        assert run_curl(command, server.url)[0] == 200
        status, printed = run_curl(command, server.url)
        assert (status, json.loads(printed)["code"]) == (400, "INVALID_DATA")


# -- the records examples -------------------------------------------------------------------------

RECORDS_MARKER = "<!-- the records examples: tests/test_readme.py runs these on the bundled fixtures -->"
# What each of the records examples does, in README order: a pattern its command line matches, and its status.
RECORDS_EXAMPLES = [
    ("insert", r'-X POST "[^"]*/crm/v8/Leads" ', 201),
    ("get", r'"[^"?]*/crm/v8/Deals/\d+" ', 200),
    ("list with fields", r'/crm/v8/Contacts\?fields=', 200),
    ("search by email", r'/crm/v8/Leads/search\?email=', 200),
    ("search by criteria", r'/crm/v8/Deals/search" --data-urlencode "criteria=', 200),
    ("upsert", r'-X POST "[^"]*/crm/v8/Leads/upsert" ', 200),
    ("related list", r'/crm/v8/Accounts/\d+/Deals\?fields=', 200),
    ("bigin related list", r'/bigin/v2/Accounts/\d+/Pipelines\?fields=', 200),
    ("coql", r'-X POST "[^"]*/crm/v8/coql" ', 200),
]


def records_examples() -> list[Command]:
    [block] = [b for b in blocks() if b.above == RECORDS_MARKER]
    return curl_commands(block)


def test_the_records_examples_cover_the_records_api() -> None:
    commands = records_examples()
    assert [next((name for name, pattern, _ in RECORDS_EXAMPLES if re.search(pattern, c.line)), c.line)
            for c in commands] == [name for name, _, _ in RECORDS_EXAMPLES]
    assert all(c.shown is not None for c in commands)  # each shows its answer (checked with the others' above)
    assert all(SEED_TOKEN in c.line for c in commands)


@needs_curl
def test_the_records_examples_answer_on_the_demo_data(server: Server) -> None:
    """Run alone on a fresh server: their statuses, and what the writes did to the data."""
    statuses = [run_curl(c, server.url)[0] for c in records_examples()]
    assert statuses == [status for _, _, status in RECORDS_EXAMPLES]
    # The upsert found Farah Haddad's lead by its email and changed it; the inserted lead is there to be found.
    lead = requests.get(f"{server.url}/crm/v8/Leads/2883756000000420002", headers=auth(), timeout=10).json()
    assert (lead["data"][0]["Full_Name"], lead["data"][0]["Lead_Status"]) == ("Farah Haddad", "Pre-Qualified")
    found = requests.get(f"{server.url}/crm/v8/Leads/search", params={"email": "iris@lighthouse-labs.example"},
                         headers=auth(), timeout=10).json()
    assert [r["Full_Name"] for r in found["data"]] == ["Iris Fairweather"]


# -- the Python snippets --------------------------------------------------------------------------

def python_snippet(contains: str) -> tuple[str, list[str]]:
    """The README's Python block with `contains`, and the lines it says it prints: the plain block right below
    it, or else the statuses in the `# 201` comments that end its print() calls."""
    found = blocks()
    [i] = [i for i, b in enumerate(found) if b.info == "python" and contains in b.text]
    code, after = found[i].text, found[i + 1] if i + 1 < len(found) else None
    if after is not None and after.info == "" and after.start == found[i].end + 2:
        return code, after.text.splitlines()
    return code, re.findall(r"\)\s+#\s*(\d{3})$", code, re.M)


@pytest.mark.parametrize("contains", ["Initializer.initialize", "def cosmos("], ids=["zoho-sdk", "cosmos-signed"])
def test_the_python_snippets_print_what_the_readme_says(server: Server, tmp_path: Path, contains: str) -> None:
    code, expected = python_snippet(contains)
    assert expected
    done = subprocess.run([sys.executable, "-c", aimed(code, server.url)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == expected


# -- Docker, Compose and CI: agreeing with the Dockerfile -----------------------------------------

def test_the_docker_run_line_uses_the_images_port_volume_and_token_variable() -> None:
    [line] = [line for b in blocks() for line in b.text.splitlines() if line.startswith("docker build")]
    build, run = (shlex.split(part) for part in line.split(" && "))
    assert build[:2] == ["docker", "build"] and build[-1] == "." and (REPO / "Dockerfile").exists()
    tag = build[build.index("-t") + 1]
    assert run[:2] == ["docker", "run"] and run[-1] == tag
    options: dict[str, str] = {}
    for flag, value in zip(run, run[1:]):
        options.setdefault(flag, value)
    port = image_port()
    assert options["-p"] == f"{port}:{port}"
    volume_name, volume_path = options["-v"].split(":")
    assert volume_path == image_volume() and volume_name == STATE_VOLUME
    assert options["-e"].split("=")[0] == "MOCKZOHO_ADMIN_TOKEN"
    assert "admin_token" in Settings.__dataclass_fields__  # MOCKZOHO_<field> is what Settings reads
    # The token it passes on comes from the line above it, which works as written.
    [export] = [line for b in blocks() if "docker build" in b.text for line in b.text.splitlines()
                if line.startswith("export MOCKZOHO_ADMIN_TOKEN=")]
    token = subprocess.run(["bash", "-c", f"{export} && echo \"$MOCKZOHO_ADMIN_TOKEN\""], capture_output=True,
                           text=True, timeout=30).stdout.strip()
    assert len(token) >= 24


def test_the_image_keeps_its_state_in_its_volume() -> None:
    state = dict(re.findall(r"(\w+)=(\S+)", dockerfile()["ENV"]))["MOCKZOHO_STATE"]
    assert Path(state).parent == Path(image_volume())


def test_compose_builds_the_dockerfile_with_its_port_volume_healthcheck_and_a_required_token() -> None:
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    [service] = compose["services"].values()
    assert service["build"] == "." and service["image"] == "mockzoho"
    port = image_port()
    assert service["ports"] == [f"{port}:{port}"]
    [volume] = service["volumes"]
    volume_name, volume_path = volume.split(":")
    assert volume_path == image_volume() and volume_name == STATE_VOLUME and volume_name in compose["volumes"]
    assert service["environment"] == {"MOCKZOHO_ADMIN_TOKEN": "${MOCKZOHO_ADMIN_TOKEN:?set MOCKZOHO_ADMIN_TOKEN}"}
    options, cmd = healthcheck()
    assert service["healthcheck"]["test"] == ["CMD", *cmd]
    assert {k.replace("-", "_"): v for k, v in options.items()} == {
        k: str(v) for k, v in service["healthcheck"].items() if k != "test"}
    assert f"http://127.0.0.1:{port}/__admin/health" in " ".join(cmd)


def test_the_hosts_compose_file_shares_one_state_between_two_hosts_behind_the_balancer() -> None:
    compose = yaml.safe_load((REPO / "compose.hosts.yaml").read_text())
    services = compose["services"]
    hosts = {name: s for name, s in services.items() if s.get("build") == "."}
    assert len(hosts) == 2 and len({s["environment"]["MOCKZOHO_STATE"] for s in hosts.values()}) == 1
    [state] = {s["environment"]["MOCKZOHO_STATE"] for s in hosts.values()}
    database = services["postgres"]["environment"]
    assert state == (f"postgresql://{database['POSTGRES_USER']}:{database['POSTGRES_PASSWORD']}@postgres:5432/"
                     f"{database['POSTGRES_DB']}")
    assert "--locale=C" in database["POSTGRES_INITDB_ARGS"]  # the collation mockzoho needs
    for service in hosts.values():
        assert service["environment"]["MOCKZOHO_ADMIN_TOKEN"] == "${MOCKZOHO_ADMIN_TOKEN:?set MOCKZOHO_ADMIN_TOKEN}"
        assert service["healthcheck"]["test"] == ["CMD", *healthcheck()[1]]
    port = image_port()
    assert services["balancer"]["ports"] == [f"{port}:{port}"]
    [mounted] = services["balancer"]["volumes"]
    balancer = (REPO / mounted.split(":")[0]).read_text()
    assert all(f"server {name}:{port};" in balancer for name in hosts) and f"listen {port};" in balancer
    assert "'/src[postgresql]'" in dockerfile()["RUN"]  # the image has the driver


def test_the_ci_jobs_agree_with_the_dockerfile() -> None:
    jobs = [yaml.safe_load(b.text)["jobs"]["test"] for b in blocks() if b.info == "yaml" and "jobs:" in b.text]
    assert len(jobs) == 2
    port, url = image_port(), f"http://127.0.0.1:{image_port()}"
    with_service, without_docker = jobs
    [service] = with_service["services"].values()
    assert "build" not in service and service["ports"] == [f"{port}:{port}"]
    assert service["env"]["MOCKZOHO_ADMIN_TOKEN"] == with_service["env"]["MOCKZOHO_ADMIN_TOKEN"]
    assert with_service["env"]["MOCKZOHO_URL"] == url
    assert without_docker["env"]["MOCKZOHO_URL"] == url and "services" not in without_docker
    [start] = [s["run"] for s in without_docker["steps"] if "mockzoho serve" in s.get("run", "")]
    assert f"{url}/__admin/health" in start and "&" in start


def test_the_healthcheck_passes_without_the_admin_token(tmp_path: Path) -> None:
    """The image's HEALTHCHECK (and so compose's) against a server that has an admin token."""
    _, cmd = healthcheck()
    with serving(tmp_path, "--admin-token", "readme-test-token") as server:
        probe = [sys.executable if cmd[0] == "python" else cmd[0], *(aimed(a, server.url) for a in cmd[1:])]
        assert subprocess.run(probe, capture_output=True, timeout=30).returncode == 0
        assert requests.get(f"{server.url}/__admin/requests", timeout=10).status_code == 401
