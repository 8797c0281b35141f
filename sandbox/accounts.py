"""The accounts one emulator serves (HubSpot portals, QuickBooks companies). Each request works on one
account, chosen when it arrives (by its token, its path or the admin's `account` choice); what belongs to
the app itself (its registration, templates, action definitions, webhook subscription) is shared."""

from collections.abc import Callable, Hashable, Iterator
from contextvars import ContextVar


class Accounts[K: Hashable, T]:
    def __init__(self, make: Callable[[K], T], primary: K) -> None:
        self._make = make
        self.primary = primary
        self._by_key: dict[K, T] = {}
        self._current: ContextVar[K] = ContextVar(f"account-{id(self)}")
        self.reset()

    def reset(self) -> None:
        """Only the primary account, new and empty."""
        self._by_key = {self.primary: self._make(self.primary)}

    def add(self, key: K) -> T:
        if key not in self._by_key:
            self._by_key[key] = self._make(key)
        return self._by_key[key]

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._by_key))

    def use(self, key: K | None) -> None:
        """The account this request (this thread, until its next request) works on; unknown: the primary."""
        self._current.set(key if key is not None and key in self._by_key else self.primary)

    @property
    def key(self) -> K:
        return self._current.get(self.primary)

    @property
    def current(self) -> T:
        return self._by_key[self.key]
