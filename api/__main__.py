"""``python -m api`` runs the ``cocreate`` command line."""

from api.cli import main

main()
