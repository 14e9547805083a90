"""The Y-tunnus check: the shape and the mod-11 check digit, with the real numbers of our first users' notices."""

import pytest

from flows.business_id import check_business_id


@pytest.mark.parametrize("value", [
    "3183213-3",  # Ixir-verkkokurssit Oy (seeds/ixir.txt)
    "2780101-9",  # Smartum Oy (seeds/smartum.txt)
    "1234567-1",
    "1000002-0",  # remainder 0: the check digit is 0
    " 7654321-2 ",
])
def test_valid_business_ids_pass_stripped(value):
    assert check_business_id(value) == value.strip()


def test_an_older_six_digit_id_is_written_with_its_leading_zero():
    assert check_business_id("112038-9") == "0112038-9"


@pytest.mark.parametrize(("value", "reason"), [
    ("", "empty"),
    ("   ", "empty"),
    ("1234567-8", "check digit"),
    ("1000008-0", "check digit"),  # remainder 1: never issued, whatever the digit
    ("1000008-1", "check digit"),
    ("12345678", "NNNNNNN-N"),
    ("123456-1", "check digit"),  # 0123456-1
    ("12345-1", "NNNNNNN-N"),
    ("FI12345671", "NNNNNNN-N"),  # the VAT number is not the business ID
    ("１２３４５６７-1", "NNNNNNN-N"),  # fullwidth digits
])
def test_invalid_business_ids_say_what_is_wrong_without_the_value(value, reason):
    with pytest.raises(ValueError, match=reason) as error:
        check_business_id(value)
    assert value.strip() == "" or value not in str(error.value)
