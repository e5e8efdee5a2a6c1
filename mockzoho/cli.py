"""The `mockzoho` command: serve the mock, check fixtures, read the docs, and drive a running server's control API."""

from __future__ import annotations

import argparse
import dataclasses
import os
import socket
import sys
import traceback
from importlib import resources
from pathlib import Path
from typing import Any, Callable, NoReturn, Sequence

from . import __version__
from .config import (DEFAULT_URL, HELP, TEN_YEARS, URL_VARIABLE, ZOHO_URL, SettingError, Settings, bundled_fixtures,
                     http_url, instant, stray_variables, variable)
from .exposure import CLI_REMEDY, local_url, refusal, shown
from .store import (LARGEST_INTEGER, SMALLEST_INTEGER, STATE_PROBLEMS, Store, remove_state, shown_location,
                    state_problem)
from .zoho.scopes import split_scopes


MAX_PORT = 65535
MAX_WORKERS = 64  # each is a process holding the whole app, all on one SQLite file: past this, only contention


def serve(args: argparse.Namespace) -> int:
    """Seed the state once, then run gunicorn with the requested workers."""
    if args.record and not (args.proxy_to or os.environ.get(variable("proxy_to"))):
        print(f"mockzoho serve: argument --record: needs --proxy-to URL (or {variable('proxy_to')}), the upstream "
              "to record from (see mockzoho serve --help)", file=sys.stderr)
        return 2
    try:
        settings = Settings.load({"state": args.state, "fixtures": args.fixtures, "admin_token": args.admin_token,
                                  "proxy_to": args.proxy_to, "record": args.record or None,
                                  "access_log": False if args.no_access_log else None})
    except SettingError as exc:  # from the environment: the flags' values are all usable
        print(f"mockzoho: {exc}", file=sys.stderr)
        return 2
    problem = host_problem(args.host, args.port, settings.admin_token)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    if args.fresh:
        remove_state(settings.state)
    try:
        seeder = None if state_is_seeded(settings) else seed_in_child(settings)
    except STATE_PROBLEMS as exc:
        print(state_problem(settings.state, exc), file=sys.stderr)
        return 1
    try:
        # Meanwhile (the seeding child has the other core): Flask, gunicorn and the routes.
        from .app import create_app
        from .server import Server
        if seeder is not None and not seeded_by(seeder):
            return 1
    except KeyboardInterrupt:  # the child got it too, and exits at once
        if seeder is not None:
            os.waitpid(seeder, 0)
        return 130
    try:
        app = create_app(settings)  # finds the state seeded: only builds the app
    except STATE_PROBLEMS as exc:
        print(state_problem(settings.state, exc), file=sys.stderr)
        return 1
    # SQLite handles must not cross a fork: each worker opens its own.
    app.extensions["mockzoho"].store.close()
    if settings.access_log:
        from .admin.access_log import to_stdout
        to_stdout()
    Server(app, {"bind": shown((args.host, args.port)), "workers": args.workers},
           on_ready=lambda arbiter: announce(args.host, arbiter.LISTENERS[0].getsockname()[1], settings)).run()
    return 0


