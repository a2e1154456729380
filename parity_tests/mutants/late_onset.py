"""Late-onset planted bugs: one per training protocol, each invisible to the free-running check.

A bug that acts only late in a run (after a few hundred steps, once the rate has decayed, or only
in eval mode) is what a full-length parity claim is for. Each mutant here is subtle as well (a
relative error of 1e-8 or less), so that the free-running comparison misses it: either it starts
after the ulp-noise controls' horizon, where free runs are no longer compared, or its effect on
the trajectory stays under the trajectory tolerance. The lockstep check (``parity_tests/lockstep.py``)
compares every step at the operator tolerance and catches each one at the pause where it begins.
``test_late_onset`` shows both verdicts for every mutant.

- ``late_gradient_*``: a backward that goes wrong from the optimizer's step ``onset`` on: the
  gradient the update uses (and that ``p.grad`` then holds) is scaled by ``1 + rel``.
- ``dropout_eval_scale_off``: dropout in eval mode scales its input by ``1 + rel``: training is
  untouched, only the test loss moves.
- ``momentum_forms_part_after_decay`` lives in ``ch4.py`` (``momentum_forms_swapped``); the
  chapter 7 trainer's eval-mode bug in ``ch7_trainer.py``.
"""

from __future__ import annotations

from typing import Any

import scratch.layers as sl
import scratch.optimizers as so
from parity_tests.mutation import Mutant
from scratch._checks import Array
from scratch.module import Parameter


def late_gradient(optimizer: type[so.Optimizer], onset: int, rel: float) -> Any:
    """``optimizer._update`` with the gradient scaled by ``1 + rel`` from the optimizer's step
    ``onset`` (0-based) on. Steps are counted per optimizer object (every run builds its own): a
    step updates each parameter once."""
    update = optimizer._update

    def planted(self: so.Optimizer, param: Parameter, grad: Array, group: dict[str, Any]) -> None:
        calls = self.__dict__.setdefault("_planted_calls", [0])
        calls[0] += 1
        step = (calls[0] - 1) // sum(1 for g in self.param_groups for _ in g["params"])
        if step >= onset:
            param.grad = grad = grad * (1.0 + rel)  # BUG: from step ``onset`` on
        update(self, param, grad, group)

    return planted


_dropout_forward = sl.Dropout.forward


def _dropout_eval_scale_off(self: sl.Dropout, input: Array) -> Array:
    out = _dropout_forward(self, input)
    if not self.training:
        self.output = out = out * (1.0 + 1e-9)  # BUG: eval mode only, one part in 1e9
    return out


MUTANTS = [
    Mutant(
        "late_gradient_trainer",
        "from step 300 of the 600-step Boston run, SGD steps on a gradient 1e-9 too large (Trainer)",
        so.SGD,
        "_update",
        late_gradient(so.SGD, 300, 1e-9),
        ("boston_linear",),
        expect="lockstep",
    ),
    Mutant(
        "late_gradient_charlm",
        "from step 60 of 120, AdaGrad steps on a gradient 1e-9 too large (the chapter 6 language model)",
        so.AdaGrad,
        "_update",
        late_gradient(so.AdaGrad, 60, 1e-9),
        ("charlm_train_book",),
        expect="lockstep",
    ),
    Mutant(
        "late_gradient_autoencoder",
        "from step 10 of 20, SGDMomentum steps on a gradient 1e-8 too large (the chapter 7 autoencoder)",
        so.SGDMomentum,
        "_update",
        late_gradient(so.SGDMomentum, 10, 1e-8),
        ("autoencoder_mnist14_20_steps",),
        expect="lockstep",
    ),
    Mutant(
        "late_gradient_cnn",
        "from step 40 of 50 (past the free-running horizon), SGDMomentum steps on a gradient 1e-8 too large (CNN)",
        so.SGDMomentum,
        "_update",
        late_gradient(so.SGDMomentum, 40, 1e-8),
        ("cnn_torch_50_steps",),
        expect="lockstep",
    ),
    Mutant(
        "dropout_eval_scale_off",
        "dropout in eval mode scales by 1 + 1e-9: only the test loss moves (PyTorchTrainer, chapter 4 dropout)",
        sl.Dropout,
        "forward",
        _dropout_eval_scale_off,
        ("pytorch_trainer_boston_torch_decay", "mnist_dropout_torch"),
        expect="lockstep",
    ),
]
