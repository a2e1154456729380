"""Chapter 6: the book's recurrent model shape and the character-level language model.

Twin: ``torch_ref/charlm.py``. The book's ``RNNLayer`` / ``GRULayer`` / ``LSTMLayer`` is a
recurrent layer followed by its own output projection; a model stacks such layers; the hidden
state left by one batch (its batch mean, detached) starts the next. Here the recurrent part is the
sequence layer of ``scratch/rnn.py`` (PyTorch's names and gate orders) and the projection is a
``Dense``, so ``state_dict`` keys are those of ``nn.LSTM`` + ``nn.Linear`` in an ``nn.ModuleList``:
``layers.0.rnn.weight_ih_l0``, ..., ``layers.0.proj.weight``, ``layers.0.proj.bias``.

One training step (``train_step``) is the book's: forward, loss, backward through time, clip every
gradient element to ``[-2, 2]``, then the optimizer's step.
"""

from __future__ import annotations

import numpy as np

from scratch import optimizers as so
from scratch._checks import Array, check_input, check_same_shape
from scratch._recurrent_cell import State
from scratch.layers import Dense
from scratch.losses import Loss
from scratch.module import Module
from scratch.rnn import GRU, LSTM, RNN

#: Recurrent cells a ``RecurrentLayer`` can hold.
CELLS = {"rnn": RNN, "gru": GRU, "lstm": LSTM}


def _check_size(name: str, value: int) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


