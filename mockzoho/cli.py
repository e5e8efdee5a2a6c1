"""The `mockzoho` command: serve the mock under gunicorn, or check a fixtures file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from .app import PRODUCTS, create_app
from .config import Settings
from .fixtures import FixtureError, load_fixtures
from .server import Server
from .store import StateError, remove_state


def serve(args: argparse.Namespace) -> int:
    """Seed the state once, then run gunicorn with the requested workers."""
    settings = Settings.load({"state": args.state, "fixtures": args.fixtures})
    if args.fresh:
        remove_state(settings.state)
    try:
        app = create_app(settings)
    except FixtureError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 1
    except StateError as exc:
        print(exc, file=sys.stderr)
        return 1
    # SQLite handles must not cross a fork: each worker opens its own.
    app.extensions["mockzoho"]["store"].close()
    print(f"mockzoho: http://{args.host}:{args.port}  state={settings.state}  fixtures={settings.fixtures}",
          file=sys.stderr, flush=True)
    Server(app, {"bind": f"{args.host}:{args.port}", "workers": args.workers}).run()
    return 0


def check_fixtures(args: argparse.Namespace) -> int:
    """Validate a fixtures file or folder; print every problem; exit 1 on any."""
    try:
        fixtures = load_fixtures(Path(args.path), PRODUCTS)
    except FixtureError as exc:
        print("\n".join(exc.problems))
        print(f"{len(exc.problems)} problem(s) found")
        return 1
    records = sum(len(rs) for org in fixtures.orgs for rs in org.records.values())
    print(f"{args.path}: ok ({len(fixtures.orgs)} orgs, {records} records)")
    return 0


def parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    root = argparse.ArgumentParser(prog="mockzoho", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve the mock under gunicorn")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--workers", type=int, default=2)
    run.add_argument("--state", help="SQLite state file (default: $MOCKZOHO_STATE or ./.mockzoho/state.db)")
    run.add_argument("--fixtures", help="fixtures file or folder (default: $MOCKZOHO_FIXTURES or the bundled ones)")
    run.add_argument("--fresh", action="store_true", help="discard the state and start from the fixtures again")
    run.set_defaults(handler=serve)
    check = commands.add_parser("check-fixtures", help="validate fixtures and list every problem")
    check.add_argument("path")
    check.set_defaults(handler=check_fixtures)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `mockzoho` console script."""
    args = parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
