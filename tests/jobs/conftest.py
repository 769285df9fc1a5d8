"""Fixtures shared by the job queue tests."""

import threading

import pytest


@pytest.fixture
def gate():
    """A threading.Event that jobs block on; always opened at teardown so no thread hangs."""
    event = threading.Event()
    yield event
    event.set()
