"""``python -m linkgraph``: the same as the ``linkgraph`` command."""

from linkgraph.cli import main

main()
