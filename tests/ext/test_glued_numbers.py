"""Glued numbers in scientific notation are shown as powers of ten (_ext/glued_numbers.py)."""

import pytest
from docutils import nodes
from docutils.utils import new_document

from _ext.glued_numbers import GluedNumbers, as_power_of_ten


@pytest.mark.parametrize(
    ("python", "shown"),
    [
        ("1.8e-08", "1.8 × 10⁻⁸"),
        ("3e-12", "3 × 10⁻¹²"),
        ("1e-04", "1 × 10⁻⁴"),
        ("-2.5e+03", "−2.5 × 10³"),
        ("4.0E-16", "4.0 × 10⁻¹⁶"),
        ("7e+00", "7"),
    ],
)
def test_a_number_in_e_notation_becomes_a_power_of_ten(python, shown):
    assert as_power_of_ten(python) == shown


@pytest.mark.parametrize("text", ["0.5", "-0.00", "12", "inf", "1.8e-08 nats", "e-08", "3e", ""])
def test_anything_else_is_left_as_it_is(text):
    assert as_power_of_ten(text) == text


def _paragraph(*children):
    document = new_document("test")
    document += nodes.paragraph("", "", *children)
    return document


def test_only_whole_glued_values_are_rewritten():
    glued = nodes.inline("2e-13", "2e-13", classes=["pasted-text"])
    other = nodes.inline("5e-08", "5e-08")  # not a glued value: as the author wrote it
    sentence = nodes.inline("about 1e-04 here", "about 1e-04 here", classes=["pasted-text"])
    document = _paragraph(glued, other, sentence)
    transform = GluedNumbers.__new__(GluedNumbers)  # run() needs only the document
    transform.document = document
    transform.run()
    assert [n.astext() for n in (glued, other, sentence)] == [
        "2 × 10⁻¹³",
        "5e-08",
        "about 1e-04 here",
    ]
