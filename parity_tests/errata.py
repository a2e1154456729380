"""Errata of the book's code: every known bug, what the code does, the correct maths, and the
planted bug (mutant) that reproduces it on the scratch twin with the check that catches it.

The twins implement the correct maths; each record names the mutants (``parity_tests/mutants``)
that put the book's behaviour back, so ``dlfs-parity`` can show the harness catching it. Records are
numbered like the mutants' ``book_bug`` field. ``errata_markdown()`` renders the table (the report
turns it into a page).

Two mutants are written by the trainer's owners and may not exist yet on every branch:
``PENDING_MUTANTS`` lists them, and the test that every named mutant exists skips exactly those.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Erratum:
    """One bug in the book's code.

    Args:
        number: the ``book_bug`` number its mutants carry.
        title: a few words.
        chapter: where the code is.
        book_code: what the book's code computes.
        correct: the correct maths (what both twins compute).
        mutants: names of the planted bugs that reproduce it.
        caught_by: the registry check that fails under the mutant.
    """

    number: int
    title: str
    chapter: int
    book_code: str
    correct: str
    mutants: tuple[str, ...]
    caught_by: str


#: Mutants named here that the chapter 3 / 7 trainer work adds (absent on branches without it).
PENDING_MUTANTS = frozenset({"book_early_stopping_restore", "ch7_eval_mode_sticks"})

ERRATA: tuple[Erratum, ...] = (
    Erratum(
        1,
        "convolution input gradient",
        5,
        "the batched backward correlates the padded upstream gradient with the kernel as it is",
        "dX is the correlation of the padded upstream gradient with the kernel flipped in both spatial axes "
        "(channels swapped): the transpose of the forward convolution",
        ("conv_input_grad_unflipped_kernel",),
        "Conv2d / Conv2D grad_input rows (against autograd) and the finite-difference row",
    ),
    Erratum(
        1,
        "convolution parameter gradient",
        5,
        "the batched weight gradient pairs input patches with upstream rows in the wrong order; right only "
        "when the batch holds one image",
        "dW[o, c] = sum over images n and positions p of G[n, o, p] * patch[n, c, p]",
        ("conv_weight_grad_right_only_for_batch_1",),
        "Conv2d grad_weight rows on batches of more than one image",
    ),
    Erratum(
        2,
        "ReLU gradient",
        4,
        "backward masks the upstream gradient with output >= 0, which every ReLU output satisfies: the gradient "
        "passes unmasked",
        "dX = G * [X > 0]",
        ("relu_mask_always_open",),
        "ReLU grad_input row and the finite-difference row",
    ),
    Erratum(
        3,
        "GRU forward",
        6,
        "the update gate is computed from the reset gate's pre-activation, so z = r",
        "z = sigmoid(W_iz x + b_iz + W_hz h + b_hz), with its own weights",
        ("book_gru_update_reuses_reset",),
        "GRUCell / GRU (reset_after=False) forward rows",
    ),
    Erratum(
        4,
        "GRU backward",
        6,
        "the backward pass ignores the path from the gates to the output: every gate gradient and the input "
        "gradient come out zero",
        "each gate's gradient through h' = (1 - z) n + z h and the reset path inside n, by the chain rule",
        ("book_gru_backward_ignores_output",),
        "GRU grad_input and grad_<weight> rows and the finite-difference rows",
    ),
    Erratum(
        5,
        "softmax cross-entropy value",
        4,
        "the loss adds -(1 - y) log(1 - p) terms to -y log p (a sum of binary cross-entropies over the clipped "
        "softmax), while its gradient p - y is that of the ordinary cross-entropy",
        "L = -sum y log softmax(x) / N, whose gradient is (softmax(x) - y) / N",
        ("sequence_loss_book_value",),
        "SequenceSoftmaxCrossEntropy loss-value rows of the character-model training runs",
    ),
    Erratum(
        6,
        "autodiff over-count",
        6,
        "backward re-sends a node's accumulated gradient each time it is reached, so a node used twice is "
        "counted again (b = 4a, c = b + b gives dc/da = 12)",
        "visit nodes in reverse topological order and send each node's gradient once (dc/da = 8)",
        ("autodiff_book_reaccumulating_backward",),
        "NumberWithGrad gradient rows on expressions that reuse a node",
    ),
    Erratum(
        7,
        "chapter 2 gradients not averaged",
        2,
        "the hand-written gradients are not divided by the batch size; the linear model's dL/dP = -2 (y - P) is "
        "N times the mean loss's, the two-layer net's dL/dP = -(y - P) drops the 2 too and is N/2 times",
        "dL/dP = 2 (P - y) / N for L = mean (P - y)^2",
        ("book_linear_gradients_not_divided_by_batch", "book_two_layer_gradients_not_divided_by_batch"),
        "regression gradient rows (against autograd) and the finite-difference rows",
    ),
    Erratum(
        7,
        "chapter 2 hidden bias gradient",
        2,
        "the hidden bias gradient is summed over the batch and over the hidden units: one number for every unit",
        "dL/db1 = sum over rows of dL/dN1, one entry per hidden unit",
        ("book_hidden_bias_gradient_collapsed",),
        "regression grad_bias1 row",
    ),
    Erratum(
        8,
        "Glorot scale",
        4,
        "the standard deviation is written 2 / (fan_in + fan_out), the Glorot variance without its square root",
        "std = sqrt(2 / (fan_in + fan_out)); kept as weight_init='glorot_book' because the book's results used it",
        ("glorot_without_sqrt",),
        "init std rows (scratch sample std against torch's xavier_normal_)",
    ),
    Erratum(
        9,
        "dropout backward after inference",
        4,
        "backward always multiplies by the mask of the last training batch, also after an inference-mode "
        "forward (never used in training)",
        "after Y = X * keep, dX = G * keep",
        ("book_dropout_eval_backward_stale_mask",),
        "Dropout grad_input row of the eval-after-train case",
    ),
    Erratum(
        10,
        "normalised MSE gradient",
        4,
        "MeanSquaredError(normalize=True) compares Q = P / sum(P) with Y but returns 2 (Q - Y) / N, ignoring "
        "the normalisation's Jacobian: not the gradient of its own value",
        "dL/dP_k = (G_k - sum_j G_j Q_j) / sum(P), with G = 2 (Q - Y) / N",
        ("book_mse_normalize_gradient",),
        "MeanSquaredError grad_prediction rows and the finite-difference row (normalize=True cases)",
    ),
    Erratum(
        11,
        "early-stopping restore",
        3,
        "with eval_every > 1 the copy it restores was taken one epoch after the best evaluation (a model never "
        "evaluated), and only the trainer's reference is rebound, so the caller's network keeps the "
        "over-trained weights",
        "keep a copy of the weights at each evaluation and, on a rise in test loss, load the best one back into "
        "the caller's network",
        ("book_early_stopping_restore",),
        "parameter rows of the early-stopping trainer runs after the stop",
    ),
    Erratum(
        12,
        "chapter 7 evaluation leaves eval mode on",
        7,
        "evaluating switches the model to eval mode and the DataLoader training path never switches it back, so "
        "dropout is off for every batch after the first evaluation",
        "model.train() before each training epoch, model.eval() only while evaluating",
        ("ch7_eval_mode_sticks",),
        "loss rows of the PyTorchTrainer runs with dropout, after the first evaluation",
    ),
)


def _cell(text: str) -> str:
    """Markdown table cell text: pipes escaped, no line breaks."""
    return " ".join(text.split()).replace("|", "\\|")


def errata_markdown(errata: Iterable[Erratum] = ERRATA) -> str:
    """The errata as one markdown table, one row per record, ordered by number."""
    lines = [
        "| # | bug | ch | the book's code | correct maths | planted bug | caught by |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in sorted(errata, key=lambda e: e.number):
        mutants = ", ".join(f"`{m}`" for m in e.mutants)
        cells = [str(e.number), _cell(e.title), str(e.chapter), _cell(e.book_code), _cell(e.correct)]
        lines.append("| " + " | ".join([*cells, mutants, _cell(e.caught_by)]) + " |")
    return "\n".join(lines) + "\n"
