"""What ``cocreate serve`` becomes once it has forked the loader.

``serve`` lasts as long as the service: it adopts the processes the loader forks
(:mod:`api.preload`), starts again any that ends, and stops them all. It used to do so in
the interpreter that read the command line, with every module of the project imported
(about 1,100 modules, 100 MiB resident). The loader was forked from it, so every process
shared those pages at first; but each page a child wrote (a reference count changes when
an object is read) was copied into the child, and the original stayed with ``serve``
alone: 68 MiB of PSS, 44 MiB its own, after a full HTTP benchmark at 100,000 people.

Now ``serve`` forks the loader from what it imported (:func:`serve`: nothing is imported
twice) and then replaces itself (``execve``: the same process, the same id, the same
children) with :func:`main`, an interpreter that imports the standard library,
:mod:`api.serving`, :mod:`api.preload` and :mod:`api.figures` only. The modules it held
before stay in the loader and the processes it forks. What it hands over crosses the
``execve`` as open files: the loader's pipe and the address it holds. A process started
again after one ended reads the settings from the environment (``serve`` set in it all
it decided), so this one never holds them.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
from dataclasses import asdict, dataclass, field
from functools import partial
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, NoReturn

from api import figures, preload
from api.serving import Adopted, become_subreaper, hold, run_workers, worker

if TYPE_CHECKING:
    from api.settings import Settings

log = logging.getLogger(__name__)

PLAN = "COCREATE_SERVE_PLAN"
"""The environment variable that carries the plan to :func:`main` (JSON)."""


@dataclass(frozen=True)
class Plan:
    """What ``serve`` runs, decided by the command line."""

    host: str
    port: int
    workers: int
    ready_url: str
    councils: bool
    """Whether the councils' figures are computed in a process of their own."""
    options: dict[str, Any] = field(default_factory=dict)
    """uvicorn's (``uvicorn.Config``)."""
    said: tuple[str, ...] = ()
    """What ``serve`` says once it serves, after the line of the network's size."""
    store: str = ""
    """The store, as shown (no password)."""
    verbose: bool = False


@dataclass(frozen=True)
class Handed:
    """What :func:`serve` hands over to :func:`main` across the ``execve``."""

    loader: int
    """The loader's process id."""
    receiving: int
    """The file descriptor of this end of the loader's pipe."""
    holder: int
    """The file descriptor of the socket that holds the address."""
    names: tuple[str, ...]
    """The names of the processes the loader forks, in order."""
    before: tuple[int, ...] = ()
    """The children ``serve`` had before the loader."""


def roles(plan: Plan, settings: Settings | None) -> list[preload.Child]:
    """The processes the loader forks: the councils process (if the plan has one) first,
    then the workers."""
    found = []
    if plan.councils:
        # The councils' figures in a process of their own (api/figures.py); the workers
        # read them.
        body = partial(figures.run, settings, ready_url=plan.ready_url)
        found.append(preload.Child("cocreate-councils", body))
    followed = {"COCREATE_COUNCILS_FOLLOWED": "1"} if plan.councils else {}
    serving = partial(worker, plan.host, plan.port, plan.options)
    found += [preload.Child("cocreate-worker", serving, followed) for _ in range(plan.workers)]
    return found


def serve(plan: Plan, settings: Settings) -> NoReturn:
    """In ``cocreate serve``'s process: fork the loader, then become :func:`main` (never
    returns). RuntimeError if this system cannot adopt the loader's processes."""
    forked = roles(plan, settings)
    holder = hold(plan.host, plan.port)
    loading = preload.start_loading(settings, forked, close=[holder])
    receiving = loading.receiving.fileno()
    os.set_inheritable(receiving, True)
    holder.set_inheritable(True)
    handed = Handed(loading.loader.pid or 0, receiving, holder.fileno(),
                    tuple(role.name for role in forked), tuple(sorted(loading.before)))  # fmt: skip
    arguments, environ = command(plan, handed)
    sys.stdout.flush()
    sys.stderr.flush()
    # Ctrl-C is ignored while the new interpreter starts (a Ctrl-C then would stop it
    # half-made, with a fatal error); :func:`main` takes it again first thing.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.execve(arguments[0], arguments, environ)


def command(plan: Plan, handed: Handed) -> tuple[list[str], dict[str, str]]:
    """The arguments and environment that run :func:`main` in a new interpreter, this
    one's. ``-P``: the current folder is not put on the module path (a folder ``api``
    there would be imported instead of the project's). The arguments after the module
    are for whoever lists the processes (``ps``; ``scripts/cluster`` looks for
    "cocreate"); the plan is in the environment."""
    arguments = [sys.executable, "-P", "-m", "api.supervise", "cocreate", "serve", "--host",
                 plan.host, "--port", str(plan.port), "--workers", str(plan.workers)]  # fmt: skip
    given = {"plan": asdict(plan), "handed": asdict(handed)}
    return arguments, {**os.environ, PLAN: json.dumps(given)}


def main() -> int:
    """Serve the plan :func:`serve` left in the environment until SIGTERM or SIGINT; the
    exit code."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # (ignored across the execve)
    given = json.loads(os.environ.pop(PLAN))  # (not passed on to the processes it starts)
    plan = Plan(**{**given["plan"], "said": tuple(given["plan"]["said"])})
    passed = given["handed"]
    handed = Handed(passed["loader"], passed["receiving"], passed["holder"],
                    tuple(passed["names"]), tuple(passed["before"]))  # fmt: skip
    level = logging.INFO if plan.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(message)s")
    become_subreaper()  # (as before the execve: said again)
    holder = socket.socket(fileno=handed.holder)
    loading = preload.Loading(Adopted(handed.loader, "cocreate-loader"),
                              Connection(handed.receiving, writable=False),
                              frozenset(handed.before))  # fmt: skip
    councils = None
    try:
        try:
            processes, nodes, edges = preload.adopt(loading, handed.names)
        except RuntimeError as error:
            print(f"Error: {error}", file=sys.stderr, flush=True)
            return 1
        print(f"Cocreate: {nodes:,} nodes, {edges:,} edges in {plan.store}", flush=True)
        for line in plan.said:
            print(line, flush=True)
        if plan.councils:
            councils = figures.CouncilsProcess(None, plan.ready_url, started=processes.pop(0))
            councils.start()
            os.environ["COCREATE_COUNCILS_FOLLOWED"] = "1"  # (for the workers started again)
        run_workers(plan.host, plan.port, plan.workers, plan.options, started=processes,
                    holder=holder)  # fmt: skip
    finally:
        holder.close()
        if councils is not None:
            councils.stop()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl-C while the network loads (the loader is stopped)
        print("Aborted.", file=sys.stderr)
        sys.exit(130)
