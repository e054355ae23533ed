"""Loads the suite's plugins (driver selection and fixtures; results, reports and the gate) for every pytest run from this tree."""
pytest_plugins = ["fixtures.plugin", "reports.plugin"]
