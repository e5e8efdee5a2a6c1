"""The `mockzoho` commands that drive a running server's control API (reset, requests, fault, token)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Callable

from .client import AdminClient, AdminClientError


def run(command: Callable[[argparse.Namespace], Any], args: argparse.Namespace) -> int:
    """Run a control-API command: print its JSON answer, or say plainly what went wrong."""
    try:
        answer = command(args)
    except AdminClientError as exc:
        details = exc.body.get("details") if isinstance(exc.body, dict) else None
        print(f"mockzoho: {exc}" + (f": {json.dumps(details)}" if details else ""), file=sys.stderr)
        return 2 if exc.status in (0, 2, 401) else 1
    if isinstance(answer, list):
        for item in answer:
            print(json.dumps(item, ensure_ascii=False))
    else:
        print(json.dumps(answer, ensure_ascii=False))
    return 0


def admin_client(args: argparse.Namespace) -> AdminClient:
    url = args.url or os.environ.get("MOCKZOHO_URL", "http://127.0.0.1:8000")
    if not url.startswith(("http://", "https://")):
        raise AdminClientError(2, f"{url!r} is not a URL: give it with http:// (e.g. http://127.0.0.1:8000)")
    return AdminClient(url, args.admin_token if args.admin_token is not None
                       else os.environ.get("MOCKZOHO_ADMIN_TOKEN", ""))


def reset(args: argparse.Namespace) -> Any:
    return admin_client(args).reset(args.org)


def requests_(args: argparse.Namespace) -> Any:
    filters = {"tag": args.tag, "org": args.org, "method": args.method, "path": args.path, "status": args.status,
               "code": args.code}
    client = admin_client(args)
    if args.count:
        return {"count": client.count(**filters)}
    return client.requests(**filters, limit=args.limit)


def fault(args: argparse.Namespace) -> Any:
    client = admin_client(args)
    if args.list:
        return client.faults(args.org)
    if args.clear:
        return {"deleted": client.clear_faults(args.org)}
    match = {k: v for k, v in {"product": args.product, "method": args.method, "path": args.path,
                               "org": args.org, "token": args.token}.items() if v is not None}
    spec: dict[str, Any] = {"match": match}
    if args.code:
        spec["respond"] = {"code": args.code}
    elif args.status:
        try:
            body = json.loads(args.body) if args.body else None
        except ValueError as exc:
            raise AdminClientError(400, f"--body is not JSON: {exc}") from None
        spec["respond"] = {"status": args.status, "body": body}
    if args.delay_ms:
        spec["delay_ms"] = args.delay_ms
    if args.drop:
        spec["drop"] = True
    if args.times:
        spec["times"] = args.times
    if args.probability is not None:
        spec.update(probability=args.probability, seed=args.seed)
    return {"id": client.add_fault(spec)}


def token(args: argparse.Namespace) -> Any:
    return admin_client(args).mint_token(args.org, args.user, args.scopes.replace(",", " ").split(), args.expires_in)
