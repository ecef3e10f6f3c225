"""The test configuration turns warnings into failures where they point at a bug of ours: any
warning raised by this project's modules, and any unclosed file or socket (ResourceWarning)."""

from __future__ import annotations

import warnings

import pytest


@pytest.mark.parametrize("module", ["application.demo", "assets.pipeline", "scheduler", "scheduler.daemon.service"])
def test_a_warning_from_our_code_fails_the_test(module: str) -> None:
    with pytest.raises(UserWarning):
        warnings.warn_explicit("something is off", UserWarning, "x.py", 1, module=module)


def test_a_warning_from_elsewhere_is_only_reported() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.warn_explicit("their problem", UserWarning, "x.py", 1, module="assetsmanager.thing")
    assert len(caught) == 1


def test_an_unclosed_resource_fails_the_test() -> None:
    with pytest.raises(ResourceWarning):
        warnings.warn_explicit("unclosed file", ResourceWarning, "x.py", 1, module="PIL.Image")
