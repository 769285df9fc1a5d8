"""`python -m bot` runs the `stylebot` command."""

from bot.cli import main

raise SystemExit(main())
