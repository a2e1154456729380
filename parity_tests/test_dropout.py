"""Specification: Dropout matches torch with a shared mask, in train and eval mode, for both variants."""

import numpy as np
import pytest
import torch

import scratch.layers as sl
import torch_ref.layers as tl
from parity_tests.registry import all_cases

DROPOUT_CASES = [pytest.param(c, id=c.name, marks=pytest.mark.ch4) for c in all_cases() if c.component == "Dropout"]


@pytest.mark.ch4
def test_inverted_dropout_keeps_the_expected_value() -> None:
    x = np.ones((400, 500))
    drop = sl.Dropout(0.3, rng=np.random.default_rng(0))
    # mean of 200,000 scaled Bernoulli(0.7)/0.7 draws: sd sqrt(0.3/0.7/2e5) = 1.5e-3; bound 6 sds
    assert drop.forward(x).mean() == pytest.approx(1.0, abs=9e-3)
    drop.eval()
    np.testing.assert_array_equal(drop.forward(x), x)


@pytest.mark.ch4
def test_book_dropout_scales_at_inference_instead() -> None:
    x = np.ones((400, 500))
    drop = sl.Dropout(0.2, variant="book", rng=np.random.default_rng(0))
    out = drop.forward(x)
    assert set(np.unique(out)) == {0.0, 1.0}
    drop.eval()
    np.testing.assert_array_equal(drop.forward(x), 0.8 * x)


@pytest.mark.ch4
def test_torch_twin_draws_its_own_mask_when_none_is_given() -> None:
    x = torch.ones(400, 500, dtype=torch.float64)
    out = tl.Dropout(0.2, variant="book", generator=torch.Generator().manual_seed(0))(x)
    assert set(out.unique().tolist()) == {0.0, 1.0}
    assert out.mean().item() == pytest.approx(0.8, abs=6e-3)  # sd 8.9e-4; bound ~6 sds
    inverted = tl.Dropout(0.3)(x)
    assert set(inverted.unique().tolist()) <= {0.0, 1.0 / 0.7}


@pytest.mark.ch4
def test_dropout_rejects_bad_options_and_masks() -> None:
    for twin in (sl.Dropout, tl.Dropout):
        with pytest.raises(ValueError, match=r"p must be in \[0, 1\)"):
            twin(1.0)
        with pytest.raises(ValueError, match="unknown Dropout variant 'keep'"):
            twin(0.2, variant="keep")
    drop = sl.Dropout(0.5)
    drop.mask_source = lambda shape: np.ones((1, 1))
    with pytest.raises(ValueError, match="mask_source must return"):
        drop.forward(np.ones((2, 3)))
    with pytest.raises(TypeError, match="floating"):
        sl.Dropout(0.5).forward(np.ones((2, 3), dtype=np.int64))
    tdrop = tl.Dropout(0.5)
    tdrop.mask_source = lambda shape: np.ones((1, 1))
    with pytest.raises(ValueError, match="mask_source must return"):
        tdrop(torch.ones(2, 3))


def _dropout_run(scratch_mask_seed: int, torch_mask_seed: int) -> list[dict[str, object]]:
    import scratch.optimizers as so
    import torch_ref.optimizers as to
    from parity_tests.cases.mnist import CONFIGS, dropout_hook, networks, small_data
    from parity_tests.trajectory import TrainingPair, TrajectoryCase, trainer_pair

    config = next(c for c in CONFIGS if c.name == "dropout")

    def build(rng: np.random.Generator) -> TrainingPair:
        s, t = networks(config, "torch", rng)
        fit = {"epochs": 1, "eval_every": 1, "batch_size": 60, "early_stopping": False}
        return trainer_pair(
            s,
            t,
            small_data(),
            lambda p: so.SGD(p, 0.1),
            lambda p: to.SGD(p, 0.1),
            fit,
            scratch_before_step=dropout_hook(s, scratch_mask_seed),
            torch_before_step=dropout_hook(t, torch_mask_seed),
        )

    return TrajectoryCase("dropout_masks", "Trainer", "trainer", 4, build).run("float64")


@pytest.mark.ch4
def test_training_parity_needs_the_same_masks_on_both_twins() -> None:
    assert all(r["passed"] for r in _dropout_run(7, 7))
    assert not all(r["passed"] for r in _dropout_run(7, 8))
