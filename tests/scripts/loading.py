"""The scripts under test, loaded by path (``scripts/`` is not a package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def load_script(name: str, *, module: str | None = None) -> ModuleType:
    """``scripts/<name>.py`` as the module ``module`` (default ``<name>_under_test``)."""
    spec = importlib.util.spec_from_file_location(module or f"{name}_under_test",
                                                  SCRIPTS / f"{name}.py")  # fmt: skip
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = loaded  # dataclasses resolve their module by name
    spec.loader.exec_module(loaded)
    return loaded
