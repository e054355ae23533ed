"""Loads the suite's plugin (options, fixtures, results) for every pytest run from this tree."""
pytest_plugins = ["fixtures.plugin"]
