"""Redactor: stable placeholders, two passes, the subject's own data kept."""

import pytest

from extractors.records import Record, Subject
from redaction import Redactor, subject_phones

SUBJECT = Subject("Sanna.Subject@Example.fi", name="Sanna Subjekti", phones=("+358401112222",))


def mail(key, **data):
    return Record("support_mail", "messages", key, data)


def run(redactor, records):
    """Both passes, as the flow streams them."""
    for record in records:
        redactor.learn(record)
    return [redactor.redact(record) for record in records]


def test_same_third_party_same_placeholder_across_records_and_header_and_body():
    records = [
        mail("m1", frm="Matti Virtanen <matti@x.fi>", body="Kiitos, välitän viestin: matti@x.fi"),
        mail("m2", to="MATTI@X.FI", body="Terveisin Matti Virtanen, p. 050 123 4567"),
        mail("m3", body="Anna Ahonen <anna@y.fi> soitti numerosta +358 50 1234567"),
    ]
    out = run(Redactor(SUBJECT), records)
    assert out[0].data == {"frm": "[person-1]", "body": "Kiitos, välitän viestin: [person-1]"}
    assert out[1].data == {"to": "[person-1]", "body": "Terveisin [person-1], p. [phone-1]"}
    assert out[2].data == {"body": "[person-2] soitti numerosta [phone-1]"}


def test_name_learned_from_a_later_header_is_replaced_in_an_earlier_body():
    records = [
        mail("m1", body="Puhuin eilen matti virtasen kanssa. Matti   Virtanen\nlupasi soittaa."),
        mail("m2", frm='"Matti Virtanen" <matti@x.fi>', body="Hei"),
    ]
    out = run(Redactor(SUBJECT), records)
    assert out[0].data["body"] == "Puhuin eilen matti virtasen kanssa. [person-1]\nlupasi soittaa."
    assert out[1].data == {"frm": "[person-1]", "body": "Hei"}


def test_subject_own_email_phone_and_name_are_kept():
    text = (
        "From: Sanna Subjekti <SANNA.subject@example.FI>\n"
        "Soita minulle 040 111 2222 tai +358 40 1112222. T. SANNA SUBJEKTI"
    )
    redactor = Redactor(SUBJECT)
    out = run(redactor, [mail("m1", body=text)])
    assert out[0].data["body"] == text
    assert redactor.summary() == {
        "emails_replaced": 0, "phones_replaced": 0, "names_replaced": 0, "people": 0, "phones": 0,
    }


def test_third_party_sharing_part_of_subject_name_does_not_eat_it():
    records = [mail("m1", frm="Sanna <sanna@other.fi>", body="Sanna Subjekti ja Sanna")]
    out = run(Redactor(SUBJECT), records)
    assert out[0].data["body"] == "Sanna Subjekti ja [person-1]"


def test_keep_list_mailbox_and_its_name_are_kept():
    records = [
        mail("m1", frm="ACME Asiakaspalvelu <Asiakaspalvelu@acme.fi>",
             body="Vastaa osoitteeseen asiakaspalvelu@acme.fi. ACME Asiakaspalvelu, Liisa <liisa@acme.fi>"),
    ]
    out = run(Redactor(SUBJECT, keep=["asiakaspalvelu@acme.fi"]), records)
    assert out[0].data["frm"] == "ACME Asiakaspalvelu <Asiakaspalvelu@acme.fi>"
    assert out[0].data["body"] == "Vastaa osoitteeseen asiakaspalvelu@acme.fi. ACME Asiakaspalvelu, [person-1]"


def test_keep_must_not_be_a_single_string():
    with pytest.raises(TypeError):
        Redactor(SUBJECT, keep="asiakaspalvelu@acme.fi")


def test_nested_data_is_redacted_and_keys_are_left_alone():
    record = Record(
        "crm", "contacts", "c-1",
        {
            "matti@x.fi": "avain ei muutu",
            "contacts": [{"email": "matti@x.fi", "phones": ["0451234567", 358451234567]}, ("anna@y.fi",)],
            "count": 2,
            "none": None,
        },
        provided=True,
    )
    redactor = Redactor(SUBJECT)
    [out] = run(redactor, [record])
    assert (out.source, out.category, out.key, out.provided) == ("crm", "contacts", "c-1", True)
    assert out.data == {
        "matti@x.fi": "avain ei muutu",
        "contacts": [{"email": "[person-1]", "phones": ["[phone-1]", 358451234567]}, ["[person-2]"]],
        "count": 2,
        "none": None,
    }
    assert record.data["contacts"][0]["email"] == "matti@x.fi"


def test_numbering_follows_learn_order_and_is_deterministic():
    records = [mail("m1", body="b@x.fi a@x.fi 040 999 8888"), mail("m2", body="c@x.fi 0451234567 b@x.fi")]
    first = run(Redactor(SUBJECT), records)
    second = run(Redactor(SUBJECT), records)
    assert first == second
    assert first[1].data["body"] == "[person-3] [phone-2] [person-1]"


def test_phone_inside_kept_address_is_not_replaced():
    subject = Subject("0401234567@sms.example.fi")
    out = run(Redactor(subject), [mail("m1", body="0401234567@sms.example.fi")])
    assert out[0].data["body"] == "0401234567@sms.example.fi"


def test_redact_without_learn_still_replaces():
    redactor = Redactor(SUBJECT)
    out = redactor.redact(mail("m1", body="Matti Virtanen <matti@x.fi>; Matti Virtanen"))
    assert out.data["body"] == "[person-1]; Matti Virtanen"  # the name was unknown when the text was scanned
    assert redactor.redact(mail("m2", body="Matti Virtanen")).data["body"] == "[person-1]"


def test_summary_holds_counts_only():
    records = [
        mail("m1", frm="Matti Virtanen <matti@x.fi>", body="Matti Virtanen, 040 123 4567, 050 123 4567"),
        mail("m2", body="matti@x.fi ja anna@y.fi soittivat 040 123 4567"),
    ]
    redactor = Redactor(SUBJECT)
    run(redactor, records)
    summary = redactor.summary()
    assert summary == {
        "emails_replaced": 3, "phones_replaced": 3, "names_replaced": 1, "people": 2, "phones": 2,
    }
    assert all(type(value) is int for value in summary.values())


def test_keep_list_may_hold_a_switchboard_number():
    records = [mail("m1", body="vaihde (09) 123 4567, Matti 040 123 4567")]
    out = run(Redactor(SUBJECT, keep=["+358 9 123 4567"]), records)
    assert out[0].data["body"] == "vaihde (09) 123 4567, Matti [phone-1]"


def test_a_message_id_is_an_identifier_not_a_person():
    redactor = Redactor(Subject("aino@example.fi"))
    record = Record("mail", "messages", "m1", {"message_id": "20240212.1@demokauppa.example",
                                               "body": "write to pekka@example.fi"})
    redactor.learn(record)
    redacted = redactor.redact(record)
    assert redacted.data == {"message_id": "20240212.1@demokauppa.example", "body": "write to [person-1]"}
    assert redactor.summary()["people"] == 1


def test_the_subjects_phones_come_from_records_about_them_only():
    own = Record("crm", "customer", "1", {"phone": "040 123 4567", "note": "work +358 9 1234 5678"},
                 about_subject=True)
    mail = Record("mail", "messages", "m1", {"body": "my neighbour's number is 045 765 4321"})
    assert subject_phones([own, mail]) == ("+358401234567", "+358912345678")
    assert subject_phones([mail]) == ()
