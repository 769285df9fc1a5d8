"""Fixtures for the hardening tests."""

import gc

import pytest


@pytest.fixture
def frozen_heap():
    """Keep objects from earlier tests out of the garbage collector's full passes (gc.freeze).

    This pytest process has also imported TensorFlow (the hub engine's tests): a full collection
    of that heap pauses the shared event loop for 0.3-0.4 s, longer than the heartbeat bounds
    these tests check. What the bot allocates during the test is still collected as usual; the
    bot's own process never imports TensorFlow.
    """
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()
