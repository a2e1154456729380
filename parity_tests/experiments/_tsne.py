"""The chapter 7 autoencoder's picture: a t-SNE map of both twins' codes, side by side.

The book fits scikit-learn's ``TSNE(n_components=2, random_state=20190405)`` to the 28-dimensional
codes of the 10,000 test digits and colours each point by its digit. Here the same is done for the
codes each trained twin gives the same test images, and the two maps are drawn side by side.
scikit-learn's defaults have changed since 2019 (``init="pca"`` and ``learning_rate="auto"``
since 1.2; the book ran with ``init="random"`` and a rate of 200); we keep today's defaults and the
book's random state. Two maps of codes that agree to rounding come out the same up to t-SNE's own
sensitivity, which the table reports (``max_coordinate_difference``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

#: The book's ``random_state`` for its t-SNE map.
TSNE_RANDOM_STATE = 20190405
CHUNK = 100


def codes(scratch_model: Any, torch_model: Any, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both twins' encodings ``(N, hidden_dim)`` of ``X``, in eval mode and chunks of ``CHUNK`` images."""
    scratch_model.eval()
    torch_model.eval()
    device = next(torch_model.parameters()).device
    s_parts, t_parts = [], []
    for start in range(0, len(X), CHUNK):
        chunk = X[start : start + CHUNK]
        s_parts.append(scratch_model.encode(chunk))
        with torch.no_grad():
            t_parts.append(torch_model.encode(torch.tensor(chunk, device=device)).cpu().numpy())
    return np.concatenate(s_parts), np.concatenate(t_parts)


def embed(codes: np.ndarray) -> np.ndarray:
    """The 2-D t-SNE map ``(N, 2)`` of ``codes`` (float64, the book's random state)."""
    from sklearn.manifold import TSNE

    perplexity = min(30.0, (len(codes) - 1) / 3.0)  # scikit-learn needs perplexity < n_samples
    tsne = TSNE(n_components=2, random_state=TSNE_RANDOM_STATE, perplexity=perplexity)
    return np.asarray(tsne.fit_transform(np.asarray(codes, dtype=np.float64)))


def tsne_maps(scratch_codes: np.ndarray, torch_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Both maps and the largest coordinate difference between them."""
    s_map, t_map = embed(scratch_codes), embed(torch_codes)
    return s_map, t_map, float(np.max(np.abs(s_map - t_map)))


def drawer(s_map: np.ndarray, t_map: np.ndarray, labels: np.ndarray) -> Callable[[Path], Path]:
    """``path -> path``: draws both maps side by side, coloured by digit, into the PNG ``path``."""

    def draw(path: Path) -> Path:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(11, 5.2))
        for ax, points, side in zip(axes, (s_map, t_map), ("scratch (NumPy)", "torch"), strict=True):
            scatter = ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", vmin=-0.5, vmax=9.5, s=4)
            ax.set_title(f"{side}: t-SNE of the codes ({len(points):,} test digits)", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
        fig.colorbar(scatter, ax=list(axes), ticks=range(10), label="digit")
        fig.suptitle(f"Chapter 7 autoencoder: t-SNE (random_state={TSNE_RANDOM_STATE}) of both twins' codes")
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path

    return draw
