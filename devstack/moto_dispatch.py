"""moto's request dispatch without a directory listing per request.

moto's server finds the backend for every request under one process-wide lock, and on the way lists its own
package directory (`os.listdir` and an `isdir` per entry, about 150 of them) to learn its module names. On a
busy devstack that listing was a tenth of the process's CPU, and every AWS call of every function waited
for it in turn. The names do not change while the process runs: they are listed once.
"""

import functools
from collections.abc import Iterable

from moto import backends

_listed = backends.list_of_moto_modules


@functools.cache
def _modules() -> tuple[str, ...]:
    return tuple(_listed())


def _cached_modules() -> Iterable[str]:
    return _modules()


def install() -> None:
    """List moto's modules once for this process (idempotent)."""
    backends.list_of_moto_modules = _cached_modules
