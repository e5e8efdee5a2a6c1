"""The `mockzoho` commands that drive a running server's control API (reset, requests, fault, stubs, token)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Mapping

from ..config import DEFAULT_URL, URL_VARIABLE, http_url, variable
from .access_log import one_line
from .client import AdminClient, AdminClientError, problem_places

# The flags that say which calls a fault hits and what it does (all None when not given, even --drop): none of
# them goes with --list or --clear.
FAULT_FLAGS = ("product", "method", "path", "token", "code", "status", "body", "delay_ms", "drop", "times",
               "probability", "seed")

# How to point a control command at another server, by where its URL came from.
ELSEWHERE = {"--url": "", URL_VARIABLE: f" That URL is ${URL_VARIABLE}: give another with --url URL or by changing it.",
             "default": f" That is the default URL: give another with --url URL or {URL_VARIABLE}."}


# `mockzoho requests --follow`: the entries it shows first (as tail -f does), how often it asks for new ones,
# and how many it asks for at once (a fuller journal is read page after page, without a pause).
BACKLOG, POLL_SECONDS, PAGE = 10, 0.25, 1000
LISTED = 100  # what `mockzoho requests` lists by default


class UsageError(Exception):
    """A command line the CLI refuses itself, in its own terms, before it calls the server."""


class CommandFailed(Exception):
    """What the server answered kept the command from doing its work; said in the command's words (exit 1)."""


def run(command: Callable[[argparse.Namespace], Any], args: argparse.Namespace) -> int:
    """Run a control-API command: print its JSON answer, or say plainly, in flags, what went wrong."""
    try:
        answer = command(args)
    except UsageError as exc:
        print(f"mockzoho {args.command}: {exc}", file=sys.stderr)
        return 2
    except AdminClientError as exc:
        print(f"mockzoho {args.command}: {explained(exc, args)}", file=sys.stderr)
        return 2 if exc.status in (0, 401) else 1
    except CommandFailed as exc:
        print(f"mockzoho {args.command}: {exc}", file=sys.stderr)
        return 1
    if answer is None:  # the command printed what it had to say itself
        return 0
    if isinstance(answer, str):  # a document (YAML)
        sys.stdout.write(answer)
    elif isinstance(answer, list):
        for item in answer:
            print(json.dumps(item, ensure_ascii=False))
    else:
        print(json.dumps(answer, ensure_ascii=False))
    return 0


def explained(exc: AdminClientError, args: argparse.Namespace) -> str:
    """The client's error in one line, with what to do about it, and the fields it names as flags."""
    if exc.status == 0:
        return f"{exc}{ELSEWHERE[url_of(args)[1]]}"
    if exc.status == 401:
        return f"{exc}: pass --admin-token TOKEN or set MOCKZOHO_ADMIN_TOKEN"
    details = exc.body.get("details") if isinstance(exc.body, dict) else None
    return "; ".join(as_flags(details)) if isinstance(details, dict) else str(exc)


def as_flags(details: dict[str, Any]) -> list[str]:
    """The control API's problems by field (nested as its body is), each field named as its flag: the flags
    are named after the fields they set."""
    lines = []
    for name, problems in details.items():
        if isinstance(problems, dict):
            lines += as_flags(problems)
            continue
        text = " ".join(map(str, problems)) if isinstance(problems, list) else str(problems)
        lines.append(text if name == "_schema" else f"argument --{name.replace('_', '-')}: {text}")
    return lines


def url_of(args: argparse.Namespace) -> tuple[str, str]:
    """The server's URL, and where it came from: --url, MOCKZOHO_URL or the default."""
    if args.url:
        return args.url, "--url"
    if os.environ.get(URL_VARIABLE):
        return os.environ[URL_VARIABLE], URL_VARIABLE
    return DEFAULT_URL, "default"


def admin_client(args: argparse.Namespace) -> AdminClient:
    """A client of the server the command line names (argparse checked --url; the environment is checked here)."""
    url, source = url_of(args)
    try:
        http_url(url)
    except ValueError as exc:
        raise UsageError(f"{source}={url!r}: {exc}") from None
    return AdminClient(url, args.admin_token if args.admin_token is not None
                       else os.environ.get(variable("admin_token"), ""))


def reset(args: argparse.Namespace) -> Any:
    return admin_client(args).reset(args.org)


def requests_(args: argparse.Namespace) -> Any:
    filters = {"tag": args.tag, "org": args.org, "method": args.method, "path": args.path, "status": args.status,
               "code": args.code, "since": args.since}
    if args.json and not args.follow:
        raise UsageError("--json goes with --follow (the listing is JSON already)")
    client = admin_client(args)
    if args.count:
        return {"count": client.count(**filters)}
    if args.follow:
        return follow(client, filters, args.limit or BACKLOG, json_line if args.json else one_line)
    return client.requests(**filters, limit=args.limit or LISTED)


def json_line(entry: Mapping[str, Any]) -> str:
    return json.dumps(entry, ensure_ascii=False)


def follow(client: AdminClient, filters: dict[str, Any], backlog: int, show: Callable[[Any], str]) -> None:
    """Print the newest `backlog` matching entries, oldest first, then each new one as it is journaled, until
    Ctrl-C (a quiet end) or until the server stops answering."""
    try:
        shown = client.requests(**filters, limit=backlog)
        for entry in reversed(shown):
            print(show(entry), flush=True)
        last = shown[0]["id"] if shown else 0
        while True:
            time.sleep(POLL_SECONDS)
            last = poll(client, filters, last, show)
    except KeyboardInterrupt:
        return


