"""age keys: Bech32 `age1...` recipients and `AGE-SECRET-KEY-1...` identities, and what a mistyped one says."""

import pytest

from exports import _age, _bech32
from exports.encrypt import check_recipient, new_identity
from tests.exports.age_cli import age_keygen

# A pair made by `age-keygen` (a known answer: our Bech32 and X25519 must give the same public key).
SECRET = "AGE-SECRET-KEY-1DVRZ0ET9GWCQHZ8P7085ZWSFEQGRNWF4HD7JQTG20KTEVE3E7H8QXYVWXG"
PUBLIC = "age1v2qnae3phdtr5kvkk6fuukl6lwacg498dc0qntwepzt0rd9nypwsl89d84"


def test_known_pair():
    [identity] = _age.parse_identities(SECRET)
    assert _age.recipient_text(identity) == PUBLIC
    assert _age.identity_text(identity) == SECRET
    check_recipient(PUBLIC)


def test_bip173_vectors():
    # Valid strings from BIP 173 whose data is whole bytes, in both cases.
    assert _bech32.decode("A12UEL5L") == ("A", b"")
    assert _bech32.decode("a12uel5l") == ("a", b"")
    hrp, data = _bech32.decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw")
    assert hrp == "abcdef" and _bech32.encode(hrp, data) == "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"


def test_new_identity_matches_age_keygen_format(tmp_path):
    secret, public = new_identity()
    assert _age.recipient_text(_age.parse_identities(secret)[0]) == public
    identity_file, recipient = age_keygen(tmp_path)
    assert len(secret) == len(identity_file.read_text().splitlines()[-1]) and len(public) == len(recipient)
    assert secret.startswith("AGE-SECRET-KEY-1") and public.startswith("age1")


def _flip_last(text: str) -> str:
    last = "q" if text[-1] != "q" else "p"
    return text[:-1] + last


@pytest.mark.parametrize(
    ("recipient", "says"),
    [
        (_flip_last(PUBLIC), "checksum does not match"),
        (PUBLIC[:4] + PUBLIC[4].upper() + PUBLIC[5:], "mixes upper- and lower-case"),
        (PUBLIC.upper(), "must start with 'age1' in lower case"),
        (_bech32.encode("bc", bytes(range(32))), "must start with 'age1'"),
        (SECRET, "must start with 'age1'"),
        (_bech32.encode("age", bytes(range(31))), "holds 31 bytes"),
        (_bech32.encode("age", bytes(range(33))), "holds 33 bytes"),
        (_bech32.encode("age", bytes(32)), "not a usable X25519 public key"),  # a low-order point
        (PUBLIC[:20] + "b" + PUBLIC[21:], "character Bech32 does not use"),
        ("age1", "too short"),
        ("", "too short"),
        ("not-a-key", "lacks the '1' separator"),
    ],
)
def test_malformed_recipient_says_what_is_wrong(recipient, says):
    with pytest.raises(ValueError) as info:
        check_recipient(recipient)
    message = str(info.value)
    assert message.startswith("invalid age recipient: ") and says in message
    assert "\n" not in message


def test_surrounding_whitespace_is_forgiven():
    check_recipient(f"  {PUBLIC}\n")


@pytest.mark.parametrize(
    "text",
    [
        _flip_last(SECRET),
        SECRET.lower(),  # age writes and reads identities in upper case
        PUBLIC,
        _bech32.encode("AGE-SECRET-KEY-", bytes(range(31))),
        "# only a comment\n",
        "",
    ],
)
def test_malformed_identity_never_quotes_the_key(text):
    with pytest.raises(ValueError) as info:
        _age.parse_identities(text)
    message = str(info.value)
    assert "identity" in message and "\n" not in message
    assert SECRET[16:] not in message.upper() and PUBLIC[4:] not in message


def test_identity_file_with_several_keys():
    other, _ = new_identity()
    identities = _age.parse_identities(f"# created: now\n# public key: {PUBLIC}\n\n{other}\n{SECRET}\n")
    assert [_age.identity_text(i) for i in identities] == [other, SECRET]
