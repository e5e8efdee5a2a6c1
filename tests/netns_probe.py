"""Run inside a fresh network namespace whose loopback interface also carries 192.0.2.1 (by
test_exposure.py): serve there the ways a user would and print, as one JSON line, what the control API did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import requests
from servers import Server, dockerfile_argv, dockerfile_command, dockerfile_env, serve_command

HOST = "192.0.2.1"
PORT = 8000  # the namespace is the probe's own: the image's port is free there


def refused(argv: list[str], env: dict[str, str]) -> list[object]:
    """Exit status and the `mockzoho:` line of a server that must not start."""
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    said = [line for line in done.stderr.splitlines() if line.startswith("mockzoho:")]
    return [done.returncode, said[0].partition(": anyone")[0] if said else done.stderr]


def control_api(server: Server, bearer: str = "") -> dict[str, object]:
    """What a caller beyond loopback sees: health's fields, and reset without (and with) the token."""
    seen: dict[str, object] = {"health": sorted(requests.get(f"{server.url}/__admin/health").json()),
                               "no_token": requests.post(f"{server.url}/__admin/reset").status_code}
    if bearer:
        seen["token"] = requests.post(f"{server.url}/__admin/reset",
                                      headers={"Authorization": f"Bearer {bearer}"}).status_code
    else:
        seen["api"] = requests.get(f"{server.url}/crm/v8/Leads/1/Attachments").json()["code"]
    return seen


def main(folder: Path) -> None:
    env = {**os.environ, **dockerfile_env(), "MOCKZOHO_STATE": str(folder / "data" / "state.db")}
    image = dockerfile_command(f"{HOST}:{PORT}")
    seen: dict[str, object] = {
        "image_without_token": refused(image, env),
        "serve_without_token": refused(serve_command("--host", HOST, "--port", str(PORT)), env)}
    with Server(image, PORT, env={**env, "MOCKZOHO_ADMIN_TOKEN": "s3cret"}, cwd=folder, host=HOST) as server:
        seen["image_with_token"] = control_api(server, "s3cret")
    # The image as Docker runs it: a network of its own, its CMD unchanged (0.0.0.0:8000), its HEALTHCHECK.
    with Server(dockerfile_command(), PORT, env={**env, "MOCKZOHO_ADMIN_TOKEN": "s3cret"}, cwd=folder, host=HOST) as server:
        seen["image_as_docker_runs_it"] = {**control_api(server, "s3cret"),
                                           "healthcheck": subprocess.run(dockerfile_argv("HEALTHCHECK"), env=env,
                                                                         timeout=30).returncode}
    plain = [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"{HOST}:{PORT}", "mockzoho.wsgi:app"]
    with Server(plain, PORT, env=env, cwd=folder, host=HOST) as server:
        seen["plain_gunicorn"] = control_api(server)
    print(json.dumps(seen))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
