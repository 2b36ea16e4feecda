"""Locks and directory swaps for the commands that rewrite the lake (reparse, forget).

* :func:`maintenance_lock`: one rewriting command at a time per lake (``<lake>/.maintenance.lock``,
  ``flock``; a second one is refused at once rather than queued).
* :func:`compaction_locks`: hold every table's compaction lock (the one
  :meth:`~tagpulse.lake.tables.LakeWriter.compact` takes), so no compactor merges files that
  are being rewritten; a running compaction is waited for.
* :func:`swap_directories`: put a rebuilt directory in place of the live one. On Linux one
  ``renameat2(RENAME_EXCHANGE)``: a reader resolving the path finds the old tree or the new one,
  never neither. Elsewhere two renames, with an instant in which the path is missing.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from tagpulse.errors import StorageError

__all__ = ["compaction_locks", "maintenance_lock", "swap_directories"]

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


@contextmanager
def maintenance_lock(lake_dir: Path, what: str) -> Iterator[None]:
    lake_dir.mkdir(parents=True, exist_ok=True)
    path = lake_dir / ".maintenance.lock"
    with path.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StorageError(
                f"another reparse or forget is running on {lake_dir} ({path} is locked); "
                f"run {what} again when it has finished"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def compaction_locks(tables_dir: Path) -> Iterator[list[str]]:
    """Hold the compaction lock of every table under ``tables_dir``; yields their names."""
    names = (
        sorted(p.name for p in tables_dir.iterdir() if p.is_dir()) if tables_dir.is_dir() else []
    )
    with ExitStack() as stack:
        for name in names:
            fh = stack.enter_context((tables_dir / name / ".compact.lock").open("a"))
            fcntl.flock(fh, fcntl.LOCK_EX)
        yield names


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux ``renameat2``); False where that is unavailable."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EPERM, errno.ENOTSUP):
        return False  # the file system or kernel cannot: fall back to two renames
    raise OSError(code, os.strerror(code), str(a))


def swap_directories(live: Path, new: Path, old: Path) -> bool:
    """Put ``new`` at ``live``; the previous ``live`` ends up at ``old`` (False: there was none).

    Returns whether there was a previous directory to move aside.
    """
    try:
        if not live.exists():
            os.rename(new, live)
            return False
        if _exchange(live, new):
            os.rename(new, old)  # ``new`` now holds the previous tree
        else:
            os.rename(live, old)
            os.rename(new, live)
    except OSError as exc:
        raise StorageError(f"could not put {new} in place of {live}: {exc}") from exc
    return True
