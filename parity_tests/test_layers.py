"""Specification: every ``layers`` case matches torch in float64 (the gate) and float32."""

import pytest

from parity_tests.registry import Case, assert_case_passes, case_params


@pytest.mark.parametrize("case", case_params("layers"))
def test_layers_match_torch_float64(case: Case) -> None:
    assert_case_passes(case, "float64")


@pytest.mark.parametrize("case", case_params("layers"))
def test_layers_match_torch_float32(case: Case) -> None:
    assert_case_passes(case, "float32")
