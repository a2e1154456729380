"""Where the book's code (2019) and PyTorch differ: the conventions table of the report.

Our twins' default follows PyTorch; the book's variant is an explicit option on both twins,
parity-checked like the rest (the README's conventions table).
"""

from __future__ import annotations

#: Where the book and PyTorch differ. Our default follows PyTorch; the book's way is an option on both twins.
CONVENTIONS = [
    ("Dense weight layout", "W (in, out), B (1, out); out = X W + B", "weight (out, in), bias (out,); Y = X W^T + b"),
    ("MSE loss", "sum of squares over outputs, divided by the batch size", "mean over every element (N * D)"),
    (
        "Softmax cross-entropy",
        "p clipped to [1e-9, 1 - 1e-9]; the value adds -(1 - y) log(1 - p), so exceeds CE; gradient (p - y) / N",
        "log-softmax, no clipping; the same gradient (p - y) / N",
    ),
    ("SGD momentum", "v = mu v + lr g; p -= v", "buf = mu buf + g; p -= lr buf (equal at constant lr)"),
    ("Learning-rate decay", "per epoch, over E - 1 steps, linear or exponential", "lr_scheduler stepped per epoch"),
    ("Dropout", "not inverted: train x * m (keep prob.), eval x * keep", "inverted: train x * m / (1 - p), eval x"),
    ("AdaGrad", "s += 1e-7 + g^2; p -= lr g / sqrt(s)", "s += g^2; p -= lr g / (sqrt(s) + 1e-10)"),
    ("Gradient clipping (RNN)", "elementwise to [-2, 2]", "clip_grad_value_(2)"),
    ("Conv2D weight", "(C_in, C_out, k, k), same padding, no bias", "(C_out, C_in, kH, kW), NCHW"),
    (
        "LSTM / GRU gates",
        "LSTM f, i, c, o; GRU reset before the hidden matmul",
        "LSTM i, f, g, o; GRU r, z, n, reset after",
    ),
    ("Glorot init", "std 2 / (in + out) (square root missing)", "std sqrt(2 / (in + out))"),
]
