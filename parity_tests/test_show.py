"""Specification: ``show`` names the chapter that introduces a component."""

from parity_tests.show import components


def test_a_component_with_cases_in_several_chapters_is_shown_under_its_first() -> None:
    ((stem, component, chapter, cases),) = components("Trainer")
    assert (stem, component) == ("trainer", "Trainer")
    assert {c.chapter for c in cases} >= {3, 5}  # the CNN run is a chapter 5 Trainer case
    assert chapter == 3
