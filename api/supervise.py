"""The process ``cocreate serve`` becomes once it has checked its address and settings.

``serve`` lasts as long as the service: it adopts the processes the loader forks
(:mod:`api.preload`), starts again any that ends, and stops them all. It used to do so in
the interpreter that read the command line, with every module of the project imported
(about 1,100 modules, 100 MiB resident). The loader was forked from it, so every process
shared those pages at first; but each page a child wrote (a reference count changes when
an object is read) was copied into the child, and the original stayed with ``serve``
alone: 68 MiB of PSS, 44 MiB its own, after a full HTTP benchmark at 100,000 people.

Now ``serve`` replaces itself (``execv``: the same process, the same id) with
:func:`main` here, which imports the standard library, :mod:`api.serving`,
:mod:`api.preload` and :mod:`api.figures` only. The project's other modules are
imported by the loader, after it is forked, and the processes it forks share them. The
settings are read from the environment again wherever a process needs them (``serve``
has set in it all it decided), so this process never holds them.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from api import figures, preload
from api.serving import hold, run_workers, worker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """What :func:`main` runs, decided by ``cocreate serve``."""

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


PLAN = "COCREATE_SERVE_PLAN"
"""The environment variable that carries the plan to :func:`main` (JSON)."""


def command(plan: Plan) -> tuple[list[str], dict[str, str]]:
    """The arguments and environment that run :func:`main` on ``plan`` in a new
    interpreter, this one's. ``-P``: the current folder is not put on the module path (a
    folder ``api`` there would be imported instead of the project's). The arguments after
    the module are for whoever lists the processes (``ps``; ``scripts/cluster`` looks
    for "cocreate"); the plan is in the environment."""
    arguments = [sys.executable, "-P", "-m", "api.supervise", "cocreate", "serve", "--host",
                 plan.host, "--port", str(plan.port), "--workers", str(plan.workers)]  # fmt: skip
    return arguments, {**os.environ, PLAN: json.dumps(asdict(plan))}


def become(plan: Plan) -> None:
    """Replace this process with :func:`main` on ``plan`` (never returns)."""
    sys.stdout.flush()
    sys.stderr.flush()
    arguments, environ = command(plan)
    os.execve(arguments[0], arguments, environ)


def main() -> int:
    """Serve the plan :func:`become` left in the environment until SIGTERM or SIGINT;
    the exit code."""
    given = json.loads(os.environ.pop(PLAN))  # (not passed on to the processes it starts)
    given["said"] = tuple(given.get("said", ()))
    plan = Plan(**given)
    level = logging.INFO if plan.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(message)s")
    roles = []
    if plan.councils:
        # The councils' figures in a process of their own (api/figures.py); the workers
        # read them.
        roles.append(
            preload.Child("cocreate-councils", partial(figures.run, None, ready_url=plan.ready_url))
        )
    followed = {"COCREATE_COUNCILS_FOLLOWED": "1"} if plan.councils else {}
    roles += [preload.Child("cocreate-worker", partial(worker, plan.host, plan.port, plan.options),
                            followed) for _ in range(plan.workers)]  # fmt: skip
    holder = hold(plan.host, plan.port)
    councils = None
    try:
        try:
            processes, nodes, edges = preload.fork_from_load(None, roles, close=[holder])
        except RuntimeError as error:
            print(f"Error: {error}", file=sys.stderr, flush=True)
            return 1
        print(f"Cocreate: {nodes:,} nodes, {edges:,} edges in {plan.store}", flush=True)
        for line in plan.said:
            print(line, flush=True)
        if plan.councils:
            councils = figures.CouncilsProcess(None, plan.ready_url, started=processes.pop(0))
            councils.start()
            os.environ.update(followed)  # (for the workers started again)
        run_workers(plan.host, plan.port, plan.workers, plan.options, started=processes,
                    holder=holder)  # fmt: skip
    finally:
        holder.close()
        if councils is not None:
            councils.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
