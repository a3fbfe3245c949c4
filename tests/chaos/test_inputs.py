import pytest

from stormproof.chaos.runner._inputs import InputReferenceError, render


def test_whole_references_keep_their_type_and_partial_ones_format():
    saved = {"payment": {"id": "pay_1", "amount": 25}, "unique": "ab12"}
    assert render({"amount": "${payment.amount}"}, saved) == {"amount": 25}
    assert render({"email": "u-${unique}@x.org"}, saved) == {"email": "u-ab12@x.org"}
    assert render(["${payment.id}", 3], saved) == ["pay_1", 3]
    assert render("${page.items.1.id}", {"page": {"items": [{"id": "a"}, {"id": "b"}]}}) == "b"


def test_a_missing_reference_says_what_was_saved():
    with pytest.raises(
        InputReferenceError, match=r"no earlier call saved 'refund' \(saved: payment\)"
    ):
        render("${refund.id}", {"payment": {}})
    with pytest.raises(InputReferenceError, match="'payment' has no field 'nope'"):
        render("${payment.nope}", {"payment": {"id": 1}})
