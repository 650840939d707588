"""PyInstaller entry point: the agent's command line."""

import sys

from agent.cli import main

sys.exit(main())
