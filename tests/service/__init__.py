"""Tests of the painting service on a real two-node Ray cluster, over real HTTP."""
