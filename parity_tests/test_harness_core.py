"""Specification of the harness core: the checks themselves can fail."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
import torch

import scratch.functions as sf
import scratch.layers as sl
import torch_ref.layers as tl
from parity_tests.mutation import Mutant, run_mutant
from parity_tests.opcase import InputSpec, copy_state
from parity_tests.registry import select
from parity_tests.valuecase import ValueCase

pytestmark = pytest.mark.ch1


def _value_case(scratch_keys: tuple[str, ...], torch_keys: tuple[str, ...]) -> ValueCase:
    return ValueCase(
        name="value_case_under_test",
        component="square",
        stem="harness",
        chapter=1,
        op_class="elementwise",
        inputs={"x": InputSpec((3, 2))},
        scratch_outputs=lambda ins: {k: ins["x"] ** 2 for k in scratch_keys},
        torch_outputs=lambda ins: {k: ins["x"] ** 2 for k in torch_keys},
    )


def test_value_case_passes_when_both_twins_return_the_same_outputs() -> None:
    rows = _value_case(("a", "b"), ("b", "a")).run()
    assert [r["target"] for r in rows] == ["a", "b"]
    assert all(r["passed"] for r in rows)


@pytest.mark.parametrize(
    ("scratch_keys", "torch_keys", "missing"), [(("a",), ("a", "b"), "scratch"), (("a", "b"), ("a",), "torch")]
)
def test_value_case_fails_an_output_only_one_twin_returns(
    scratch_keys: tuple[str, ...], torch_keys: tuple[str, ...], missing: str
) -> None:
    rows = {r["target"]: r for r in _value_case(scratch_keys, torch_keys).run()}
    assert rows["a"]["passed"]
    assert not rows["b"]["passed"]
    assert f"the {missing} twin returned no 'b'" in rows["b"]["note"]


def test_copy_state_moves_exact_bits_into_the_torch_twin() -> None:
    scratch = sl.Dense(3, 2, rng=np.random.default_rng(0))
    twin = tl.Dense(3, 2).double()
    assert copy_state(scratch, twin).passed
    for name, value in scratch.state_dict().items():
        assert np.array_equal(twin.state_dict()[name].numpy(), value)


def test_copy_state_fails_when_keys_or_shapes_differ() -> None:
    scratch = sl.Dense(3, 2, rng=np.random.default_rng(0))
    other_keys = torch.nn.Sequential(torch.nn.Linear(3, 2)).double()  # keys 0.weight, 0.bias
    other_shape = tl.Dense(2, 3).double()
    keys = copy_state(scratch, other_keys)
    assert not keys.passed and "keys differ" in keys.note
    shape = copy_state(scratch, other_shape)
    assert not shape.passed and "weight" in shape.note


def _square_raises(x: np.ndarray) -> np.ndarray:
    raise RuntimeError("planted crash, unrelated to any maths")


def test_a_crash_is_not_a_catch_and_only_the_declared_check_counts() -> None:
    crash = Mutant("square_raises", "square raises", sf, "square", _square_raises, ("square",))
    wrong = Mutant("square_doubles", "square returns 2x^2", sf, "square", lambda x: 2 * x * x, ("square",))
    wrong_family = Mutant(
        "square_doubles_t", "as above", sf, "square", lambda x: 2 * x * x, ("square",), None, "lockstep"
    )
    crashed, checked, other = run_mutant(crash), run_mutant(wrong), run_mutant(wrong_family)
    assert (crashed.outcome, crashed.caught, crashed.crashed, crashed.failing_rows) == ("crashed", False, 1, 0)
    assert (checked.outcome, checked.caught, checked.crashed) == ("caught", True, 0)
    assert checked.failing_rows > 0 and checked.evidence.startswith("square forward")
    assert (other.outcome, other.failing_rows) == ("missed", 0)
    assert other.other_failing == checked.failing_rows + checked.other_failing
    assert "only other checks failed" in other.evidence


def test_a_mutant_must_declare_a_known_check_family() -> None:
    with pytest.raises(ValueError, match="expect must be one of"):
        Mutant("m", "d", sf, "square", _square_raises, ("square",), expect="forward")


def _upcast_sigmoid(x: np.ndarray) -> np.ndarray:
    return sf.stable_sigmoid(x.astype(np.float64))  # float32 in, float64 out: more accurate than asked


def test_a_scratch_array_in_another_dtype_fails_the_float32_row() -> None:
    (case,) = select(["sigmoid"])
    with mock.patch.object(sf, "sigmoid", _upcast_sigmoid):
        rows = {r["check"]: r for r in case.run("float32")}
    assert not rows["forward"]["passed"]
    assert "dtype float64, but the case runs in float32" in rows["forward"]["note"]
    assert all(r["passed"] for r in case.run("float32"))
