"""``OMNIVA_WARM_RUNS`` is read in one place (``omniva.settings.warm_runs``), at each launch."""

import pytest

from omniva.settings import warm_runs


@pytest.mark.parametrize("value", ["", "auto", "on", "1", "true", " AUTO "])
def test_on(value: str) -> None:
    assert warm_runs({"OMNIVA_WARM_RUNS": value}) is True


@pytest.mark.parametrize("value", ["off", "0", "false", "OFF"])
def test_off(value: str) -> None:
    assert warm_runs({"OMNIVA_WARM_RUNS": value}) is False


def test_unset_is_on_and_nonsense_is_refused() -> None:
    assert warm_runs({}) is True
    with pytest.raises(ValueError, match="auto or off"):
        warm_runs({"OMNIVA_WARM_RUNS": "sometimes"})
