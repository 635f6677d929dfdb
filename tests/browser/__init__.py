"""Browser tests. A package, so this folder's conftest does not shadow tests/conftest.py as `conftest`."""
