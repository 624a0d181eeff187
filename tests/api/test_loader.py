"""``serve``'s processes forked from one load made by the loader, which then ends
(api/preload.py): the process that asked holds nothing that was loaded, and adopts them.

Each case runs in a process of its own: the caller becomes a subreaper, which pytest's
process should not.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.api.server import REPO, cocreate, cocreate_env

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's prctl")

SERVE = """
import gc, json, os, signal, sys, time
from functools import partial
from multiprocessing.process import BaseProcess
from api import preload
from api.serving import children
from api.services import Services
from api.settings import Settings

FAILS = os.environ.get("LOADER_FAILS")  # after the first process it forks: "raise", "kill"
script = os.getpid()
real_start = BaseProcess.start
started = []

def start(process):
    if os.getpid() != script and started:  # in the loader, its second process
        if FAILS == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        raise OSError("no more processes")
    real_start(process)
    if os.getpid() != script:
        started.append(process.pid)

if FAILS:
    BaseProcess.start = start

def child(out, *, parent, forked):
    if FAILS:
        time.sleep(600)  # until it is ended
    seen = {"pid": os.getpid(), "parent": list(parent), "ppid": os.getppid(),
            "nodes": forked.view.graph.number_of_nodes()}
    deadline = time.monotonic() + 60
    while os.getppid() != parent[0] and time.monotonic() < deadline:
        time.sleep(0.05)
    seen["adopted_by"] = os.getppid()
    with open(out, "w") as file:
        json.dump(seen, file)

folder = sys.argv[1]
roles = [preload.Child(f"child-{i}", partial(child, f"{folder}/child-{i}.json"))
            for i in range(2)]
try:
    processes, nodes, edges = preload.fork_from_load(Settings(), roles)
except RuntimeError as error:
    print(json.dumps({"error": str(error), "children": sorted(children(os.getpid()))}))
    sys.exit(0)
held = sum(isinstance(o, Services) for o in gc.get_objects())
for process in processes:
    process.join(60)
print(json.dumps({"pid": os.getpid(), "nodes": nodes, "edges": edges, "held": held,
                  "exitcodes": [p.exitcode for p in processes],
                  "pids": [p.pid for p in processes]}))
"""


def run(env: dict[str, str], folder: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", SERVE, str(folder)],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    said: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return said


def test_the_loader_forks_from_its_load_ends_and_the_caller_adopts_its_children(
    tmp_path: Path,
) -> None:
    env = cocreate_env(tmp_path / "var")
    cocreate(env, "demo", "--people", "40")
    said = run(env, tmp_path)
    assert said["held"] == 0  # nothing loaded in the process that serves
    assert said["nodes"] > 40 and said["edges"] > 0
    assert said["exitcodes"] == [0, 0]  # waited for as its own children
    for i, pid in enumerate(said["pids"]):
        seen = json.loads((tmp_path / f"child-{i}.json").read_text())
        assert seen["pid"] == pid
        serve, loader = seen["parent"]
        assert serve == said["pid"] and loader not in (serve, pid)
        assert seen["ppid"] in (serve, loader)  # the loader's, until it ended
        assert seen["adopted_by"] == serve
        assert seen["nodes"] == said["nodes"]  # the loaded graph, in the child
        assert not psutil.pid_exists(loader)


def test_a_load_that_fails_is_said_and_leaves_no_process(tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database" * 100)
    env = cocreate_env(tmp_path / "var", database_url=f"sqlite:///{broken}")
    said = run(env, tmp_path)
    assert said["error"].startswith("loading the network failed"), said
    assert said["children"] == []


@pytest.mark.parametrize("fails", ["raise", "kill"])
def test_a_loader_that_fails_after_a_fork_leaves_no_process(tmp_path: Path, fails: str) -> None:
    """The loader fails once it has forked a process: it raises (and ends the process
    itself), or is killed outright (the caller, which adopts that process, ends it). The
    caller is told either way: the forked process holds no end of the pipe it waits on."""
    env = cocreate_env(tmp_path / "var")
    cocreate(env, "demo", "--people", "40")
    env["LOADER_FAILS"] = fails
    said = run(env, tmp_path)
    assert said["error"].startswith("loading the network failed"), said
    assert said["children"] == []  # the loader, and the process it forked, are gone


STRAYS = """
import json, multiprocessing, os, sys, time
from api.serving import become_subreaper, children, reap_strays

assert become_subreaper()
middle = os.fork()
if middle == 0:  # a process of serve's that forks a child and ends before it
    if os.fork() == 0:
        time.sleep(0.5)
        os._exit(0)
    os._exit(0)
os.waitpid(middle, 0)
own = multiprocessing.get_context("spawn").Process(target=time.sleep, args=(0,))
own.start()
deadline = time.monotonic() + 30
while time.monotonic() < deadline and "Z" not in children(os.getpid()).values():
    time.sleep(0.05)
time.sleep(1)  # multiprocessing's own has ended too by now
zombies = [pid for pid, state in children(os.getpid()).items() if state == "Z"]
reaped = reap_strays([])
own.join(30)
print(json.dumps({"zombies": zombies, "reaped": reaped, "own": own.pid,
                  "own_exitcode": own.exitcode, "left": list(children(os.getpid()).values())}))
"""


def test_serve_waits_for_the_orphans_it_adopts_but_not_for_multiprocessing_s_own() -> None:
    """``serve``, the subreaper, adopts the children of a process of its that ended; once
    they end it waits for them (no zombie is left for its life), and never for a process
    multiprocessing waits for itself (it would take that one as running for good)."""
    done = subprocess.run(
        [sys.executable, "-c", STRAYS],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout.strip().splitlines()[-1])
    stray = [pid for pid in said["zombies"] if pid != said["own"]]
    assert len(stray) == 1, said  # the orphan, ended
    assert said["reaped"] == stray
    assert said["own_exitcode"] == 0  # multiprocessing's own, waited for by it
    assert "Z" not in said["left"]  # (what is left: multiprocessing's resource tracker)
