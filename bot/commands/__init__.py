"""The `stylebot` subcommands, one module each."""
