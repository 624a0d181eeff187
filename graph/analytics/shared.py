"""Councils' figures computed once per machine, not once per worker process.

Every worker of a service holds the same version of the graph (they follow one change
log) and the same text vectors (one index, mapped by all), and a figure is a
deterministic function of the version: two workers computing the bridges or groups of a
sector at one version compute the same value, each taking seconds at 100,000 people
(41-45 s for the twelve sectors' proposals at start). :class:`SharedFigures` keeps each
figure computed by one process in a folder (``<cache>/figures``) for the others:

- a figure is named by its key (what, audience, arguments) and its version's number,
  and holds the change-log entry that made the version (a folder that outlived its
  store, a new import into the same data folder, names other versions);
- the first process to want it takes an exclusive lock on its name (``fcntl.flock``,
  released by the system if the process dies), computes it and writes it (to a
  temporary file, then renamed: a reader never sees half of one); a process that wants
  it meanwhile waits on the lock and then reads it;
- older versions of a figure are removed when a newer one is written;
- a batch of changes with an erasure empties the folder and records the erasure's
  number, after which no process writes a figure of an earlier version (the figures
  name people, and an erased person must be nowhere);
- a start empties the folder when the store's log holds an erasure after its oldest
  figure that no process applied (the service stopped first), and a file left
  half-written by a writer killed meanwhile (named by its process id) is removed when
  the folder is next opened;
- a figure computed from text vectors while some are missing (a new store being
  indexed) is kept apart (:meth:`SharedFigures.put` and :meth:`SharedFigures.latest`
  with ``partial``), so that no process takes it for the complete one; the processes
  answer it meanwhile, and once the vectors are in, until the complete one is written;
- a worker's view of a version may hold attributes read a moment later than another's
  (:mod:`graph.feed`): a figure read from another process is never carried over to a
  later version (:mod:`graph.touches`), only one computed here.

The files are pickles: the folder is the service's own cache, written and read only by
its processes, as its index and graph files are. The profile index and the graph view
saved for the next start are kept here too
(:meth:`api.services.Services.keep_for_next_start`), under the same rules.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import pickle
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from graph.analytics.freshness import PrivacyEpochs
from graph.feed import ChangeBatch
from graph.store import Change, Store

T = TypeVar("T")
log = logging.getLogger(__name__)
SUFFIX = ".figure"
WITHDRAWALS = "withdrawals.json"
"""The computing process's record of withdrawals, for the processes of the next start."""
WRITING = ".writing-"
"""The name of a file being written starts so, then its writer's process id and ``-``."""
PARTIAL = ".partial"
"""Ends the name of a figure computed while some text vectors were missing."""
GAP_READ = 4096
"""Most change-log entries read after that record (beyond them, it is not used)."""


