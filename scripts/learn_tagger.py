#!/usr/bin/env python
"""Learn the tagger's parameters and write them to ``data/tagger.json``.

Fits :class:`embeddings.tagging.Tagger` on the training split of the shipped DPG
initiatives and the project's plain examples (the held-out split is never read for
fitting, so ``scripts/evaluate.py tagging`` stays honest), and writes the combiners,
calibrators and thresholds. Deterministic: the same data and encoder give the same file.
``tests/embeddings/test_tagging_model.py`` checks that the shipped file matches a fresh fit.

    .venv/bin/python scripts/learn_tagger.py [--data DIR] [--cache DIR] [--out PATH]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from embeddings.encoder import load_encoder
from embeddings.tagging import Tagger
from embeddings.tagging_inputs import load_reference, shipped_split
from embeddings.tagging_model import MODEL_FILE, write_model

REPO = Path(__file__).resolve().parents[1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO / "data")
    parser.add_argument("--cache", type=Path, default=Path("var/eval"), help="vector cache")
    parser.add_argument("--out", type=Path, default=None, help=f"default: DATA/{MODEL_FILE}")
    options = parser.parse_args(argv)
    training, _ = shipped_split(options.data)
    reference = load_reference(options.data)
    tagger = Tagger.fit(load_encoder(), reference, training, cache=options.cache)
    out = options.out or options.data / MODEL_FILE
    write_model(out, tagger.parameters())
    sdg, sector = tagger.thresholds
    print(f"Learnt on {len(training)} texts; thresholds SDG {sdg}, sector {sector}: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
