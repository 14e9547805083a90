"""Passphrases stretched ahead: each request gets its own, whether a spare, one under way or one made on demand."""

from exports.encrypt import seal_to
from flows import passphrases
from flows.passphrases import PassphraseStretcher
from tests.exports.age_cli import age_decrypt


def test_every_request_gets_a_passphrase_of_its_own_that_age_opens(tmp_path):
    passphrases.keep_spares(1)
    try:
        stretcher = PassphraseStretcher()
        stretcher.start("REQ-A")  # takes the first stretching; a spare is made beside it
        stretcher.start("REQ-A")  # a resumed run asking again changes nothing
        stretcher.start("REQ-B")  # takes the spare
        taken = [stretcher.take("REQ-A"), stretcher.take("REQ-B"), stretcher.take("REQ-C")]  # C: made on demand
    finally:
        passphrases.keep_spares(0)
    assert len({t.passphrase for t in taken}) == 3
    plain = tmp_path / "plain"
    plain.write_bytes(b"package")
    for n, stretched in enumerate(taken):
        with (tmp_path / f"{n}.age").open("wb") as out:
            seal_to(plain, out, passphrase=stretched)
        assert age_decrypt(tmp_path / f"{n}.age", stretched.passphrase) == b"package"


def test_a_run_that_ends_without_sealing_leaves_nothing_behind():
    stretcher = PassphraseStretcher()
    stretcher.start("REQ-A")
    first = stretcher._ahead["REQ-A"]
    stretcher.forget("REQ-A")
    assert "REQ-A" not in stretcher._ahead
    later = stretcher.take("REQ-A")  # a later run draws a new one
    assert first.cancelled() or later.passphrase != first.result().passphrase
