"""Records and attachments of one product as the API sees them: the rules, in Zoho's error terms."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, BinaryIO, Sequence

from ..store import Store, StoreConflict
from .actions import Action
from .auth import Principal
from .fields import Field
from .errors import ID_INVALID, MODULE_NOT_SUPPORTED, RECORD_NOT_DELETED, RELATED_ID_INVALID, ZohoError
from .links import is_link_url
from .paging import TOKEN_LIFETIME, Page, info, page_token
from .product import Module, Product
from .coql_models import CoqlModels
from .record_models import RecordModels
from .serialize import attachment_json, full_user_json, upload_details, zoho_time

BULK_LIMIT = 100
MAX_FILE_NAME = 255
REFUSED_EXTENSIONS = {".exe"}  # "All the file types except .exe" (v2 upload docs)
NO_FILE = "the request does not contain any file"
USER_TYPES = {"AllUsers", "ActiveUsers", "CurrentUser"}
READ = frozenset({"read"})
LINKED = "As it is a linked attachment, you can not download it"


@dataclass(frozen=True)
class Upload:
    """One uploaded file part: the name as sent, its declared content type, and its bytes."""

    file_name: str
    content_type: str | None
    stream: BinaryIO


@dataclass(frozen=True)
class Download:
    """What a download answers with: a stored blob, or `size` zero bytes for a fixture without content."""

    file_name: str
    content_type: str
    size: int
    source: Path | BinaryIO | None  # a file, or the bytes (None: the fixture gave no content)
    etag: str | None


def _file_error(message: str, status: int | None = None) -> ZohoError:
    return ZohoError("INVALID_DATA", message, {"param_name": "file"}, status)


def _carries_nothing(upload: Upload) -> bool:
    """True for a part without a file name or without a single byte; the stream is left at its start."""
    if not upload.file_name:
        return True
    empty = not upload.stream.read(1)
    upload.stream.seek(0)
    return empty


def parse_ids(values: Sequence[str]) -> list[str]:
    """Ids from one or more comma-separated `ids` parameters; REQUIRED_PARAM_MISSING or LIMIT_EXCEEDED."""
    ids = [part.strip() for value in values for part in value.split(",") if part.strip()]
    if not ids:
        raise ZohoError("REQUIRED_PARAM_MISSING", details={"param_name": "ids"})
    if len(ids) > BULK_LIMIT:
        raise ZohoError("LIMIT_EXCEEDED", details={"limit": BULK_LIMIT})
    return ids


class ZohoModels(RecordModels, CoqlModels):
    """One product's records and attachments, seen through a principal's scopes and profile."""

    def __init__(self, store: Store, product: Product) -> None:
        self.store = store
        self.base = product
        # The fixtures' generation and the product with its modules as then, replaced as one: a worker's threads
        # sync at once, and modules must never be taken for those of another generation.
        self._synced: tuple[int | None, Product] = (None, product)

    @property
    def product(self) -> Product:
        return self._synced[1]

    def sync(self, generation: int) -> None:
        """Take in the fixtures' modules again if they were replaced since this worker last looked."""
        if generation != self._synced[0]:
            self._synced = (generation, self.base.with_modules(
                Module(*row[:5], tuple(Field.from_spec(f, custom=True) for f in row[5]))
                for row in self.store.modules(self.base.name)))

    def authorize(self, principal: Principal, module_name: str, action: Action) -> Module:
        """The module, once the token's scopes and the user's profile allow `action` on it."""
        module = self.product.module(module_name)
        if module is None:
            raise ZohoError("INVALID_MODULE", details={"resource_path_index": 0})
        if not module.api_supported or (action.attachments and not module.attachments):
            raise ZohoError("INVALID_MODULE", MODULE_NOT_SUPPORTED, {"resource_path_index": 0})
        self.authorize_module(principal, module, action)
        return module

    def authorize_module(self, principal: Principal, module: Module, action: Action) -> None:
        """OAUTH_SCOPE_MISMATCH or NO_PERMISSION unless the token's scopes and the user's profile allow `action`
        on `module`."""
        if not principal.scopes.allows(self.product, module, action):
            raise ZohoError("OAUTH_SCOPE_MISMATCH")
        if not principal.may(action):
            raise ZohoError("NO_PERMISSION", action.denied_message, {"permissions": [action.permission_name]})

    def require_scope(self, principal: Principal, names: tuple[str, ...], ops: frozenset[str]) -> None:
        """OAUTH_SCOPE_MISMATCH unless the token holds `<service>.<name>.<op>` for one of `names`."""
        if not principal.scopes.grants(self.product, names, ops):
            raise ZohoError("OAUTH_SCOPE_MISMATCH")

    def users(self, principal: Principal, kind: str) -> dict[str, Any]:
        """`GET /users`: the caller alone (`CurrentUser`) or every user of the org."""
        if kind not in USER_TYPES:
            raise ZohoError("INVALID_DATA", details={"param_name": "type"})
        users = self.store.users(principal.org)
        if kind == "CurrentUser":
            users = [u for u in users if u.id == principal.user]
        return {"users": [full_user_json(u, principal.time_zone) for u in users],
                "info": {"per_page": 200, "count": len(users), "page": 1, "more_records": False}}

    def require_record(self, principal: Principal, module: Module, record_id: str, action: Action) -> None:
        """Check that the parent record of an attachment call exists and the user may act on it."""
        if self.store.record_module(principal.org, self.product.name, record_id) != module.api_name:
            raise ZohoError("INVALID_DATA", RELATED_ID_INVALID, {"resource_path_index": 1})
        if principal.restricted and not self.store.user_may_act(principal.org, principal.user, record_id):
            raise ZohoError("AUTHORIZATION_FAILED", action.unprivileged_message)

    def list_attachments(self, principal: Principal, record_id: str, version: str, fields: list[str] | None,
                         page: Page, now: int) -> dict[str, Any] | None:
        """One page of a record's attachments as `{"data","info"}`, or None when the page is empty."""
        window = page.window
        rows, more = window.cut(self.store.list_attachments(principal.org, self.product.name, record_id,
                                                            window.offset, window.rows_to_read))
        if not rows:
            return None
        tokens: tuple[str | None, str | None, str | None] = (None, None, None)
        if version in self.product.page_token_versions:
            expires = now + TOKEN_LIFETIME
            scope = f"{principal.org}/{self.product.name}/{record_id}"
            tokens = (page_token(Page(page.page + 1, page.per_page), scope, expires) if more else None,
                      page_token(Page(page.page - 1, page.per_page), scope, expires) if page.page > 1 else None,
                      zoho_time(expires, principal.time_zone) if more or page.page > 1 else None)
        data = [attachment_json(r, principal.org, self.product.name, principal.time_zone, fields) for r in rows]
        return {"data": data, "info": info(page, len(data), more, tokens)}

    def open_download(self, principal: Principal, record_id: str, attachment_id: str) -> Download | None:
        """Where the attachment's bytes are; None if there is no such attachment."""
        row = self.store.find_attachment(principal.org, self.product.name, record_id, attachment_id)
        if row is None:
            return None
        if row.link_url is not None:
            raise ZohoError("INVALID_DATA", LINKED)
        source = None if row.blob is None else self.store.blob_source(row.blob)
        return Download(row.file_name, row.content_type, row.size, source, row.blob)

    def upload(self, principal: Principal, record_id: str, files: list[Upload], link_url: str | None,
               title: str | None, max_bytes: int, now: int) -> dict[str, Any]:
        """Attach one file or one link to a checked record; the `details` of the success answer."""
        if link_url is not None:
            # Zoho's legacy SDK sends `files={'file': ''}` with every link: a part that carries no file.
            files = [f for f in files if not _carries_nothing(f)]
        if files and link_url is not None:
            raise ZohoError("INVALID_DATA", "either a file or an attachment link can be added, not both",
                            {"param_name": "attachmentUrl"})
        if link_url is not None:
            new_id = self._add_link(principal, record_id, link_url, title, now)
        else:
            new_id = self._add_file(principal, record_id, files, max_bytes, now)
        user = self.store.user(principal.org, principal.user)
        assert user is not None, "a token's user always exists"
        return upload_details(new_id, user, now, principal.time_zone)

    def _add_link(self, principal: Principal, record_id: str, link_url: str, title: str | None, now: int) -> str:
        if not is_link_url(link_url):
            raise ZohoError("INVALID_DATA", details={"param_name": "attachmentUrl"})
        if title is not None and (len(title) > MAX_FILE_NAME or "\0" in title):
            raise ZohoError("INVALID_DATA", details={"param_name": "title"})
        return self._add(principal, record_id, file_name=title or link_url, content_type="text/html",
                         staged=None, link_url=link_url, now=now)

    def _add_file(self, principal: Principal, record_id: str, files: list[Upload], max_bytes: int,
                  now: int) -> str:
        if not files or not files[0].file_name:
            raise ZohoError("REQUIRED_PARAM_MISSING", details={"param_name": "file"})
        if len(files) > 1:
            raise _file_error("only one file can be uploaded in a request")
        upload = files[0]
        name = upload.file_name
        if len(name) > MAX_FILE_NAME or "\0" in name:
            raise _file_error("invalid file name")
        # Windows drops trailing dots and spaces, so `x.exe.` is an .exe too.
        if PurePath(name.replace("\\", "/").rstrip(". ")).suffix.lower() in REFUSED_EXTENSIONS:
            raise _file_error("invalid file type", 415)
        staged = self.store.stage_blob(upload.stream)
        if staged.size == 0 or staged.size > max_bytes:
            staged.path.unlink(missing_ok=True)
            if staged.size == 0:
                raise _file_error(NO_FILE)
            raise ZohoError("FILE_SIZE_MORE_THAN_ALLOWED_SIZE")
        declared = upload.content_type if upload.content_type != "application/octet-stream" else None
        content_type = declared or mimetypes.guess_type(name)[0] or "application/octet-stream"
        return self._add(principal, record_id, file_name=name, content_type=content_type, staged=staged,
                         link_url=None, now=now)

    def _add(self, principal: Principal, record_id: str, **attachment: Any) -> str:
        try:
            return self.store.add_attachment(principal.org, self.product.name, record_id,
                                             user=principal.user, **attachment)
        except StoreConflict as conflict:
            if conflict.reason == "link":
                raise ZohoError("DUPLICATE_DATA", "Attachment link already exists",
                                {"param_name": "attachmentUrl"}) from None
            raise ZohoError("INVALID_DATA", RELATED_ID_INVALID, {"resource_path_index": 1}) from None

    def delete_attachment(self, principal: Principal, module: Module, record_id: str, attachment_id: str,
                          action: Action) -> None:
        """Delete one attachment; the record's errors first, then INVALID_DATA if the attachment is not there.

        The store's delete checks the record too, and only a miss looks closer: the hot path costs a read and
        a write transaction, and a miss writes nothing.
        """
        if principal.restricted:  # access must be settled before anything is deleted
            self.require_record(principal, module, record_id, action)
        if not self.store.delete_attachment(principal.org, self.product.name, module.api_name, record_id,
                                            attachment_id):
            self.require_record(principal, module, record_id, action)
            raise ZohoError("INVALID_DATA", ID_INVALID)

    def delete_attachments(self, principal: Principal, record_id: str,
                           ids: Sequence[str]) -> list[ZohoError | None]:
        """Delete attachments of a checked record; per id, None or the error to report for it."""
        outcome = self.store.delete_attachments(principal.org, self.product.name, record_id, ids)
        return [None if ok else not_deleted(i) for i, ok in zip(ids, outcome)]

    def delete_record(self, principal: Principal, module: Module, record_id: str, action: Action) -> None:
        """Delete one record (and so its attachments); the failure is raised as a top-level error."""
        [result] = self._delete_records(principal, module, [record_id])
        if result == "forbidden":
            raise ZohoError("AUTHORIZATION_FAILED", action.unprivileged_message)
        if result == "missing":
            raise not_deleted(record_id)

    def delete_records(self, principal: Principal, module: Module, ids: Sequence[str],
                       action: Action) -> list[ZohoError | None]:
        """Delete records (and so their attachments); per id, None or the error to report for it."""
        return [None if result == "deleted"
                else ZohoError("AUTHORIZATION_FAILED", action.unprivileged_message, {"id": record_id})
                if result == "forbidden" else not_deleted(record_id)
                for record_id, result in zip(ids, self._delete_records(principal, module, ids))]

    def _delete_records(self, principal: Principal, module: Module, ids: Sequence[str]) -> list[str]:
        return self.store.delete_records(principal.org, self.product.name, module.api_name, ids,
                                         principal.user if principal.restricted else None)

def not_deleted(item_id: str) -> ZohoError:
    """The per-item failure of a bulk delete."""
    return ZohoError("INVALID_DATA", RECORD_NOT_DELETED, {"id": item_id})
