"""Shared fixtures. Tests marked `slow` (the million-node programs) run only
with --runslow."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


# A shell started without job control (a CI script, `cmd &`) may start the
# tests with SIGINT ignored, and an ignored signal stays ignored in every
# process started from here: the tests of Ctrl-C would then see nothing
# happen. A handled signal is reset to its default in a child, so handling it
# here gives every child the Ctrl-C a person's terminal gives.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _ctrl_c_stays_with_the_tests():
    """A test that runs the console script in this process (`cli.main`)
    leaves Ctrl-C ignored once its command has finished (cli_common.finished,
    as the real script does): put it back, or every later test's children
    would start with Ctrl-C ignored."""
    before = signal.getsignal(signal.SIGINT)
    yield
    if signal.getsignal(signal.SIGINT) != before:
        signal.signal(signal.SIGINT, before)


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run the slow scale tests")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
