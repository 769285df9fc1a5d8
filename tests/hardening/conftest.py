"""Fixtures for the hardening tests."""

import pytest

from tests.hardening.gated import event_gated


@pytest.fixture
def gated_engine(lite_engine):
    """The session's real engine behind a gate (tests/hardening/gated.py) and the gate, which
    is always opened at teardown so that no worker thread is left waiting."""
    engine, gate = event_gated(lite_engine)
    yield engine, gate
    gate.set()
