"""Test doubles for the isolation self-tests: never collected by a normal run."""
collect_ignore_glob = ["*.py"]
