"""Bech32 (BIP 173) as age uses it for keys: `age1...` recipients, `AGE-SECRET-KEY-1...` identities.

Like age's own internal/bech32, and unlike BIP 173, there is no 90-character
limit and the human-readable part (HRP) keeps the case it was written in, so
callers compare it exactly. Every error is a ValueError whose message says
what is wrong, so a requester can fix a mistyped key.
"""

from __future__ import annotations

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_VALUES = {c: i for i, c in enumerate(CHARSET)}
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_CHECKSUM_SIZE = 6


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, g in enumerate(_GENERATOR):
            if (top >> i) & 1:
                chk ^= g
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _regroup(data: bytes | list[int], from_bits: int, to_bits: int, pad: bool) -> list[int]:
    acc = bits = 0
    out = []
    mask = (1 << to_bits) - 1
    keep = (1 << (from_bits + to_bits - 1)) - 1  # all the bits a step can still need
    for value in data:
        acc = (acc << from_bits | value) & keep
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append(acc >> bits & mask)
    if pad and bits:
        out.append(acc << (to_bits - bits) & mask)
    elif not pad and (bits >= from_bits or acc & ((1 << bits) - 1)):
        raise ValueError("its data has invalid padding")
    return out


def encode(hrp: str, data: bytes) -> str:
    """`data` as Bech32 under `hrp`, in the case of `hrp` (age writes identities in upper case)."""
    words = _regroup(data, 8, 5, pad=True)
    polymod = _polymod(_hrp_expand(hrp.lower()) + words + [0] * _CHECKSUM_SIZE) ^ 1
    words += [polymod >> 5 * (5 - i) & 31 for i in range(_CHECKSUM_SIZE)]
    text = hrp.lower() + "1" + "".join(CHARSET[w] for w in words)
    return text.upper() if hrp.isupper() else text


def decode(text: str) -> tuple[str, bytes]:
    """(HRP as written, data bytes) of a Bech32 string; ValueError naming the problem otherwise."""
    if text.lower() != text and text.upper() != text:
        raise ValueError("it mixes upper- and lower-case letters")
    pos = text.rfind("1")
    if pos < 1 or pos + 1 + _CHECKSUM_SIZE > len(text):
        raise ValueError("it is too short or lacks the '1' separator")
    hrp = text[:pos]
    if any(not 33 <= ord(c) <= 126 for c in hrp):
        raise ValueError("its prefix has a character that is not printable ASCII")
    try:
        words = [_VALUES[c] for c in text[pos + 1 :].lower()]
    except KeyError:  # not echoed: the text may be a secret key
        raise ValueError("it contains a character Bech32 does not use (b, i, o or a symbol)") from None
    if _polymod(_hrp_expand(hrp.lower()) + words) != 1:
        raise ValueError("its checksum does not match (a character is mistyped or missing)")
    return hrp, bytes(_regroup(words[:-_CHECKSUM_SIZE], 5, 8, pad=False))
