"""Levels of assurance and the policy: ordering, which sources a level may read, when to ask for more."""

import pytest

from identity.policy import Policy, allowed_sources, may_deliver_elsewhere, meets, rank, stronger_needed

POLICY = Policy({"customers": "substantial", "support_mail": "high", "marketing": "low"})


def test_levels_are_ordered_low_substantial_high():
    assert sorted(["high", "low", "substantial"], key=rank) == ["low", "substantial", "high"]


@pytest.mark.parametrize(("achieved", "required", "ok"), [
    ("low", "low", True), ("low", "substantial", False), ("low", "high", False),
    ("substantial", "low", True), ("substantial", "substantial", True), ("substantial", "high", False),
    ("high", "low", True), ("high", "substantial", True), ("high", "high", True),
    (None, "low", False),
])
def test_meets(achieved, required, ok):
    assert meets(achieved, required) is ok


@pytest.mark.parametrize("bad", ["Low", "medium", "", "HIGH"])
def test_an_unknown_level_is_refused_not_ranked(bad):
    with pytest.raises(ValueError, match="low, substantial, high"):
        meets(bad, "low")
    with pytest.raises(ValueError, match="low, substantial, high"):
        Policy({"customers": bad})


@pytest.mark.parametrize(("achieved", "allowed", "skipped"), [
    (None, [], {"customers": "identity level none below substantial", "support_mail": "identity level none below high",
                "marketing": "identity level none below low"}),
    ("low", ["marketing"], {"customers": "identity level low below substantial",
                            "support_mail": "identity level low below high"}),
    ("substantial", ["customers", "marketing"], {"support_mail": "identity level substantial below high"}),
    ("high", ["customers", "support_mail", "marketing"], {}),
])
def test_allowed_and_skipped_sources(achieved, allowed, skipped):
    assert allowed_sources(achieved, POLICY) == (allowed, skipped)


def test_the_minimum_level_raises_every_source_to_it():
    policy = Policy({"customers": "low", "support_mail": "high"}, minimum_level="substantial")
    assert policy.required("customers") == "substantial"
    assert policy.required("support_mail") == "high"
    assert allowed_sources("low", policy) == ([], {"customers": "identity level low below substantial",
                                                   "support_mail": "identity level low below high"})


@pytest.mark.parametrize(("achieved", "minimum", "ask_for"), [
    ("low", "low", None), ("low", "substantial", "substantial"), ("substantial", "substantial", None),
    ("substantial", "high", "high"), (None, "low", "low"),
])
def test_stronger_needed_below_the_minimum(achieved, minimum, ask_for):
    assert stronger_needed(achieved, Policy({}, minimum_level=minimum)) == ask_for


@pytest.mark.parametrize(("achieved", "ok"), [("low", False), ("substantial", False), ("high", True), (None, False)])
def test_delivering_elsewhere_needs_the_other_recipient_level(achieved, ok):
    assert may_deliver_elsewhere(achieved, Policy({}, other_recipient_level="high")) is ok
