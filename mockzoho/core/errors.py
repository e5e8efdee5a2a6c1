"""The base of every family's error: it renders itself in its family's envelope."""

from __future__ import annotations

from typing import ClassVar, Mapping

from flask import Response
from werkzeug.exceptions import HTTPException


class ApiError(Exception):
    """An error a family answers in its own envelope; `from_http` and `internal` turn anything else into one."""

    # The codes a fault may answer with in this family's terms; None: any code (the accounts server's).
    CATALOGUE: ClassVar[Mapping[str, tuple[int, str]] | None] = None

    def response(self) -> Response:
        """The error as a complete answer."""
        raise NotImplementedError

    @classmethod
    def from_http(cls, exc: HTTPException) -> ApiError:
        """A client error werkzeug or Flask raised (404, 405, 413, 400...), in this family's terms."""
        raise NotImplementedError

    @classmethod
    def internal(cls) -> ApiError:
        """What this family answers for a bug: a 500 in its envelope, never a traceback."""
        raise NotImplementedError

    @classmethod
    def from_code(cls, code: str) -> ApiError:
        """The error a fault names by its code."""
        raise NotImplementedError

    @classmethod
    def has_code(cls, code: str) -> bool:
        """Whether a fault may answer this family's calls with `code`."""
        return cls.CATALOGUE is None or code in cls.CATALOGUE

    @staticmethod
    def throttled(response: Response) -> None:
        """Add what a 429 of this family carries besides its body (a fault's own 429 included)."""


class CatalogueError(ApiError):
    """An error made from one code of its family's catalogue (Zoho's, Cosmos DB's): the code alone is enough."""

    CATALOGUE: ClassVar[Mapping[str, tuple[int, str]]] = {}
    HTTP_CODES: ClassVar[Mapping[int, str]] = {}  # werkzeug's own HTTP errors, in the family's codes
    BAD_REQUEST: ClassVar[str]  # the code of any other client error
    INTERNAL: ClassVar[str]  # the code of a bug

    @classmethod
    def from_http(cls, exc: HTTPException) -> ApiError:
        return cls(cls.HTTP_CODES.get(exc.code or 400, cls.BAD_REQUEST))

    @classmethod
    def internal(cls) -> ApiError:
        return cls(cls.INTERNAL)

    @classmethod
    def from_code(cls, code: str) -> ApiError:
        return cls(code)
