from __future__ import annotations

from dbtool.cli import main

main()
