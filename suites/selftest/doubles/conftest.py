"""Test doubles for the isolation self-tests: never collected by a normal run."""

import ctypes

import pytest

collect_ignore_glob = ["*.py"]


@pytest.fixture(scope="session")
def crash_at_session_teardown():
    yield
    ctypes.string_at(0)  # like a driver crashing in vkDestroyDevice


@pytest.fixture
def crash_in_setup():
    ctypes.string_at(0)  # like a driver crashing while a fixture creates its objects
