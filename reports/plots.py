"""PNG plots of the report (matplotlib, Agg backend: no display needed).

- ``budget_heatmap``: component x check, colour = log10 of the largest ``budget_used``
  (green: far inside the tolerance; yellow: at the limit, budget 1; red: outside), one panel per
  dtype/device.
- ``speed_bars``: ratio scratch/torch of the forward+backward median per case, per thread count,
  on a log axis (1 = the same speed).
- ``scaling``: forward+backward time against batch size where a component is benched at several.
- ``curves``: scratch and torch loss per step for each run of an experiment, with their absolute
  difference below on a log axis.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm

_FLOOR = -8.0  # log10 budget shown for exact agreement (budget 0)
_CEIL = 2.0  # log10 budget shown for inf / NaN (a crash or a shape mismatch)


def check_kind(check: str) -> str:
    """Column of the heatmap: every ``grad_<name>`` is one ``gradients`` column; digits become N."""
    return "gradients" if check.startswith("grad_") else re.sub(r"\d+", "N", check)


def _kind_order(kind: str) -> tuple[int, str]:
    first = {"state_dict": 0, "forward": 1, "gradients": 2, "finite_difference": 3, "trajectory": 5}
    return (first.get(kind, 4), kind)


def budget_heatmap(rows: pd.DataFrame, path: Path) -> Path | None:
    """Heatmap of ``log10(max budget_used)`` per component x check; one panel per dtype/device."""
    if rows.empty:
        return None
    data = rows.assign(
        log_budget=np.clip(
            np.log10(rows["budget_used"].astype(float).fillna(np.inf).clip(lower=1e-300)), _FLOOR, _CEIL
        ),
        panel=rows["dtype"] + " / " + rows["device"],
        kind=rows["check"].map(check_kind),
        pair=rows["stem"] + "." + rows["component"],
    )
    panels = sorted(data["panel"].unique(), key=lambda p: (not p.startswith("float64"), p))
    components = list(dict.fromkeys(data.sort_values(["chapter", "stem"], kind="stable")["pair"]))
    checks = sorted(data["kind"].unique(), key=_kind_order)
    height = 1.5 + 0.32 * len(components)
    width = 3 + 0.6 * len(checks) * len(panels)
    fig, axes = plt.subplots(1, len(panels), figsize=(width, height), squeeze=False, layout="constrained")
    norm = TwoSlopeNorm(vmin=_FLOOR, vcenter=0.0, vmax=_CEIL)
    cmap = matplotlib.colormaps["RdYlGn_r"].with_extremes(bad="lightgrey")
    image = None
    for ax, panel in zip(axes[0], panels, strict=True):
        grid = (
            data[data["panel"] == panel]
            .pivot_table(index="pair", columns="kind", values="log_budget", aggfunc="max")
            .reindex(index=components, columns=checks)
        )
        image = ax.imshow(np.ma.masked_invalid(grid.to_numpy(dtype=float)), cmap=cmap, norm=norm, aspect="auto")
        ax.set_xticks(range(len(checks)), checks, rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(len(components)), components if ax is axes[0][0] else [], fontsize=8)
        ax.set_title(panel, fontsize=10)
    assert image is not None  # at least one panel
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.6, aspect=30, label="log10 max budget_used (0: at the limit)")
    fig.suptitle("Error budget used per component and check (grey: no such check)", fontsize=11)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def speed_bars(bench: pd.DataFrame, path: Path) -> Path | None:
    """Bars of scratch/torch time ratios (forward+backward) per case and thread count."""
    data = bench[(bench["phase"] == "forward_backward") & np.isfinite(bench["ratio"].astype(float))]
    if data.empty:
        return None
    cases = list(dict.fromkeys(data["case"]))
    threads = sorted(data["threads"].unique())
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.3 * len(cases) * len(threads)))
    height = 0.8 / len(threads)
    for k, n in enumerate(threads):
        sub = data[data["threads"] == n].set_index("case").reindex(cases)
        y = np.arange(len(cases)) + k * height
        ax.barh(y, sub["ratio"].to_numpy(dtype=float), height=height, label=f"{n} thread{'s' if n > 1 else ''}")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yticks(np.arange(len(cases)) + 0.4 - height / 2, cases, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("time ratio scratch / torch (forward + backward, median); > 1: NumPy twin slower")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def scaling(bench: pd.DataFrame, path: Path) -> Path | None:
    """Forward+backward time against batch size, for each shape benched at 3 or more batch sizes.

    The batch size is the first dimension of the case's first input (the ``shapes`` column); cases
    whose shapes differ only there form one series.
    """
    data = bench[bench["phase"] == "forward_backward"].copy()
    data["batch"] = pd.to_numeric(data["shapes"].str.extract(r"\((\d+)", expand=False), errors="coerce")
    data = data.dropna(subset=["batch"])
    data["series"] = data["component"] + " " + data["shapes"].str.replace(r"\(\d+", "(N", n=1, regex=True)
    series = [str(k) for k, g in data.groupby("series") if g["batch"].nunique() >= 3]
    if not series:
        return None
    fig, axes = plt.subplots(1, len(series), figsize=(5 * len(series), 4), squeeze=False)
    for ax, key in zip(axes[0], series, strict=True):
        g = data[data["series"] == key]
        for n in sorted(g["threads"].unique()):
            sub = g[g["threads"] == n].groupby("batch")[["scratch_median_s", "torch_median_s"]].median()
            ax.loglog(sub.index, sub["scratch_median_s"], "o-", label=f"scratch, {n} thr")
            ax.loglog(sub.index, sub["torch_median_s"], "s--", label=f"torch, {n} thr")
        ax.set_title(f"{key}: forward + backward", fontsize=9)
        ax.set_xlabel("batch size N")
        ax.set_ylabel("seconds (median)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def curves(name: str, runs: dict[str, dict[str, list[float]]], path: Path) -> Path | None:
    """Loss per step of both twins for each run, and their absolute difference (log scale)."""
    if not runs:
        return None
    n = len(runs)
    cols = min(n, 3)
    nrows = -(-n // cols)
    fig, axes = plt.subplots(
        2 * nrows, cols, figsize=(4.5 * cols, 4.2 * nrows), squeeze=False, gridspec_kw={"height_ratios": [3, 1] * nrows}
    )
    for i, (label, sides) in enumerate(runs.items()):
        top, bottom = axes[2 * (i // cols)][i % cols], axes[2 * (i // cols) + 1][i % cols]
        s = np.asarray(sides.get("scratch", []), dtype=float)
        t = np.asarray(sides.get("torch", []), dtype=float)
        top.plot(s, label="scratch (NumPy)", linewidth=1.4)
        top.plot(t, label="torch", linewidth=1.0, linestyle="--")
        top.set_title(label, fontsize=9)
        top.set_ylabel("loss")
        if s.size and t.size and min(s.min(), t.min()) > 0:
            top.set_yscale("log")
        top.legend(fontsize=7)
        m = min(len(s), len(t))
        if m:
            diff = np.abs(s[:m] - t[:m])
            bottom.semilogy(np.where(diff > 0, diff, np.nan), ".", markersize=2, color="tab:red")
        bottom.set_ylabel("|Δ| (0: not drawn)", fontsize=7)
        bottom.set_xlabel("step")
    for j in range(n, nrows * cols):
        axes[2 * (j // cols)][j % cols].set_visible(False)
        axes[2 * (j // cols) + 1][j % cols].set_visible(False)
    fig.suptitle(f"{name}: training curves, scratch vs torch", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
