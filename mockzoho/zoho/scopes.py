"""OAuth scopes: parsing a scope list and deciding what a token's scopes allow."""

from __future__ import annotations

from functools import lru_cache

from .actions import Action
from .product import Module, Product


def split_scopes(text: str) -> list[str]:
    """Scopes as fixtures, the authorize call, the control API and the CLI give them: separated by commas or
    spaces; order and case kept."""
    return text.replace(",", " ").split()


class ScopeSet:
    """A token's scopes, compared case-insensitively."""

    __slots__ = ("_scopes",)

    def __init__(self, scopes: frozenset[str]) -> None:
        self._scopes = scopes

    @staticmethod
    @lru_cache(maxsize=1024)
    def parse(text: str) -> ScopeSet:
        """A token's scopes as the state keeps them (see split_scopes)."""
        return ScopeSet(frozenset(s.lower() for s in split_scopes(text)))

    def __contains__(self, scope: str) -> bool:
        return scope.lower() in self._scopes

    def _any(self, prefix: str, action: Action) -> bool:
        return any(f"{prefix}.{op}" in self._scopes for op in ("all", *action.scope_ops))

    def grants(self, product: Product, names: tuple[str, ...], ops: frozenset[str]) -> bool:
        """True if a scope `<service>.<name>.<op>` (or `.ALL`) is held for any of `names`."""
        service = product.scope_service.lower()
        return any(f"{service}.{name}.{op}" in self._scopes for name in names for op in ("all", *ops))

    def allows(self, product: Product, module: Module, action: Action) -> bool:
        """True if these scopes let `action` run on `module` of `product`."""
        service = product.scope_service.lower()
        modules_all = f"{service}.modules.all" in self._scopes
        if modules_all and (product.modules_all_covers_attachments or not action.attachments):
            return True
        if not (modules_all or self._any(f"{service}.modules.{module.scope_name.lower()}", action)):
            return False
        return not action.attachments or self._any(f"{service}.modules.attachments", action)