class RecurrentLayer(Module):
    """A recurrent layer and its output projection, with the hidden state carried between batches.

    Args:
        cell: ``"rnn"``, ``"gru"`` or ``"lstm"``.
        input_size: I; hidden_size: H; output_size: O.
        rng: generator for the initial weights (PyTorch's ``U(-1/sqrt(fan), 1/sqrt(fan))``).
        reset_after: GRU only. ``True`` (PyTorch's GRU) or ``False``, the book's GRU (reset gate
            applied to ``h`` before the hidden matmul; see ``scratch/rnn_cells.py``).
        single_bias: ``False`` (PyTorch): two biases per gate, ``bias_ih`` and ``bias_hh``.
            ``True`` (the book): one bias per gate. The book's gate is ``[x, h] W + B``, which is
            ``x W_ih^T + b_ih + h W_hh^T`` with ``b_hh = 0``; so ``bias_hh_l0`` is held at zero
            and is not a parameter: it is left out of ``parameters()``, ``state_dict()`` and
            ``grads``, so no optimizer ever moves it (with two trained biases, SGD and AdaGrad
            step the effective bias ``b_ih + b_hh`` twice as far as the book's one bias).
        weight_scale: ``None`` keeps PyTorch's initialisation; a number ``s`` is the book's
            ``N(0, s)`` draw for every weight and bias of the layer (recurrent and projection).

    Forward (input X (N, L, I)):
        ``Hs = rnn(X, h_0)`` (N, L, H), with ``h_0`` the carried state broadcast over the N rows
        (zeros before the first batch); ``Y = Hs W^T + b`` (N, L, O). Afterwards the carried state
        becomes the batch mean of the last step's state, ``mean_n h_L[n]`` (1, 1, H) (and
        ``mean_n c_L[n]`` for an LSTM): the book's ``start_H``.
    Backward (G (N, L, O)):
        ``dHs = G W`` (N, L, H); ``dW = sum_{n,t} G^T Hs``; ``db = sum_{n,t} G``; then backward
        through time gives ``dX`` (N, L, I). The carried state is detached: its gradient is dropped.
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        output_size: int,
        *,
        rng: np.random.Generator | None = None,
        reset_after: bool = True,
        single_bias: bool = False,
        weight_scale: float | None = None,
    ) -> None:
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}; choose from {sorted(CELLS)}")
        check_book_options(cell, reset_after, single_bias, weight_scale)
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.cell = cell
        self.input_size = _check_size("input_size", input_size)
        self.hidden_size = _check_size("hidden_size", hidden_size)
        self.output_size = _check_size("output_size", output_size)
        self.reset_after, self.single_bias, self.weight_scale = reset_after, single_bias, weight_scale
        if cell == "gru":
            self.rnn: RNN | GRU | LSTM = GRU(input_size, hidden_size, reset_after, rng=rng)
        else:
            self.rnn = CELLS[cell](input_size, hidden_size, rng=rng)
        self.proj = Dense(hidden_size, output_size, rng=rng)
        # replace Dense's standard-normal draw by nn.Linear's init, U(-1/sqrt(in), 1/sqrt(in))
        bound = 1.0 / np.sqrt(hidden_size)
        self.proj.load_state_dict(
            {
                "weight": rng.uniform(-bound, bound, (output_size, hidden_size)),
                "bias": rng.uniform(-bound, bound, output_size),
            }
        )
        self.register_module("rnn", self.rnn)
        self.register_module("proj", self.proj)
        if weight_scale is not None:  # the book's N(0, s) for every weight and bias, in state-dict order
            self.load_state_dict({k: rng.normal(0.0, weight_scale, v.shape) for k, v in self.state_dict().items()})
        if single_bias:
            self._hold_bias_hh_at_zero()
        self.state: tuple[Array, ...] | None = None  # carried (1, 1, H) arrays: (h,) or (h, c)
        self.output: Array | None = None

    def _hold_bias_hh_at_zero(self) -> None:
        """The book's one bias per gate: ``bias_hh`` becomes a fixed zero, no longer a parameter."""
        self.rnn.cell.bias_hh.data = np.zeros_like(self.rnn.cell.bias_hh.data)
        del self.rnn._parameters["bias_hh_l0"]  # out of parameters(), state_dict() and grads

    def reset_state(self) -> None:
        """Forget the carried state: the next batch starts from zeros."""
        self.state = None

    def _initial_state(self, n: int) -> Array | State | None:
        if self.state is None:
            return None
        full = tuple(np.broadcast_to(s, (1, n, self.hidden_size)).copy() for s in self.state)  # (1, N, H)
        return full if self.cell == "lstm" else full[0]

    def _carry(self, final: Array | State) -> None:
        """Keep the batch mean of the final state, ``(1, N, H) -> (1, 1, H)``, for the next batch."""
        states = final if isinstance(final, tuple) else (final,)
        self.state = tuple(s.mean(axis=1, keepdims=True) for s in states)

    def forward(self, input: Array) -> Array:
        x = check_input(input, ("N", "L", self.input_size), "RecurrentLayer input")
        n, length, _ = x.shape
        if self.single_bias:  # the fixed zero bias follows the parameters' dtype (Module.to casts parameters only)
            fixed = self.rnn.cell.bias_hh
            fixed.data = fixed.data.astype(self.rnn.cell.weight_hh.data.dtype, copy=False)
        hidden = self.rnn.forward(x, self._initial_state(n))  # (N, L, H)
        self._carry(self.rnn.final_state())
        flat = self.proj.forward(hidden.reshape(n * length, self.hidden_size))  # (N*L, O)
        self.output = flat.reshape(n, length, self.output_size)  # (N, L, O)
        return self.output

    __call__ = forward

    def backward(self, grad_output: Array) -> Array:
        if self.output is None:
            raise RuntimeError("RecurrentLayer.backward called before forward")
        g = check_same_shape(grad_output, self._forward_output(), "RecurrentLayer grad_output")
        n, length, _ = g.shape
        grad_hidden = self.proj.backward(g.reshape(n * length, self.output_size))  # (N*L, H)
        return self.rnn.backward(grad_hidden.reshape(n, length, self.hidden_size))  # (N, L, I)


def check_book_options(cell: str, reset_after: bool, single_bias: bool, weight_scale: float | None) -> None:
    """The book options' checks (same wording on both twins)."""
    for name, flag in (("reset_after", reset_after), ("single_bias", single_bias)):
        if not isinstance(flag, bool):
            raise TypeError(f"RecurrentLayer {name} must be True or False, got {flag!r}")
    if not reset_after and cell != "gru":
        raise ValueError(f"reset_after=False (the book's GRU) needs cell='gru', got cell={cell!r}")
    if weight_scale is not None and (
        not isinstance(weight_scale, int | float) or isinstance(weight_scale, bool) or not 0 < weight_scale < np.inf
    ):
        raise ValueError(f"weight_scale must be a positive finite number (a std) or None, got {weight_scale!r}")


