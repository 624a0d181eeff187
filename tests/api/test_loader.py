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

import psutil
import pytest

from tests.api.server import REPO, cocreate, cocreate_env

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's prctl")

SERVE = """
import gc, json, os, sys, time
from functools import partial
from api import preload
from api.services import Services
from api.settings import Settings

def child(out, *, parent, forked):
    seen = {"pid": os.getpid(), "parent": list(parent), "ppid": os.getppid(),
            "nodes": forked.view.graph.number_of_nodes()}
    deadline = time.monotonic() + 60
    while os.getppid() != parent[0] and time.monotonic() < deadline:
        time.sleep(0.05)
    seen["adopted_by"] = os.getppid()
    with open(out, "w") as file:
        json.dump(seen, file)

folder = sys.argv[1]
children = [preload.Child(f"child-{i}", partial(child, f"{folder}/child-{i}.json"))
            for i in range(2)]
try:
    processes, nodes, edges = preload.fork_from_load(Settings(), children)
except RuntimeError as error:
    print(json.dumps({"error": str(error)}))
    sys.exit(0)
held = sum(isinstance(o, Services) for o in gc.get_objects())
for process in processes:
    process.join(60)
print(json.dumps({"pid": os.getpid(), "nodes": nodes, "edges": edges, "held": held,
                  "exitcodes": [p.exitcode for p in processes],
                  "pids": [p.pid for p in processes]}))
"""


def run(env: dict[str, str], folder: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SERVE, str(folder)],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


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
    before = {p.pid for p in psutil.process_iter()}
    said = run(env, tmp_path)
    assert said["error"].startswith("loading the network failed"), said
    assert not list(tmp_path.glob("child-*.json"))
    left = [p for p in psutil.process_iter(["cmdline"]) if p.pid not in before
            and SERVE[:20] in " ".join(p.info["cmdline"] or [])]  # fmt: skip
    assert not left
