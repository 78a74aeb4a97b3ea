"""pytest settings shared by the unit tests and nbval's notebook checks."""

import os

# Quiet TensorFlow's start-up chatter in every kernel nbval starts (it goes to stderr anyway).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def pytest_sessionstart(session):
    # .ci/from_wheel.sh tests multlib as installed from its wheel; a stray import of the repository's
    # source folder would make that test meaningless, so say so at once.
    if os.environ.get("MULTLIB_FROM_WHEEL"):
        import importlib.util

        origin = importlib.util.find_spec("multlib").origin
        assert "site-packages" in origin, f"multlib was imported from {origin}, not from the installed wheel"


def pytest_collectstart(collector):
    # stderr carries TensorFlow's and Keras's warnings, whose wording changes between versions and
    # machines; the book never relies on it. HTML and JS outputs are presentation, not results.
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr", "text/html", "application/javascript")