class CharLM(Module):
    """The book's ``RNNModel``: stacked ``RecurrentLayer``s from one-hot characters to logits.

    Args:
        vocab_size: V (one-hot input width and logit width).
        hidden_size: H of every recurrent layer (the book's chapter 6 model: 256).
        num_layers: layers in the stack; every layer but the last projects to H, the last to V.
        cell: ``"lstm"`` (the book's char model), ``"gru"`` or ``"rnn"``.
        rng: generator for the initial weights, layer by layer.
        reset_after, single_bias, weight_scale: the book options of every ``RecurrentLayer``.

    Forward: ``X`` (N, L, V) -> logits (N, L, V) through the layers in order.
    Backward: logits gradient (N, L, V) -> input gradient (N, L, V), layers in reverse.
    """

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int,
        num_layers: int = 1,
        cell: str = "lstm",
        *,
        rng: np.random.Generator | None = None,
        reset_after: bool = True,
        single_bias: bool = False,
        weight_scale: float | None = None,
    ) -> None:
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.vocab_size = _check_size("vocab_size", vocab_size)
        _check_size("num_layers", num_layers)
        sizes = [vocab_size] + [hidden_size] * (num_layers - 1) + [vocab_size]
        self.layers = [
            RecurrentLayer(
                cell,
                sizes[i],
                hidden_size,
                sizes[i + 1],
                rng=rng,
                reset_after=reset_after,
                single_bias=single_bias,
                weight_scale=weight_scale,
            )
            for i in range(num_layers)
        ]
        for i, layer in enumerate(self.layers):
            self.register_module(f"layers.{i}", layer)  # keys layers.0.rnn.weight_ih_l0, as in nn.ModuleList

    def reset_state(self) -> None:
        for layer in self.layers:
            layer.reset_state()

    def forward(self, input: Array) -> Array:
        x = check_input(input, ("N", "L", self.vocab_size), "CharLM input")
        for layer in self.layers:
            x = layer.forward(x)
        return x

    __call__ = forward

    def backward(self, grad_output: Array) -> Array:
        g = grad_output
        for layer in reversed(self.layers):
            g = layer.backward(g)
        return g

    def sample(self, start: int, length: int, rng: np.random.Generator) -> list[int]:
        """Generate ``length`` character indices after ``start``, one step at a time.

        Each step feeds the last character as a (1, 1, V) one-hot batch, turns the logits into
        ``p = softmax(z)`` and draws the next index by inverting the cumulative sum of ``p`` at
        ``u ~ U[0, 1)`` from ``rng``. Starts from the carried state and restores it afterwards
        (the book sampled from a deep copy of the model).
        """
        if not isinstance(start, int | np.integer) or isinstance(start, bool):
            raise TypeError(f"start must be a character index (int), got {type(start).__name__}")
        if not 0 <= start < self.vocab_size:
            raise ValueError(f"start index {start} out of range [0, {self.vocab_size})")
        _check_size("length", length)
        saved = [layer.state for layer in self.layers]
        dtype = self.layers[0].rnn.cell.weight_ih.data.dtype
        out, current = [], start
        for _ in range(length):
            x = np.zeros((1, 1, self.vocab_size), dtype=dtype)
            x[0, 0, current] = 1.0
            logits = self.forward(x)[0, 0]  # (V,)
            p = np.exp(logits - logits.max())  # shift by the max: exp never overflows
            cdf = np.cumsum(p / p.sum())
            current = min(int(np.searchsorted(cdf, rng.random(), side="right")), self.vocab_size - 1)
            out.append(current)
        for layer, state in zip(self.layers, saved, strict=True):
            layer.state = state
        return out


def train_step(
    model: CharLM,
    loss: Loss,
    optimizer: so.Optimizer,
    inputs: Array,
    targets: Array,
    clip_value: float | None = 2.0,
    max_norm: float | None = None,
) -> float:
    """One step of the book's chapter 6 trainer; returns the loss before the update.

    ``logits = model(inputs)``; ``L = loss(logits, targets)``; ``model.backward(dL/dlogits)``;
    clip every gradient element to ``[-clip_value, clip_value]`` (the book's 2; ``None`` skips),
    optionally rescale to joint norm ``max_norm``; then ``optimizer.step()``.
    """
    optimizer.zero_grad()
    value = loss.forward(model.forward(inputs), targets)
    model.backward(loss.backward())
    if clip_value is not None:
        so.clip_grad_value_(model, clip_value)
    if max_norm is not None:
        so.clip_grad_norm_(model, max_norm)
    optimizer.step()
    return value