def poll(client: AdminClient, filters: dict[str, Any], last: int, show: Callable[[Any], str]) -> int:
    """Print the matching entries journaled after entry `last`; the id to ask after next time."""
    try:
        while True:
            page = client.requests(**filters, after=last, order="asc", limit=PAGE)
            for entry in page:
                print(show(entry), flush=True)
            if page:
                last = page[-1]["id"]
            if len(page) < PAGE:
                break
        if page or not last:
            return last
        newest = client.requests(limit=1)
    except AdminClientError as exc:
        details = exc.body.get("details") if isinstance(exc.body, dict) else None
        if exc.status == 0:
            raise CommandFailed(f"the server stopped answering: {exc}") from None
        if isinstance(details, dict) and {"after", "order"} & set(details):
            raise CommandFailed(f"the journal at {client.url} cannot be followed: it takes no `after` and `order` "
                               "(an older mockzoho)") from None
        raise
    # Ids start from 1 again once the journal is emptied (a reset): what it holds now came since.
    return 0 if not newest or newest[0]["id"] < last else last


def fault(args: argparse.Namespace) -> Any:
    if args.list or args.clear:
        given = [f"--{name.replace('_', '-')}" for name in FAULT_FLAGS if getattr(args, name) is not None]
        if given:
            raise UsageError(f"--{'list' if args.list else 'clear'} takes no fault flags but --org, "
                             f"not {', '.join(given)}")
        client = admin_client(args)
        return client.faults(args.org) if args.list else {"deleted": client.clear_faults(args.org)}
    spec = fault_spec(args)
    return {"id": admin_client(args).add_fault(spec)}


def fault_spec(args: argparse.Namespace) -> dict[str, Any]:
    """The control API's fault from the flags (argparse kept apart the flags that exclude each other)."""
    if args.code is None and args.status is None and not args.drop and args.delay_ms is None:
        raise UsageError("say what the fault does: --code CODE, --status N [--body JSON], --delay-ms MS or --drop "
                         "(or --list, --clear)")
    if args.body is not None and args.status is None:
        raise UsageError("--body goes with --status (a --code answers in its own envelope)")
    if args.seed is not None and args.probability is None:
        raise UsageError("--seed goes with --probability")
    match = {"product": args.product, "method": args.method, "path": args.path, "org": args.org,
             "token": args.token}
    respond = None
    if args.code is not None:
        respond = {"code": args.code}
    elif args.status is not None:
        respond = {"status": args.status, "body": json_value(args.body, "--body")}
    spec = {"match": {k: v for k, v in match.items() if v is not None}, "respond": respond,
            "delay_ms": args.delay_ms, "drop": args.drop, "times": args.times,
            "probability": args.probability, "seed": args.seed}
    return {k: v for k, v in spec.items() if v is not None}


def json_value(text: str | None, flag: str) -> Any:
    """The JSON value of a flag (none: null)."""
    try:
        return None if text is None else json.loads(text)
    except ValueError as exc:
        raise UsageError(f"argument {flag}: JSON is needed ({exc})") from None


# What a stub's POST body holds, which a fixtures file's `stubs:` takes as it is; `id`, `hits`, `remaining`
# and `source` are the server's.
STUB_FIELDS = ("match", "respond", "org", "times", "auth")


def stubs(args: argparse.Namespace) -> Any:
    if args.org is not None and (args.add is not None or args.remove is not None):
        raise UsageError("--org goes with --list, --clear or --export (a stub's own org is in its JSON)")
    if args.add is not None:
        return {"id": add_stub(admin_client(args), stub_json(args.add))}
    client = admin_client(args)
    if args.remove is not None:
        client.remove_stub(args.remove)
        return {"deleted": 1}
    if args.clear:
        return {"deleted": client.clear_stubs(args.org)}
    listed = client.stubs(args.org)
    return listed if args.list else fixtures_yaml(listed)


def stub_json(text: str) -> Any:
    """The stub --add gives: JSON, or @FILE (@- for stdin) that holds it."""
    if text.startswith("@"):
        name = text[1:]
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeError) as exc:
            raise UsageError(f"argument --add: cannot read {name}: {getattr(exc, 'strerror', None) or exc}") from None
    return json_value(text, "--add")


def add_stub(client: AdminClient, spec: Any) -> int:
    """Add the stub; what the server refuses in it is named by its place in the JSON, not as a flag."""
    try:
        return client.add_stub(spec)
    except AdminClientError as exc:
        details = exc.body.get("details") if isinstance(exc.body, dict) else None
        if exc.status != 400 or not isinstance(details, dict):
            raise
        lines = [f"{place}: {text}" if place else text for place, text in problem_places(details).items()]
        raise CommandFailed(f"the stub does not fit: {'; '.join(lines)}") from None


def fixtures_yaml(listed: list[dict[str, Any]]) -> str:
    """The stubs as a fixtures file's top-level `stubs:` list (unset fields left out), e.g. to keep recorded ones."""
    import yaml  # only here: the other commands do without it

    kept = [{name: stub[name] for name in STUB_FIELDS if stub.get(name) is not None} for stub in listed]
    return yaml.safe_dump({"stubs": kept}, sort_keys=False, allow_unicode=True, width=120)


def token(args: argparse.Namespace) -> Any:
    return admin_client(args).mint_token(args.org, args.user, args.scopes, args.expires_in)
