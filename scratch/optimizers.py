"""Chapters 3-4, 6: Optimizer and SGD (chapter 4 adds momentum and learning-rate decay here).

Twin: ``torch_ref/optimizers.py`` (``torch.optim``). Like ``torch.optim``, an optimizer is built
from the parameters it updates (``SGD(net.parameters(), lr=0.01)``) and keeps them in
``param_groups``: one group ``{"params": [...], "lr": ...}``. A learning-rate schedule changes
``param_groups[0]["lr"]`` between epochs, exactly as ``torch.optim.lr_scheduler`` does, so the
same scheduler logic reads the same on both twins. (The book's ``Optimizer`` takes only ``lr`` and
gets the network from the ``Trainer``.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from scratch._checks import Array
from scratch.module import Module, Parameter


class Optimizer:
    """Base class: holds the parameters and per-parameter state; ``step()`` updates in place.

    Args:
        params: the ``Parameter`` objects to update (``module.parameters()``).
        defaults: hyper-parameters of the single parameter group (``lr`` and others).

    Attributes:
        param_groups: ``[{"params": [Parameter, ...], "lr": float, ...}]``.
        state: per-parameter buffers (momentum, ...), keyed by the ``Parameter`` object.
    """

    def __init__(self, params: Iterable[Parameter], defaults: dict[str, Any]) -> None:
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(f"{type(self).__name__} expects scratch Parameters, got {type(p).__name__}")
        lr = defaults.get("lr")
        if not isinstance(lr, (int, float)) or lr <= 0:
            raise ValueError(f"learning rate must be a positive number, got {lr!r}")
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = [{"params": params, **defaults}]
        self.state: dict[Parameter, dict[str, Array]] = {}

    def zero_grad(self) -> None:
        """Forget the last gradients (``backward`` writes fresh ones)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, p.grad, group)

    def _update(self, param: Parameter, grad: Array, group: dict[str, Any]) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Plain stochastic gradient descent: ``p <- p - lr * g``.

    Args:
        params: parameters to update.
        lr: learning rate (> 0).
    """

    def __init__(self, params: Iterable[Parameter], lr: float) -> None:
        super().__init__(params, {"lr": lr})

    def _update(self, param: Parameter, grad: Array, group: dict[str, Any]) -> None:
        param.data -= group["lr"] * grad  # in place: every holder of this Parameter sees the step


#: The two AdaGrad forms: PyTorch's ``torch.optim.Adagrad`` and the book's chapter 6 optimizer.
ADAGRAD_FORMS = ("torch", "book")


class AdaGrad(Optimizer):
    """AdaGrad: a per-element learning rate shrinking with the running sum of squared gradients.

    Args:
        params: parameters to update.
        lr: learning rate (> 0); the book's default is 0.01, as is PyTorch's.
        eps: the epsilon; ``None`` picks the form's own (1e-10 for ``"torch"``, 1e-7 for ``"book"``).
        form: where epsilon goes.

            - ``"torch"`` (default, ``torch.optim.Adagrad``): ``s <- s + g^2``;
              ``p <- p - lr * g / (sqrt(s) + eps)``.
            - ``"book"``: ``s <- s + (eps + g^2)``; ``p <- p - lr / sqrt(s) * g``: epsilon is
              accumulated inside the square root, once per step.

    State:
        ``state[p]["sum"]``: ``s``, the parameter's shape, zero before the first step (PyTorch's
        ``initial_accumulator_value=0``).
    """

    def __init__(
        self, params: Iterable[Parameter], lr: float = 0.01, eps: float | None = None, form: str = "torch"
    ) -> None:
        if form not in ADAGRAD_FORMS:
            raise ValueError(f"unknown AdaGrad form {form!r}; choose from {ADAGRAD_FORMS}")
        eps = (1e-10 if form == "torch" else 1e-7) if eps is None else eps
        if eps < 0:
            raise ValueError(f"eps must be >= 0, got {eps}")
        super().__init__(params, {"lr": lr, "eps": eps})
        self.form = form

    def _update(self, param: Parameter, grad: Array, group: dict[str, Any]) -> None:
        state = self.state.setdefault(param, {"sum": np.zeros_like(param.data)})
        s = state["sum"]
        if self.form == "torch":
            s += grad * grad
            param.data -= group["lr"] * (grad / (np.sqrt(s) + group["eps"]))  # torch's order: lr * (g / std)
        else:
            s += group["eps"] + grad * grad
            param.data -= group["lr"] / np.sqrt(s) * grad


def _with_grads(parameters: Module | Iterable[Parameter]) -> list[tuple[Parameter, Array]]:
    """``(parameter, gradient)`` for each parameter holding a gradient (a ``Module`` stands for its
    ``parameters()``)."""
    params = parameters.parameters() if isinstance(parameters, Module) else list(parameters)
    for p in params:
        if not isinstance(p, Parameter):
            raise TypeError(f"gradient clipping expects scratch Parameters, got {type(p).__name__}")
    return [(p, p.grad) for p in params if p.grad is not None]


def clip_grad_value_(parameters: Module | Iterable[Parameter], clip_value: float) -> None:
    """Clip every gradient element to ``[-clip_value, clip_value]`` in place (the book's RNN
    trainer clips at 2). Twin: ``torch.nn.utils.clip_grad_value_``.

    ``g <- min(max(g, -c), c)``; the clipped step is then a plain function of the clipped ``g``.
    """
    if not clip_value > 0:
        raise ValueError(f"clip_value must be positive, got {clip_value!r}")
    for p, grad in _with_grads(parameters):
        p.grad = np.clip(grad, -clip_value, clip_value)


def clip_grad_norm_(parameters: Module | Iterable[Parameter], max_norm: float) -> float:
    """Scale all gradients together so that their joint 2-norm is at most ``max_norm``.

    Twin: ``torch.nn.utils.clip_grad_norm_`` (``norm_type=2``), including its ``1e-6`` guard:
    ``n = sqrt(sum_p ||g_p||^2)``; ``g <- g * min(1, max_norm / (n + 1e-6))``. Returns ``n`` (the
    norm before clipping), as torch does.
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm!r}")
    pairs = _with_grads(parameters)
    if not pairs:
        return 0.0
    norms = np.array([np.linalg.norm(grad) for _, grad in pairs])  # per tensor, then the norm of the norms
    total = float(np.linalg.norm(norms))
    coef = min(1.0, max_norm / (total + 1e-6))
    for p, grad in pairs:
        p.grad = grad * coef
    return total
