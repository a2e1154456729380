"""Specification: the study site works in a real browser (headless Chromium).

A small report (Dense and LSTM, quick mode, a stand-in experiment for the training curves) is
built as ``dlfs-parity report`` builds it; every page reachable from the index is opened in
Chromium: no console errors, no broken links or images, the maths rendered as MathML, every
component page reachable. Without Chromium the test skips, except under CI (``CI=true``), where a
missing browser is a failure.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pandas as pd
import pytest

from parity_tests import experiments
from parity_tests.experiments import Experiment, ExperimentResult
from reports import build
from reports.browser import Chromium, check_site, find_chromium


def _need_chromium() -> None:
    if find_chromium() is not None:
        return
    message = "chromium is not installed (apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}: under CI the browser test must run")
    pytest.skip(message)


def _stand_in(args: object) -> ExperimentResult:
    table = pd.DataFrame({"model": ["linear"], "scratch MAE": [3.5], "book MAE": [3.52]})
    curves = {"linear": {"scratch": [1.0, 0.6, 0.4], "torch": [1.0, 0.6, 0.4]}}
    return ExperimentResult("boston", table, curves, [], "A stand-in for the Boston experiment.")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _need_chromium()
    out = tmp_path_factory.mktemp("site") / "report"
    fake = Experiment("boston", 3, "stand-in Boston run", lambda parser: None, _stand_in)
    mp = pytest.MonkeyPatch()
    mp.setattr(experiments, "all_experiments", lambda: {"boston": fake})
    try:
        build.build_report(out, quick=True, only=["Dense", "LSTM"])
    finally:
        mp.undo()
    return out


def test_every_page_loads_without_errors_broken_links_or_unrendered_maths(site: Path) -> None:
    with Chromium() as browser:
        result = check_site(site, browser)
    assert result.problems == []
    pages = {Path(url).name for url in result.visited}
    assert {"index.html", "report.html", "errata.html", "layers.Dense.html", "rnn.LSTM.html"} <= pages
    lstm = next(v for url, v in result.visited.items() if url.endswith("rnn.LSTM.html"))
    assert lstm.maths >= 10 and lstm.maths_rendered == lstm.maths


def test_the_check_finds_broken_links_and_images_console_errors_and_unreachable_pages(
    site: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    page = '<html><body><a href="nowhere.html">x</a><img src="none.png" alt="x">'
    script = '<script>console.error("planted console error"); undefinedFunction();</script></body></html>'
    (broken / "index.html").write_text(page + script)
    (broken / "components").mkdir()
    (broken / "components" / "orphan.html").write_text("<html><body><p>no maths</p></body></html>")
    with Chromium() as browser:
        problems = "\n".join(check_site(broken, browser).problems)
    assert "broken link" in problems and "nowhere.html" in problems
    assert "image does not load" in problems and "none.png" in problems
    assert "components/orphan.html: not reachable from index.html" in problems
    assert "planted console error" in problems and "exception" in problems


def test_the_component_pages_show_both_twins_with_helpers_bugs_and_curves(site: Path) -> None:
    dense = (site / "components" / "layers.Dense.html").read_text()
    for helper in ("scratch.operations.WeightMultiply", "scratch.operations.BiasAdd", "scratch.layers.Layer.forward"):
        assert helper in dense
    assert "torch_ref.layers.Dense" in dense and "backward: autograd" in dense and "nn.Linear" in dense
    assert "curves_boston.png" in dense
    lstm = (site / "components" / "rnn.LSTM.html").read_text()
    assert "scratch.rnn_cells.lstm_step_backward" in lstm and "scratch.rnn.backward_through_time" in lstm
    planted = lstm.split('id="planted-bugs"')[1]
    assert "bptt_hidden_grad_not_carried" in planted and "caught" in planted


def test_screenshots_of_the_index_and_two_component_pages_are_saved(site: Path) -> None:
    shots = sorted(p.name for p in (site / "screenshots").iterdir())
    assert shots == ["index.png", "layers.Dense.png", "rnn.LSTM.png"]
    for name in shots:
        head = (site / "screenshots" / name).read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", head[16:24])
        assert (width, height) == (1400, 1400)