def host_problem(host: str, port: int, admin_token: str) -> str | None:
    """Why serving on host must not start, judged on the addresses it resolves to (as gunicorn will bind them)
    before anything is seeded or bound; None if it may. gunicorn judges the sockets again once bound."""
    try:
        addresses = [info[4] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    except (socket.gaierror, UnicodeError) as exc:
        return f"mockzoho: --host {host!r} is not an address this machine can listen on ({exc})"
    return refusal(addresses, admin_token, CLI_REMEDY)


def announce(host: str, port: int, settings: Settings) -> None:
    """Say where the server listens, on the port it got (--port 0 takes any), and what to export when the
    control commands would look for it elsewhere."""
    print(f"mockzoho: http://{shown((host, port))}  state={shown_location(settings.state)}  "
          f"fixtures={settings.fixtures}", file=sys.stderr)
    url = local_url((host, port))
    if url != (os.environ.get(URL_VARIABLE) or DEFAULT_URL).rstrip("/"):
        print(f"mockzoho: for `mockzoho reset`, `requests`, `fault`, `stubs` and `token`: "
              f"export {URL_VARIABLE}={url}",
              file=sys.stderr)
    sys.stderr.flush()


def state_is_seeded(settings: Settings) -> bool:
    """True if the state file was seeded already (from these fixtures or others): nothing to fork for."""
    store = Store(settings.state)
    try:
        return store.seeded_digest() is not None
    finally:
        store.close()  # before any fork


def seed_in_child(settings: Settings) -> int:
    """Fork a child that seeds the state (YAML, marshmallow and SQLite work the server process then skips);
    its pid. It exits 1 after printing what is wrong with the fixtures or the state file."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        from .state import seeding_problem
        problem = seeding_problem(settings)
        if problem:
            print(problem, file=sys.stderr)
        code = 1 if problem else 0
    except KeyboardInterrupt:
        code = 130
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stderr.flush()
        os._exit(code)  # not a return: the parent's stack must not run twice


def seeded_by(seeder: int) -> bool:
    """Wait for the seeding child; True if it seeded. It says what went wrong itself, unless it was killed."""
    status = os.waitpid(seeder, 0)[1]
    if os.WIFSIGNALED(status):
        print(f"mockzoho: seeding the state was stopped by signal {os.WTERMSIG(status)}", file=sys.stderr)
    return status == 0


def check_fixtures(args: argparse.Namespace) -> int:
    """Validate a fixtures file or folder; print every problem; exit 1 on any."""
    from .fixtures import FixtureError, load_fixtures
    from .state import ZOHO_PRODUCTS

    try:
        fixtures = load_fixtures(Path(args.path), ZOHO_PRODUCTS)
    except FixtureError as exc:
        print("\n".join(exc.problems))
        print(f"{len(exc.problems)} problem(s) found")
        return 1
    records = sum(len(rs) for org in fixtures.orgs for rs in org.records.values())
    print(f"{args.path}: ok ({len(fixtures.orgs)} orgs, {records} records)")
    return 0


def docs_folder() -> Path:
    """The docs shipped inside the package (the repository's `docs/`)."""
    return Path(str(resources.files("mockzoho.docs")))


def show_docs(args: argparse.Namespace) -> int:
    """List the docs shipped with the package, or print one."""
    pages = {page.stem: page for page in sorted(docs_folder().glob("*.md"))}
    if args.name is None:
        list_docs(pages)
        return 0
    name = Path(args.name).name.removesuffix(".md")  # the README's `docs/fixtures.md` names `fixtures`
    if name not in pages:
        print(f"mockzoho docs: no doc {args.name!r}: one of {', '.join(pages)}", file=sys.stderr)
        return 2
    sys.stdout.write(pages[name].read_text(encoding="utf-8"))
    return 0


def list_docs(pages: dict[str, Path]) -> None:
    """One line per doc: its name, its title and where it is installed."""
    titles = {name: page.read_text(encoding="utf-8").partition("\n")[0].lstrip("# ") for name, page in pages.items()}
    name_width, title_width = max(map(len, pages)), max(map(len, titles.values()))
    for name, page in pages.items():
        print(f"{name:<{name_width}}  {titles[name]:<{title_width}}  {page}")
    print(f"(`mockzoho docs NAME` prints one; the bundled fixtures, a full example: {bundled_fixtures()})")


def control(name: str) -> Callable[[argparse.Namespace], int]:
    """The handler of a control-API command; its module loads only when one runs (urllib.request and
    http.client are 17 ms that `serve` would spend before it forks its seeder)."""
    def run(args: argparse.Namespace) -> int:
        from .admin import commands
        return commands.run(getattr(commands, name), args)
    return run


class Parser(argparse.ArgumentParser):
    """argparse, refusing a command line in one line that names what is wrong; the usage is one --help away."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def within(low: float, high: float, number: Callable[[str], float] = int) -> Callable[[str], Any]:
    """An argparse type: a number (whole, unless `number` is float) from `low` to `high`."""
    kind = "a whole number" if number is int else "a number"

    def parse(text: str) -> Any:
        try:
            value = number(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:  # NaN is not within anything either
            raise argparse.ArgumentTypeError(f"{kind} from {low} to {high} is needed, not {text!r}")
        return value
    return parse


def server_url(text: str, example: str = DEFAULT_URL) -> str:
    """An argparse type: the URL of a running server."""
    try:
        return http_url(text, example)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}, not {text!r}") from None


def upstream_url(text: str) -> str:
    """An argparse type: the URL of the API to proxy to."""
    return server_url(text, ZOHO_URL)


def iso_time(text: str) -> str:
    """An argparse type: an ISO 8601 date-time (one without an offset is UTC, as the control API takes it)."""
    try:
        instant(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"an ISO 8601 date-time is needed, e.g. 2027-01-01T00:00:00Z, not {text!r}"
                                         ) from None
    return text


def scope_list(text: str) -> list[str]:
    """An argparse type: scopes, separated by commas (or spaces)."""
    scopes = split_scopes(text)
    if not scopes:
        raise argparse.ArgumentTypeError("a comma-separated list of scopes is needed, e.g. ZohoCRM.modules.ALL")
    return scopes


def environment_help() -> str:
    """The serve command's epilog: every MOCKZOHO_* variable, what it sets and its default."""
    lines = ["environment (a flag, where there is one, wins over its variable):"]
    for setting in dataclasses.fields(Settings):
        default = str(setting.default).lower() if isinstance(setting.default, bool) else str(setting.default)
        # An empty or computed default is said in HELP's own words.
        said = "" if setting.default in ("", dataclasses.MISSING) else f" (default: {default})"
        lines.append(f"  {variable(setting.name):<26} {HELP[setting.name]}{said}")
    return "\n".join(lines)


def parser() -> Parser:
    """The command-line grammar."""
    root = Parser(prog="mockzoho", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                  epilog="Each command's flags: mockzoho COMMAND --help. The docs (the control API, the fixture "
                         "format,\nthe fidelity decisions) come with the package: `mockzoho docs` lists them.")
    root.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_serve(commands)
    check = commands.add_parser("check-fixtures", help="validate fixtures and list every problem")
    check.add_argument("path", metavar="PATH", help="a fixtures file or folder")
    check.set_defaults(handler=check_fixtures)
    docs = commands.add_parser("docs", help="list the docs that come with the package, or print one")
    docs.add_argument("name", metavar="NAME", nargs="?", help="the doc to print, e.g. fixtures (default: list them)")
    docs.set_defaults(handler=show_docs)
    add_control_commands(commands)
    return root


def add_serve(commands: argparse._SubParsersAction) -> None:
    """`mockzoho serve` and its flags; the environment it reads in its epilog."""
    run = commands.add_parser("serve", help="serve the mock under gunicorn", epilog=environment_help(),
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("--host", default="127.0.0.1",
                     help="the address to listen on; any but loopback needs --admin-token (default: %(default)s)")
    run.add_argument("--port", type=within(0, MAX_PORT), default=8000,
                     help="the TCP port; 0 takes a free one, printed once bound (default: %(default)s)")
    run.add_argument("--workers", metavar="N", type=within(1, MAX_WORKERS), default=2,
                     help=f"gunicorn worker processes, 1 to {MAX_WORKERS} (default: %(default)s)")
    run.add_argument("--state", metavar="PATH|URL", help="the SQLite state file, or a postgresql://user:pass@host/db "
                     f"URL that several hosts share (default: $MOCKZOHO_STATE or {Settings.state})")
    run.add_argument("--fixtures", metavar="PATH", help="the fixtures file or folder that seeds a new state "
                                                        "(default: $MOCKZOHO_FIXTURES or the bundled ones)")
    run.add_argument("--fresh", action="store_true", help="discard the state and seed it from the fixtures again")
    run.add_argument("--admin-token", metavar="TOKEN", help="require `Authorization: Bearer TOKEN` on the control "
                                                            "API (default: $MOCKZOHO_ADMIN_TOKEN, or none)")
    run.add_argument("--proxy-to", metavar="URL", type=upstream_url,
                     help=f"proxy calls to this upstream, e.g. {ZOHO_URL}, as docs/admin-api.md says "
                          "(default: $MOCKZOHO_PROXY_TO, or none)")
    run.add_argument("--record", action="store_true",
                     help="keep what the upstream answers as stubs, to answer again without it; needs --proxy-to "
                          "(default: $MOCKZOHO_RECORD)")
    run.add_argument("--no-access-log", action="store_true",
                     help="print no line on stdout per API call (default: $MOCKZOHO_ACCESS_LOG, or print them)")
    run.set_defaults(handler=serve)


def add_control_commands(commands: argparse._SubParsersAction) -> None:
    """The commands that drive a running server, each with --url and --admin-token."""
    def client_command(name: str, help_text: str, handler: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--url", type=server_url, help=f"the server (default: ${URL_VARIABLE} or {DEFAULT_URL})")
        sub.add_argument("--admin-token", metavar="TOKEN",
                         help="the token the server was started with (default: $MOCKZOHO_ADMIN_TOKEN)")
        sub.set_defaults(handler=control(handler))
        return sub

    sub = client_command("reset", "put a running server back to its fixtures", "reset")
    sub.add_argument("--org", help="only this org (default: everything: every org, the clock, journal, faults and "
                                   "limits; clones removed)")
    sub = client_command("requests", "list (or count) the requests a running server journaled, newest first",
                         "requests_")
    sub.add_argument("--tag", help="only requests sent with `X-Mockzoho-Tag: TAG` (default: any)")
    sub.add_argument("--org", help="only this org's requests (default: any)")
    sub.add_argument("--method", help="only this HTTP method, e.g. DELETE (default: any)")
    sub.add_argument("--path", metavar="GLOB", help="only paths this glob matches, e.g. '/crm/*' (default: any)")
    sub.add_argument("--status", metavar="N", type=within(0, 999),
                     help="only answers with this HTTP status; 0: a dropped connection (default: any)")
    sub.add_argument("--code", help="only answers with this error code, e.g. INVALID_TOKEN (default: any)")
    sub.add_argument("--since", metavar="TIME", type=iso_time,
                     help="only calls journaled at or after this ISO time, e.g. 2027-01-01T00:00:00Z, on the "
                          "server's clock (default: any)")
    sub.add_argument("--limit", metavar="N", type=within(1, 100_000),
                     help="list at most N, 1 to 100000 (default: 100; with --follow, the last 10 first)")
    how = sub.add_mutually_exclusive_group()
    how.add_argument("--count", action="store_true", help="print how many match instead of listing them")
    how.add_argument("--follow", action="store_true",
                     help="print the last matching calls, then each new one as it comes, a readable line each, "
                          "until Ctrl-C")
    sub.add_argument("--json", action="store_true",
                     help="with --follow: print each call as the JSON the listing prints instead")
    add_fault_flags(client_command("fault", "set, list or clear faults on a running server", "fault"))
    add_stub_flags(client_command("stubs", "list, add, remove, clear or export the stubs of a running server",
                                  "stubs"))
    sub = client_command("token", "mint an access (and refresh) token on a running server", "token")
    sub.add_argument("--org", required=True, help="the org the token is for")
    sub.add_argument("--user", metavar="ID", required=True, help="the user (an id of the org's) the token acts as")
    sub.add_argument("--scopes", metavar="LIST", type=scope_list, required=True,
                     help="comma-separated scopes, e.g. ZohoCRM.modules.ALL,ZohoCRM.users.READ")
    sub.add_argument("--expires-in", metavar="SECONDS", type=within(1, TEN_YEARS), default=3600,
                     help=f"the access token's lifetime, 1 to {TEN_YEARS} (default: %(default)s)")


def add_stub_flags(sub: argparse.ArgumentParser) -> None:
    """`mockzoho stubs`: one of its actions, and the org they are about."""
    action = sub.add_mutually_exclusive_group(required=True)
    action.add_argument("--list", action="store_true", help="list the stubs, with their hits and what remains of "
                                                            "their times")
    action.add_argument("--add", metavar="JSON", help="add a stub, as POST /__admin/stubs takes it "
                                                      "(docs/admin-api.md); @FILE reads it from a file, @- from stdin")
    action.add_argument("--remove", metavar="ID", type=within(1, LARGEST_INTEGER), help="remove the stub of this id")
    action.add_argument("--clear", action="store_true", help="remove every stub (only --org's, with --org)")
    action.add_argument("--export", action="store_true",
                        help="print the stubs as a fixtures file's `stubs:` (YAML), to keep what --record recorded")
    sub.add_argument("--org", help="with --list, --clear or --export: only this org's stubs (default: every org's)")


def add_fault_flags(sub: argparse.ArgumentParser) -> None:
    """`mockzoho fault`'s flags, in groups; argparse keeps apart those that exclude each other."""
    which = sub.add_argument_group("which calls it hits (default: every call)")
    # The journaled families (a test holds this to the registry, which the CLI does not import: it loads Flask).
    which.add_argument("--product", choices=("crm", "bigin", "accounts", "cosmos"), help="only calls to this API")
    which.add_argument("--method", help="only calls with this HTTP method, e.g. DELETE")
    which.add_argument("--path", metavar="GLOB", help="only calls to paths this glob matches, e.g. '/crm/*'")
    which.add_argument("--org", help="only this org's calls (with --list or --clear: only its faults)")
    which.add_argument("--token", help="only calls with this access token")
    does = sub.add_argument_group("what it does (--code, --status or --drop, and/or --delay-ms)")
    action = does.add_mutually_exclusive_group()
    action.add_argument("--code", help="answer with this Zoho or Cosmos DB error, e.g. INTERNAL_ERROR, TooManyRequests")
    action.add_argument("--status", metavar="N", type=within(100, 599), help="answer with this HTTP status, 100 to 599")
    action.add_argument("--drop", action="store_true", default=None, help="close the connection without an answer")
    does.add_argument("--body", metavar="JSON", help="the body of the --status answer (default: none)")
    does.add_argument("--delay-ms", metavar="MS", type=within(0, 60_000),
                      help="wait MS milliseconds, 0 to 60000, before answering (alone: then answer as usual)")
    often = sub.add_argument_group("how often (default: on every call it hits, until cleared)")
    times = often.add_mutually_exclusive_group()
    times.add_argument("--times", metavar="N", type=within(1, LARGEST_INTEGER), help="only on the next N calls")
    times.add_argument("--probability", metavar="P", type=within(0, 1, float),
                       help="on each call with probability P, 0 to 1")
    often.add_argument("--seed", metavar="N", type=within(SMALLEST_INTEGER, LARGEST_INTEGER),
                       help="the random seed of --probability: the same seed, the same calls hit (default: 0)")
    instead = sub.add_argument_group("instead").add_mutually_exclusive_group()
    instead.add_argument("--list", action="store_true", help="list the faults set, and how often each may still fire")
    instead.add_argument("--clear", action="store_true", help="remove every fault (only --org's, with --org)")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `mockzoho` console script."""
    args = parser().parse_args(argv)
    for warning in stray_variables(os.environ):
        print(f"mockzoho: warning: {warning}", file=sys.stderr)
    try:
        return args.handler(args)
    except BrokenPipeError:  # `mockzoho docs | head`: the reader left; Python's own recipe for a quiet exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
