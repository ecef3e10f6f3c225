"""The root of the test suite. Being here, it puts the repository root on `sys.path` (pytest's
default "prepend" import mode), so the tests and their helper package `testkit` import the
project's packages without any `sys.path` changes or an installed copy.

Long tests are marked `@pytest.mark.slow` (registered in pyproject.toml): `pytest -m "not slow"`
runs the rest in under two minutes on two cores; CI runs everything.
"""