class SharedFigures:
    """A folder of figures shared by the processes of one machine (see the module doc);
    also a projection of the change feed, for erasures."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.sweep()
        self.computed = 0
        """Figures this process computed and wrote."""
        self.read = 0
        """Figures this process read from another's computation."""
        self._epochs: PrivacyEpochs | None = None

    def get(
        self, key: tuple[Any, ...], seq: int, made_by: str, compute: Callable[[], T]
    ) -> tuple[T, bool]:
        """The figure ``key`` of version ``seq`` (``made_by``: the change-log entry that
        made the version, so that a folder that outlived its store names no other one):
        read if a process computed it, else computed here (the other processes wait for it
        meanwhile) and written; and whether it was read."""
        name = _name(key)
        path = self.folder / f"{seq}-{name}{SUFFIX}"
        found = _load(path, made_by)
        if found is not None:
            self.read += 1
            return found[0], True
        with self._locked(name):
            found = _load(path, made_by)
            if found is not None:
                self.read += 1
                return found[0], True
            value = compute()
            self.computed += 1
            if self._erased() < seq:  # (one of a version before an erasure is not kept)
                self._write(path, (made_by, value))
                if self._erased() >= seq:  # an erasure came while it was being written
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                self._prune(name, seq)
                self._prune(_name(key, partial=True), seq + 1)
        return value, False

    def put(
        self, key: tuple[Any, ...], seq: int, made_by: str, value: Any, *, partial: bool = False
    ) -> bool:
        """Write the figure ``key`` of version ``seq`` unless it is there already (or the
        version is one before an erasure); whether it was written. For a process that
        computes figures for the others (a figure it carried over from an earlier version
        is as good as one computed anew, and the others never carry one over).
        ``partial``: computed while some text vectors were missing (kept apart; the
        complete figure of its version or a later one removes it)."""
        name = _name(key, partial=partial)
        path = self.folder / f"{seq}-{name}{SUFFIX}"
        if path.exists() or self._erased() >= seq or (partial and self._complete(key, seq)):
            return False
        with self._locked(name):
            if path.exists():
                return False
            self._write(path, (made_by, value))
            if self._erased() >= seq:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                return False
            self._prune(name, seq)
            if not partial:
                self._prune(_name(key, partial=True), seq + 1)
        return True

    def sweep(self) -> int:
        """Remove the files left half-written by processes that are no longer running
        (killed while writing: a figure or a saved profile index, which may name people
        and which no erasure would otherwise remove); how many."""
        removed = 0
        for path in self.folder.glob(f"{WRITING}*"):
            writer = path.name[len(WRITING) :].partition("-")[0]
            if writer.isdigit() and _running(int(writer)):
                continue
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
        return removed

    def clear_unseen_erasures(self, store: Store) -> None:
        """Empty the folder if the store's log has an erasure after the oldest figure in
        it that the folder was not told of (the service stopped before any of its
        processes applied it): a figure of a version before it may name the person."""
        versions = [int(number) for path in self.folder.glob(f"*{SUFFIX}")
                    if (number := path.name.partition("-")[0]).isdigit()]  # fmt: skip
        if not versions:
            return
        erased = store.last_erasure(after=max(min(versions), self._erased()))
        if erased is not None:
            log.warning("an erasure at change %d no process applied: figures cleared", erased)
            self.clear(erased)

    def discard(self, key: tuple[Any, ...], seq: int, *, written_before: int) -> None:
        """Remove the figure ``key`` of version ``seq`` if it was written before the time
        ``written_before`` (``time.time_ns()``): one written since (by another process,
        after the caller read the one it found wanting) is kept."""
        name = _name(key)
        path = self.folder / f"{seq}-{name}{SUFFIX}"
        with self._locked(name), contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime_ns < written_before:
                path.unlink()

    def writable(self, key: tuple[Any, ...], seq: int) -> bool:
        """Whether :meth:`put` would write the figure ``key`` of version ``seq`` now (none
        is there, and the version is after the last erasure)."""
        path = self.folder / f"{seq}-{_name(key)}{SUFFIX}"
        return not path.exists() and self._erased() < seq

    def latest(
        self, key: tuple[Any, ...], until: int, *, partial: bool = False
    ) -> tuple[int, str, Any] | None:
        """The newest figure ``key`` of a version at most ``until`` in the folder, as
        (version, the change-log entry that made it, value); None if there is none.
        ``partial``: of those computed while some text vectors were missing."""
        name = _name(key, partial=partial)
        erased = self._erased()  # (no figure of a version before an erasure is read)
        versions = [(version, path) for version, path in self._versions(name)
                    if erased < version <= until]  # fmt: skip
        for version, path in sorted(versions, reverse=True):
            try:
                with open(path, "rb") as file:
                    found = pickle.load(file)
            except FileNotFoundError:
                continue  # pruned meanwhile: a newer one was written
            except Exception:
                log.warning("unreadable shared figure %s-%s: skipped", version, name)
                continue
            if isinstance(found, tuple) and len(found) == 2 and isinstance(found[0], str):
                self.read += 1
                return version, found[0], found[1]
        return None

    def newest(self, key: tuple[Any, ...]) -> int:
        """The version of the newest figure ``key`` in the folder (read or not); -1 if none."""
        return max((version for version, _path in self._versions(_name(key))), default=-1)

    def mark_published(self, seq: int) -> None:
        """Record that every figure of version ``seq`` the computing process keeps is in
        the folder (:meth:`published` tells the processes that read them)."""
        handle, temporary = _temporary(self.folder)
        with os.fdopen(handle, "w") as out:
            out.write(str(seq))
        os.replace(temporary, self.folder / "published")

    def published(self) -> int:
        """The last version whose figures the computing process wrote in full; -1 if none."""
        try:
            return int((self.folder / "published").read_text() or -1)
        except (FileNotFoundError, ValueError):
            return -1

    def keep_withdrawals(self, epochs: PrivacyEpochs, seq: int, made_by: str) -> None:
        """Keep what ``epochs`` (this process's projection, applied before this one) knows
        of the withdrawals (:meth:`PrivacyEpochs.record`) in the folder, now (at version
        ``seq``, made by the change-log entry ``made_by``; the caller holds the feed's
        read lock) and after every batch of changes from now on, for the processes of a
        later start (:meth:`withdrawals`): the figures this process wrote are of versions
        before their load. For the process that computes the figures (one per machine)."""
        self._epochs = epochs
        self._keep(seq, made_by)

    def _keep(self, seq: int, made_by: str) -> None:
        if self._epochs is None:
            return
        record = self._epochs.record(seq)
        if record is None:
            return
        if self._erased() > seq:
            return  # (made by a change that may name the person erased since)
        record["made_by"] = made_by
        handle, temporary = _temporary(self.folder)
        with os.fdopen(handle, "w") as out:
            json.dump(record, out)
        os.replace(temporary, self.folder / WITHDRAWALS)
        if self._erased() > seq:  # an erasure came while it was being written
            with contextlib.suppress(FileNotFoundError):
                (self.folder / WITHDRAWALS).unlink()

    def withdrawals(self, store: Store) -> tuple[dict[str, Any], list[Change]] | None:
        """The record kept (:meth:`keep_withdrawals`) if it is of this store (its last
        version made by the entry it names), with the change-log entries after it; None
        if there is none, or it is another store's, or too many entries came after it."""
        try:
            found = json.loads((self.folder / WITHDRAWALS).read_text())
            through = int(found["through"])
            withdrawals = [[int(at), [str(a) for a in audiences]]
                           for at, audiences in found["withdrawals"]]  # fmt: skip
            record = {
                "known_from": int(found["known_from"]),
                "through": through,
                "withdrawals": withdrawals,
            }
        except (OSError, ValueError, KeyError, TypeError):
            return None  # none, or not one this code wrote: not taken
        if made_by(store, through) != found.get("made_by"):
            return None
        after = store.changes_since(through, limit=GAP_READ + 1)
        if len(after) > GAP_READ:
            return None
        return record, after

    def clear(self, erased: int | None = None, *, keep_partial: bool = False) -> None:
        """Remove every figure; ``erased``: the last erasure's sequence number, after which
        no figure of an earlier version is written again (by any process).
        ``keep_partial``: but those kept apart as computed while vectors were missing."""
        if erased is not None and erased > self._erased():
            handle, temporary = _temporary(self.folder)
            with os.fdopen(handle, "w") as out:
                out.write(str(erased))
            os.replace(temporary, self.folder / "erased")
            # The record of withdrawals names the change that made its version, which
            # may name the person: the first process to apply the erasure removes it
            # (the computing process writes it again once it has applied the erasure)
            with contextlib.suppress(FileNotFoundError):
                (self.folder / WITHDRAWALS).unlink()
        for path in self.folder.glob(f"*{SUFFIX}"):
            if keep_partial and path.name.endswith(PARTIAL + SUFFIX):
                continue
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _erased(self) -> int:
        try:
            return int((self.folder / "erased").read_text() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    # -- a projection of the change feed ----------------------------------------------

    def prepare(self, batch: ChangeBatch) -> None:
        return None

    def apply(self, batch: ChangeBatch, _prepared: None) -> None:
        if batch.erasures:
            self.clear(max(batch.erasures))
        last = batch.changes[-1]
        self._keep(batch.last_seq, f"{last.op} {last.entity} {last.ref}")

    # -- files ------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        with open(self.folder / f"{name}.lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _write(self, path: Path, value: Any) -> None:
        handle, temporary = _temporary(self.folder)
        try:
            with os.fdopen(handle, "wb") as out:
                pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    def _complete(self, key: tuple[Any, ...], seq: int) -> bool:
        """Whether a complete figure ``key`` of version ``seq`` or a later one is there
        (a partial one of ``seq`` would only be removed again)."""
        return any(version >= seq for version, _path in self._versions(_name(key)))

    def _prune(self, name: str, seq: int) -> None:
        """Remove this figure's files of versions before ``seq``."""
        for version, path in self._versions(name):
            if version < seq:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    def _versions(self, name: str) -> Iterator[tuple[int, Path]]:
        """The files of the figure named ``name`` in the folder, with their versions."""
        for path in self.folder.glob(f"*-{name}{SUFFIX}"):
            version = path.name.partition("-")[0]
            if version.isdigit():
                yield int(version), path


def _temporary(folder: Path) -> tuple[int, str]:
    """A new file to write in ``folder`` before it is renamed, named by this process (so
    that :meth:`SharedFigures.sweep` can tell whether its writer still runs)."""
    return tempfile.mkstemp(dir=folder, prefix=f"{WRITING}{os.getpid()}-")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # (another user's process)
    return True


def made_by(store: Store, seq: int) -> str:
    """The change-log entry that made version ``seq``, as the folder names it; "" if the
    log no longer holds it (an erasure removes the entries that named the person)."""
    made = store.changes_since(seq - 1, limit=1)
    return f"{made[0].op} {made[0].entity} {made[0].ref}" if made and made[0].seq == seq else ""


def _name(key: tuple[Any, ...], *, partial: bool = False) -> str:
    name = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
    return f"{name}{PARTIAL}" if partial else name


def _load(path: Path, made_by: str) -> tuple[Any] | None:
    """The figure in ``path`` (as a 1-tuple) if it is of the version ``made_by`` made;
    None if there is none (or it is unreadable: then it is computed again)."""
    try:
        with open(path, "rb") as file:
            found = pickle.load(file)
    except FileNotFoundError:
        return None
    except Exception:
        log.warning("unreadable shared figure %s: computed again", path.name)
        return None
    if not isinstance(found, tuple) or len(found) != 2 or found[0] != made_by:
        return None
    return (found[1],)
