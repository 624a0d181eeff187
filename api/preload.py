"""``serve``'s processes forked from one load of the network.

Each worker used to start as a new interpreter and build its own graph view, profiles and
search index: at 100,000 people about 8 s of work per process, done again by every worker
and by the councils process, and 1.3 GiB each, three times over. With ``COCREATE_PRELOAD``
(the default on Linux) that work is done once (:meth:`Services.load`, which starts no
thread and loads no model), the connections to the store closed (:meth:`Services.part`),
and the processes forked: a child shares every page of what was loaded with the
others until it changes one, applies the changes made since the load
(:meth:`Services.resume`), and starts its own threads (:meth:`Services.begin`).

The load is made in a process of its own, the loader, forked from ``serve``: it forks
the councils process and the workers, then ends (:func:`fork_from_load`), and ``serve``,
their subreaper, adopts them. ``serve`` itself runs in an interpreter that has imported
only what supervising needs (:mod:`api.supervise`): this module imports the rest in the
loader, after the fork. ``serve`` used to load and keep the load, to fork a worker
again after a crash: every page that its children wrote (a Python object's reference
count changes when it is read) was copied into the child and the original stayed in
``serve`` alone, 250 to 280 MiB after a full HTTP benchmark at 100,000 people, and more
with every hour served. A process started again after one ended now loads its own, in a
new interpreter (a worker killed at 100,000 people: another answered 8 to 9 s later).

What must not cross a fork is kept out of the load: threads (the feed's follower, the
vector index's rebuilds, the warmer: all started after it), connections (closed before
it), ONNX Runtime's session (made on first use, in the process that encodes) and
OpenMP's threads (one thread while loading, so that none exists in the parent; the
number is set back after it, and each child starts its own). An encoder run by torch is
loaded at once and uses OpenMP, so with it each process loads its own, as without the
setting.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any, Protocol

from api.serving import (
    Adopted,
    Parent,
    become_subreaper,
    children,
    die_with_parent,
    exempt_from_collection,
)

if TYPE_CHECKING:  # (imported by the loader, after the fork: ``serve`` imports none of them)
    from api.services import Services
    from api.settings import Settings

log = logging.getLogger(__name__)


def forkable(settings: Settings) -> bool:
    """Whether ``serve`` may load once and fork: the setting, a system where ``serve`` can
    adopt the loader's processes (it then does), and an encoder safe to load before a
    fork."""
    if not settings.preload or not sys.platform.startswith("linux"):
        return False  # (the loader's children are adopted by serve: Linux's subreaper)
    if not become_subreaper():
        log.warning("this system refuses a subreaper (prctl): each process of serve loads "
                    "its own")  # fmt: skip
        return False
    if os.environ.get("COCREATE_ENCODER_BACKEND", "").strip() == "torch":
        return False  # (said before loading it: this process would keep it for nothing)
    from embeddings.encoder import SentenceTransformerEncoder, load_encoder

    # (in fp32: whether the model runs on torch does not depend on the precision)
    if isinstance(load_encoder(settings.model, precision="fp32"), SentenceTransformerEncoder):
        log.info("the encoder runs on torch: each process of serve loads its own")
        return False
    return True


@dataclass(frozen=True)
class Child:
    """A process the loader forks: ``target(parent=..., forked=services)`` is its body."""

    name: str
    target: Callable[..., None]
    environ: dict[str, str] = field(default_factory=dict)
    """Set in the loader before this process is forked (and those after it)."""


def fork_from_load(
    settings: Settings, roles: Sequence[Child], close: Sequence[Closable] = ()
) -> tuple[list[Adopted], int, int]:
    """The processes ``roles``, forked from one load (:func:`load`) made in a process of
    its own that then ends: this process (``serve``) adopts them and loads nothing. With
    the store's nodes and edges. ``close``: what this process holds that the loader and
    the processes it forks must not (the address ``serve`` holds). Raises RuntimeError
    if the load failed (the loader wrote why to stderr); then, or if this process is
    interrupted meanwhile, no process the loader forked is left."""
    return adopt(start_loading(settings, roles, close), [role.name for role in roles])


@dataclass
class Loading:
    """A loader at work: its process, this end of the pipe it answers on, and the
    children this process had before it (none of them is the loader's)."""

    loader: BaseProcess | Adopted
    receiving: Connection
    before: frozenset[int] = frozenset()


def start_loading(
    settings: Settings, roles: Sequence[Child], close: Sequence[Closable] = ()
) -> Loading:
    """The first half of :func:`fork_from_load`: the loader forked (RuntimeError if this
    system cannot adopt its processes)."""
    if not become_subreaper():
        raise RuntimeError("this system cannot adopt the loader's processes (prctl)")
    before = frozenset(children(os.getpid()))
    receiving, sending = multiprocessing.Pipe(duplex=False)
    loader = multiprocessing.get_context("fork").Process(
        target=_loader,
        args=(settings, roles, os.getpid(), sending, [receiving, *close]),
        name="cocreate-loader",
    )
    loader.start()
    sending.close()
    return Loading(loader, receiving, before)


def adopt(loading: Loading, names: Sequence[str]) -> tuple[list[Adopted], int, int]:
    """The second half of :func:`fork_from_load`, in the process that started the loader
    (or became another program since, :mod:`api.supervise`): the processes it forked,
    named ``names``, once it has ended; with the store's nodes and edges."""
    loader, receiving = loading.loader, loading.receiving
    try:
        try:
            pids, nodes, edges = receiving.recv()
        except EOFError:  # it ended, or was ended, before it said
            loader.join()
            raise RuntimeError(
                f"loading the network failed (exit code {loader.exitcode})"
            ) from None
    except BaseException:
        loader.kill()
        loader.join()
        for pid in set(children(os.getpid())) - loading.before:  # adopted: none is left
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        raise
    finally:
        receiving.close()
    loader.join()  # then its children are this process's (become_subreaper)
    return [Adopted(pid, name) for pid, name in zip(pids, names, strict=True)], nodes, edges


class Closable(Protocol):
    def close(self) -> None: ...


def _loader(
    settings: Settings,
    roles: Sequence[Child],
    serve: int,
    sending: Connection,
    close: Sequence[Closable],
) -> None:
    """The loader's body: load, fork each of ``roles``, tell ``serve`` their ids, end."""
    die_with_parent()
    if os.getppid() != serve:  # (gone before the line above)
        os._exit(1)
    # ``serve`` decides when to stop (a Ctrl-C reaches every process of the terminal's
    # group), and this process ends with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for held in close:
        held.close()
    forked: list[multiprocessing.process.BaseProcess] = []
    code = 1
    try:
        services, nodes, edges = load(settings)
        parent: Parent = (serve, os.getpid())
        context = multiprocessing.get_context("fork")
        for role in roles:
            os.environ.update(role.environ)
            process = context.Process(
                target=_child,
                args=(role, sending),
                kwargs={"parent": parent, "forked": services},
                name=role.name,
            )
            process.start()
            forked.append(process)
        sending.send(([child.pid for child in forked], nodes, edges))
        code = 0
    except BaseException:
        log.exception("loading the network to serve it failed")
        for child in forked:  # none is left behind, to be adopted by nobody
            child.kill()
            child.join()
    finally:
        sending.close()
        sys.stdout.flush()
        sys.stderr.flush()
        # At once, without multiprocessing's exit handlers: they would stop or wait for
        # the processes just forked, which ``serve`` adopts now.
        os._exit(code)


def _child(role: Child, sending: Connection, **kwargs: Any) -> None:
    """A process the loader forked: the loader's end of its pipe to ``serve`` closed (a
    loader that ends before it says anything is then seen to end), then its body."""
    sending.close()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    role.target(**kwargs)


def load(settings: Settings) -> tuple[Services, int, int]:
    """The services every process of ``serve`` is forked from: loaded here, the search
    index saved if it was not in step, and parted (no connection left open); with the
    store's nodes and edges (what ``serve`` says at start)."""
    from api.services import Services
    from embeddings.threads import openmp_threads
    from graph.view import collection_paused

    # No OpenMP thread in this process: its children lack them. What is loaded is left
    # out of the collector's work before it runs again: its first collection after the
    # load would walk every object the load made (0.8 s at 100,000 people).
    with openmp_threads(1), collection_paused():
        services = Services.load(settings, defer_indexing=True)
        exempt_from_collection()
    index = services.search.index
    if index.worth_saving(moved=settings.index_resave_after):  # the next start loads it
        index.save(watermark=index.watermark)
    store = services.store
    nodes, edges = sum(store.node_counts().values()), sum(store.edge_counts().values())
    # The app's modules, imported once here rather than by each process after the fork
    # (0.7 s each, while they start at once on the same cores).
    import api.app  # noqa: F401

    exempt_from_collection()
    services.part()
    return services, nodes, edges
