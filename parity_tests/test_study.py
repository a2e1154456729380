"""Specification: the study catalogue covers every component, and what it names exists.

Every ``stem.Component`` of the registry has a study list; every helper it names resolves to
source code in its twin; every equation converts to MathML; ``show`` prints the list and the maths
as text; the site renders rows by their columns, so new columns and check kinds appear unchanged.
"""

from __future__ import annotations

import pandas as pd
import pytest

from parity_tests.mutation import MutantResult
from parity_tests.registry import all_cases
from parity_tests.show import show
from parity_tests.study import catalogue, maths_text, snippet, sources
from reports.site import errata_of, frame_table, mathml, mutant_verdict, worst_first

STUDIES = catalogue()


def test_every_registry_component_has_a_study_list_and_no_list_is_stale() -> None:
    in_registry = {f"{c.stem}.{c.component}" for c in all_cases()}
    missing = sorted(in_registry - set(STUDIES))
    assert missing == [], f"add a Study (helpers, maths) for each of {missing} in parity_tests/study/"
    assert sorted(set(STUDIES) - in_registry) == [], "a study list for a component the registry does not have"


@pytest.mark.parametrize("name", list(STUDIES))
def test_every_named_helper_resolves_to_code_and_every_equation_to_mathml(name: str) -> None:
    study = STUDIES[name]
    scratch, torch = sources(study, study.stem, study.component)
    empty = [s.title for s in scratch + torch if not s.code]
    assert empty == [], f"{name}: these names resolve to no source: {empty}"
    assert study.forward and study.backward
    for latex in (*study.forward, *study.backward, *study.torch_maths):
        assert mathml(latex).startswith("<math") and "<merror" not in mathml(latex)


def test_a_missing_helper_is_reported_not_raised() -> None:
    missing = snippet("scratch", "layers.NoSuchHelper")
    assert missing.code == "" and "defines no NoSuchHelper" in missing.note


def test_a_torch_builtin_is_shown_by_its_alias_line_and_named() -> None:
    alias = snippet("torch_ref", "activations.Sigmoid")
    assert alias.builtin and alias.code.strip() == "Sigmoid = nn.Sigmoid" and "torch.nn.Sigmoid" in alias.note
    subclass = snippet("torch_ref", "layers.Dense")
    assert subclass.builtin and "torch.nn.Linear" in subclass.note and "class Dense" in subclass.code


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        (r"\frac{\partial L}{\partial X} = G W^{\top}", "∂L/∂X = G Wᵀ"),
        (r"\sigma(x) = \frac{1}{1 + e^{-x}}", "σ(x) = 1/(1 + e^(-x))"),
        (r"h_t = \tanh(h_{t-1})", "h_t = tanh(h_(t-1))"),
        (r"s = \sqrt{\frac{2}{n_{in} + n_{out}}}", "s = √(2/(n_in + n_out))"),
    ],
)
def test_maths_reads_as_text_in_the_terminal(latex: str, text: str) -> None:
    assert maths_text(latex) == text


def test_show_prints_the_helpers_the_maths_and_autograd_for_a_builtin() -> None:
    out = show("Dense", width=200, figures=False)
    for expected in ("scratch.operations.WeightMultiply", "scratch.operations.BiasAdd", "scratch.layers.Layer.forward"):
        assert expected in out
    assert "∂L/∂W = G_Aᵀ X" in out and "backward: autograd" in out and "What the torch built-in computes" in out
    lstm = show("rnn.LSTM", width=200, figures=False)
    assert "scratch.rnn_cells.lstm_step_backward" in lstm and "scratch.rnn.backward_through_time" in lstm
    assert "c' = f ⊙ c + i ⊙ g" in lstm


def test_show_prints_every_component_within_the_width() -> None:
    for name in STUDIES:
        out = show(name, width=120, figures=False)
        assert STUDIES[name].section in out and "Forward:" in out and "Backward:" in out
        assert max(len(line) for line in out.splitlines()) <= 120, name


def test_rows_are_shown_by_their_columns_so_new_ones_appear() -> None:
    rows = pd.DataFrame(
        [
            {
                "component": "SGD",
                "stem": "optimizers",
                "case": "c",
                "check": "lockstep",
                "target": "param[weight]",
                "budget_used": 0.25,
                "passed": True,
                "step": 7,
                "versions": "x",
            },
        ]
    )
    headers, body = frame_table(rows)
    assert headers[:4] == ["case", "check", "target", "budget_used"] and "step" in headers
    assert "component" not in headers and "versions" not in headers
    assert body == [["c", "lockstep", "param[weight]", "2.5e-01", "yes", "7"]]


def test_a_mutant_is_caught_crashed_or_missed() -> None:
    def result(caught: bool, failing: int, crashed: int) -> MutantResult:
        return MutantResult("m", "d", None, caught, failing, 10, "", crashed)

    assert mutant_verdict(result(True, 3, 1)) == "caught"  # a row of the declared check failed
    assert mutant_verdict(result(False, 0, 2)) == "crashed"  # only crashes: not a catch
    assert mutant_verdict(result(False, 0, 0)) == "MISSED"


def test_a_long_list_of_rows_keeps_the_failing_ones_then_the_closest_calls() -> None:
    rows = pd.DataFrame(
        {
            "budget_used": [0.1, 0.9, float("nan"), 0.5, 2.0],
            "passed": [True, True, False, True, False],
            "case": ["a", "b", "crash", "d", "e"],
        }
    )
    assert list(worst_first(rows, limit=3)["case"]) == ["crash", "e", "b"]
    assert len(worst_first(rows, limit=10)) == 5


def test_errata_records_attach_to_their_mutants_by_name_or_by_number() -> None:
    from parity_tests.mutation import Mutant

    records = [
        {"number": 2, "title": "relu mask", "mutants": ("relu_mask_always_open",), "book_code": "x >= 0"},
        {"number": 5, "title": "loss value"},
    ]

    def mutant(name: str, bug: int) -> Mutant:
        return Mutant(name, "d", object(), "attr", None, ("ReLU",), bug)

    assert errata_of(mutant("relu_mask_always_open", 2), records) == [{"title": "relu mask", "book_code": "x >= 0"}]
    assert errata_of(mutant("another_relu_bug", 2), records) == []  # record 2 names its mutants
    assert errata_of(mutant("softmax_loss", 5), records) == [{"title": "loss value"}]
