"""What every request goes through before a family sees it: credentials werkzeug cannot decode, a declared
length no route would ever read, a chunked body past a route's cap, and a body stream that fails while it is
read. Each is the client's 4xx."""

from __future__ import annotations

import io
from typing import IO, Any, Callable, Iterator

from flask import Request, request
from werkzeug.datastructures import Authorization
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream

MAX_BODY_BYTES = 1 << 40  # 1 TiB: more than any route of any family takes (and well inside SQLite's integers)


class CappedStream(LimitedStream):
    """A chunked body bounded by a route's cap: werkzeug's own stream, read whole, stops at the cap without a
    word (and a form or JSON parser then takes the part it got); this one refuses a body that goes on past it."""

    def readall(self) -> bytes:
        data = super().readall()
        if self.is_exhausted and self._stream.read(1):
            raise RequestEntityTooLarge()
        return data


class MockzohoRequest(Request):
    """Flask's request, with an `Authorization` header werkzeug cannot decode read as no credentials, and a
    chunked body past the route's cap refused however it is read (`get_data`, a form, JSON)."""

    @cached_property
    def stream(self) -> IO[bytes]:
        cap = self.max_content_length
        if self.content_length is None and cap is not None and "wsgi.input_terminated" in self.environ:
            return CappedStream(self.environ["wsgi.input"], cap, is_max=True)  # what werkzeug builds, but capped
        return super().stream

    def get_data(self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False) -> Any:
        """The body; one read and kept earlier (for a stub's match) is still held to the route's cap."""
        kept = getattr(self, "_cached_data", None)
        if kept is not None and self.max_content_length is not None and len(kept) > self.max_content_length:
            raise RequestEntityTooLarge()
        data = super().get_data(cache, as_text, parse_form_data)
        if cache and kept is None and isinstance(getattr(self, "_cached_data", None), bytes):
            # A route that reads the stream itself (a Cosmos DB media upload) still finds the body there.
            self.__dict__["stream"] = io.BytesIO(self._cached_data)
        return data

    @property
    def authorization(self) -> Authorization | None:
        try:
            return super().authorization
        except ValueError:  # Basic credentials with bytes that are not ASCII, say: nothing to authenticate with
            return None


def refuse_undeliverable_length() -> None:
    """A declared body larger than any route takes is refused before any route (or state) sees the request."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise RequestEntityTooLarge()


class GuardedInput:
    """`wsgi.input` whose read failures (a malformed chunk, a connection gone mid-body) are the client's
    `400`: the server's parser raises its own exception types, which would otherwise surface as a 500."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def _guard(self, read: Callable[..., Any], *args: Any) -> Any:
        try:
            return read(*args)
        except BadRequest:
            raise
        except Exception as exc:  # whatever the server raised: the bytes it was sent are not a body
            raise BadRequest("the request body could not be read") from exc

    def read(self, size: int = -1) -> bytes:
        return self._guard(self._stream.read, size)

    def readline(self, size: int = -1) -> bytes:
        return self._guard(self._stream.readline, size)

    def readlines(self, hint: int = -1) -> list[bytes]:
        return self._guard(self._stream.readlines, hint)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")


class GuardInput:
    """WSGI middleware putting `GuardedInput` around every request's body stream."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if "wsgi.input" in environ:
            environ["wsgi.input"] = GuardedInput(environ["wsgi.input"])
        if environ.get("CONTENT_LENGTH"):
            # werkzeug then bounds the body by its declared length, as it should: told the server ends the
            # stream, it bounds it by the route's cap instead and refuses a body of exactly that size.
            environ.pop("wsgi.input_terminated", None)
        return self.wsgi_app(environ, start_response)

