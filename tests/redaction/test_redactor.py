"""Redactor: other people out, the subject and the controller's own kept, one placeholder per person."""

import email
import email.policy

import pytest

from extractors.records import Record, Subject
from redaction.lexicon import Lexicon
from redaction.message import redact_message
from redaction.policy import Policy
from redaction.redactor import Redactor

SUBJECT = Subject("Aino.Makinen@Example.fi", name="Aino Mäkinen", phones=("+358401112222",))
LEXICON = Lexicon()


def mail(key, **data):
    return Record("support_mail", "messages", key, data)


def run(records, subject=SUBJECT, policy=None):
    """Both passes, as the flow streams them."""
    redactor = Redactor(subject, policy, lexicon=LEXICON)
    redactor.learn_all(lambda: records)
    return [redactor.redact(record).data for record in records], redactor


def test_same_third_party_same_placeholder_in_headers_bodies_and_case_forms():
    records = [
        mail("m1", frm=["Pekka Virtanen <pekka.virtanen@x.fi>"], body="Kiitos, välitän viestin: pekka.virtanen@x.fi"),
        mail("m2", body="Soitin Pekalle ja Virtaselle. PEKKA VIRTANEN vastasi, p. 050 123 4567"),
        mail("m3", body="Anna Korhonen <anna@y.fi> soitti numerosta +358 50 1234567. Korhoselta tuli kuitti."),
    ]
    out, _ = run(records)
    assert out[0] == {"frm": ["[person-1]"], "body": "Kiitos, välitän viestin: [person-1]"}
    assert out[1]["body"] == "Soitin [person-1] ja [person-1]. [person-1] vastasi, p. [phone-1]"
    assert out[2]["body"] == "[person-2] soitti numerosta [phone-1]. [person-2] tuli kuitti."


def test_a_name_learned_from_a_later_header_is_replaced_in_an_earlier_body():
    records = [mail("m1", body="Puhuin eilen Virtasen kanssa."), mail("m2", frm=['"Virtanen, Pekka" <p@x.fi>'])]
    out, _ = run(records)
    assert out[0]["body"] == "Puhuin eilen [person-1] kanssa."


def test_the_subjects_own_identifiers_are_kept_in_any_form():
    text = ("Aino Mäkinen <AINO.makinen@example.FI> soitti numerosta 040 111 2222. "
            "Ainon tilaus lähti Mäkiselle. T. AINO")
    out, redactor = run([mail("m1", body=text)])
    assert out[0]["body"] == text
    assert redactor.summary()["people"] == 0


def test_someone_sharing_the_subjects_surname_is_someone_else_but_the_surname_alone_is_hers():
    out, _ = run([mail("m1", body="Juha Mäkinen soitti. Juhalle lähti lasku. Mäkiselle kiitos.")])
    assert out[0]["body"] == "[person-1] soitti. [person-1] lähti lasku. Mäkiselle kiitos."


def test_the_subjects_own_rows_are_theirs_and_teach_their_other_identifiers():
    own = Record("crm", "customer", "1", {"email": "aino@work.example", "alt_email": "aino.m@home.example",
                                          "phone": "045 765 4321", "street": "Kuusitie 4 B 12",
                                          "etunimi": "Aino", "sukunimi": "Mäkinen"}, about_subject=True)
    message = mail("m1", body="Aino (aino.m@home.example, 045 765 4321, Kuusitie 4 B 12, 33720 Tampere) "
                               "ja naapuri Kuusitie 4 B 11")
    out, _ = run([message, own])
    assert out[1] == own.data
    assert out[0]["body"] == ("Aino (aino.m@home.example, 045 765 4321, Kuusitie 4 B 12, 33720 Tampere) "
                              "ja naapuri [address-1]")


def test_greetings_signatures_and_names_nothing_else_marks():
    body = ("Hei Maria,\n\nKerroin asiasta Tuomas Heikkiselle. Eilen Xiaoming Chen soitti.\n\n"
            "Terveisin\nJussi\n\nDear Tom,\nthanks.\nBest regards,\nSarah Johnson")
    out, _ = run([mail("m1", body=body)])
    for name in ("Maria", "Tuomas", "Heikkiselle", "Xiaoming", "Chen", "Jussi", "Tom", "Sarah", "Johnson"):
        assert name not in out[0]["body"]
    assert out[0]["body"].startswith("Hei [person-1],\n\nKerroin asiasta [person-2].")


@pytest.mark.parametrize("text", [
    "Tilaus 02.03.2026 klo 10.15 on lähetetty.",
    "Tilausnumero 100234, lasku 2026-0042, viitenumero 1234 5612, asiakasnumero 004512.",
    "Summa 1 299,00 € eräpäivä 2.3.2026, toimitus 12.3. klo 10:15.",
    "Order 0401234567 shipped on 2026-03-02 at 10:15; invoice no. 00112233.",
    "Helsinki, Tampere ja Oulu. Kiitos tilauksesta! Tervetuloa uudelleen.",
    "Hyvä asiakas, Maanantaina avaamme klo 9.",
])
def test_no_false_alarms_on_dates_times_numbers_and_ordinary_words(text):
    out, redactor = run([mail("m1", body=text)])
    assert out[0]["body"] == text
    assert sum(redactor.summary()[k] for k in redactor.summary() if k.endswith("_replaced")) == 0


def test_role_mailboxes_and_kept_staff_stay_replaced_staff_do_not():
    body = ("Kirjoita asiakaspalvelu@kauppa.fi tai support@other.example. "
            "Terveisin\nLiisa Laine <liisa.laine@kauppa.fi>")
    policy = Policy(controller_domains=("kauppa.fi",), staff=("Liisa Laine",))
    out, _ = run([mail("m1", body=body)], policy=policy)
    assert out[0]["body"] == body
    out, _ = run([mail("m1", body=body)], policy=Policy(controller_domains=("kauppa.fi",),
                                                        staff=("Liisa Laine",), keep_staff=False))
    assert out[0]["body"].endswith("Terveisin\n[person-1]")
    assert "asiakaspalvelu@kauppa.fi" in out[0]["body"]


def test_a_staff_first_name_stays_where_staff_sign_or_a_colleague_names_them():
    policy = Policy(controller_domains=("kauppa.fi",), staff=("Jukka Laine",))
    body = "Kollegani Jukka soittaa huomenna.\n\nTerveisin\nJukka"
    out, _ = run([mail("m1", body=body), mail("m2", body="Soitin Jukalle.")], policy=policy)
    assert out[0]["body"] == body
    assert out[1]["body"] == "Soitin [person-1]."  # not where staff sign: any Jukka
    # The subject's own first name stays theirs, staff or not.
    out, _ = run([mail("m1", body="Hei Aino, Ainon paketti lähti.")], policy=Policy(staff=("Aino Jokinen",)))
    assert out[0]["body"] == "Hei Aino, Ainon paketti lähti."
    # Once the package names another Jukka, no lone Jukka is known to be staff.
    out, _ = run([mail("m1", body=body), mail("m2", body="Naapurini Jukka Mäkelä soitti.")], policy=policy)
    assert out[0]["body"] == "Kollegani [person-1] soittaa huomenna.\n\nTerveisin\n[person-1]"


def test_known_people_are_found_where_nothing_marks_them():
    policy = Policy(known_people=("Ilmari Ruusunen",))
    out, _ = run([mail("m1", body="sovittu: paketti menee ruususelle.")], policy=policy)
    assert out[0]["body"] == "sovittu: paketti menee [person-1]."


def test_every_kind_gets_its_own_consistent_placeholder():
    body = ("Hetu 131052-308T, IBAN FI21 1234 5600 0007 85, kortti 4111 1111 1111 1111, IP 192.0.2.10, "
            "osoite Satamakatu 57, 00100 Helsinki. Uudelleen: FI2112345600000785 ja 131052-308T.")
    out, redactor = run([mail("m1", body=body)])
    assert out[0]["body"] == ("Hetu [hetu-1], IBAN [iban-1], kortti [card-1], IP [ip-1], osoite [address-1]. "
                              "Uudelleen: [iban-1] ja [hetu-1].")
    assert redactor.summary()["hetus_replaced"] == 2


def test_structured_name_fields_of_other_people_and_nested_data():
    record = Record("crm", "contacts", "c-1", {
        "matti@x.fi": "avain ei muutu",
        "contacts": [{"name": "Matti Virtanen", "email": "matti@x.fi", "phones": ["0451234567", 358451234567]}],
        "note": "Virtaselle soitettu", "count": 2, "none": None,
    }, provided=True)
    [out], _ = run([record])
    assert out == {
        "matti@x.fi": "avain ei muutu",
        "contacts": [{"name": "[person-1]", "email": "[person-1]", "phones": ["[phone-1]", 358451234567]}],
        "note": "[person-1] soitettu", "count": 2, "none": None,
    }


def test_numbering_follows_learn_order_and_is_deterministic():
    records = [mail("m1", body="b@x.fi a@x.fi 040 999 8888"), mail("m2", body="c@x.fi 0451234567 b@x.fi")]
    first, _ = run(records)
    second, _ = run(records)
    assert first == second
    assert first[1]["body"] == "[person-3] [phone-2] [person-1]"


def test_summary_holds_counts_only_and_a_message_id_is_left_alone():
    records = [mail("m1", message_id="20240212.1@kauppa.example", frm=["Matti Virtanen <matti@x.fi>"],
                    body="Matti, 040 123 4567")]
    out, redactor = run(records)
    assert out[0]["message_id"] == "20240212.1@kauppa.example"
    summary = redactor.summary()
    assert summary["emails_replaced"] == 1 and summary["names_replaced"] == 1 and summary["phones_replaced"] == 1
    assert summary["people"] == 1
    assert all(type(value) is int for value in summary.values())


def test_keep_may_hold_a_switchboard_number():
    policy = Policy(keep=("+358 9 123 4567",))
    out, _ = run([mail("m1", body="vaihde (09) 123 4567, Matti 040 123 4567")], policy=policy)
    assert out[0]["body"] == "vaihde (09) 123 4567, [person-1] [phone-1]"


def test_redact_message_prints_a_utf8_rfc5322_message():
    raw = (b"From: =?utf-8?q?Pekka_M=C3=A4kel=C3=A4?= <pekka@x.fi>\r\nTo: aino.makinen@example.fi\r\n"
           b"Cc: Juha <juha@y.fi>\r\nSubject: =?utf-8?q?Tilaus_P=C3=A4kille?=\r\n"
           b"Date: Mon, 2 Mar 2026 10:15:00 +0200\r\n"
           b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
           b"Hei Aino, M=E4kel=E4 soitti: 040 765 4321.\r\n")
    printed = redact_message(raw, SUBJECT)
    assert b"M\xc3\xa4kel\xc3\xa4" not in printed and b"pekka" not in printed and b"Juha" not in printed
    out = email.message_from_bytes(printed, policy=email.policy.default)
    assert str(out["From"]) == "<>"  # a placeholder is no address; the raw text shows it
    assert email.message_from_bytes(printed)["From"] == "[person-1]"
    assert out["To"] == "aino.makinen@example.fi"
    assert email.message_from_bytes(printed)["Cc"] == "[person-2]"
    assert out["Date"] == "Mon, 02 Mar 2026 08:15:00 +0000"
    assert out.get_content_charset() == "utf-8"
    assert out.get_content() == "Hei Aino, [person-1] soitti: [phone-1].\n"


@pytest.mark.parametrize(("text", "expected"), [
    ("Soitin P. Virtaselle ja J. R. Smithille.", "Soitin [person-1] ja [person-2]."),
    ("Mr. Okonkwo called, and Mrs Zbigniewska too.", "Mr. [person-1] called, and Mrs [person-2] too."),
    ("Naapurini Kaarlo jätti paketin.", "Naapurini [person-1] jätti paketin."),
    ("My neighbour Xiaoming said hi.", "My neighbour [person-1] said hi."),
    ("Marjatta soitti eilen. Koskinen kuittasi paketin.", "[person-1] soitti eilen. [person-2] kuittasi paketin."),
    ("vastaanottaja Matti Koskiselle", "vastaanottaja [person-1]"),
    ("Pekka Virtanen soitti. Annoin paketin pekalle ja virtaselle.", "[person-1] soitti. Annoin paketin "
     "[person-1] ja [person-1]."),
])
def test_names_marked_by_initials_titles_relations_and_names_that_look_like_words(text, expected):
    out, _ = run([mail("m1", body=text)])
    assert out[0]["body"] == expected


@pytest.mark.parametrize(("text", "expected"), [
    # Written with no-break spaces and dashes, as HTML mail and word processors write them.
    ("puh. 040\u00a0123\u00a04567, IBAN FI21\u202f1234\u202f5600\u202f0007\u202f85", "puh. [phone-1], IBAN [iban-1]"),
    ("Veeti: 040 - 123 4569 tai 040 \u2013 123 4569", "[person-1]: [phone-1] tai [phone-1]"),
    ("Iida: 358401234568", "[person-1]: [phone-1]"),
    ("Call +1 (212) 555-0187 ext. 12 today.", "Call [phone-1] today."),
    # Surnames that are ordinary words, foreign names in Finnish case forms, English words that are names.
    ("toimitusjohtajamme Toivo Kivi ja Satu Karhulle", "toimitusjohtajamme [person-1] ja [person-2]"),
    ("Hodan Warsame soitti. Annoin paketin Warsamelle.", "[person-1] soitti. Annoin paketin [person-1]."),
    ("My neighbour Will will drop it off. I will call.", "My neighbour [person-1] will drop it off. I will call."),
    ("I'm sure Babatunji Makinde called.", "I'm sure [person-1] called."),
    ("Kiitos!\n-Mikko", "Kiitos!\n-[person-1]"),
    # Addresses of every shape; companies are no people.
    ("Ship to 5 QUEEN STREET please.", "Ship to [address-1] please."),
    ("(Pellonpää 2 B, Jyväskylä) ja Narva mnt 7, 10117 Tallinn", "([address-1]) ja [address-2]"),
    ("Tilaus 5, Helsinki.", "Tilaus 5, Helsinki."),
    ("Toimittaja Kivi ja Mäki Oy sekä Example Handel GmbH.", "Toimittaja Kivi ja Mäki Oy sekä Example Handel GmbH."),
    # After a title any word is a name; an address is one finding, its words no names.
    ("Dear Mr. Rinne, and rouva Kivelle.", "Dear Mr. [person-1], and rouva [person-2]."),
    ("klo 9.41 Minna Salo minna.salo@kauppa.fi kirjoitti:", "klo 9.41 [person-1] [person-2] kirjoitti:"),
    # Kin, names that are nouns before a surname, CSV rows, genitive street names, role mailboxes.
    ("lapseni Lumi ja Satu-tyttäreni, my son Leo", "lapseni [person-1] ja [person-2]-tyttäreni, my son [person-3]"),
    ("Ilta Karppinen soitti.", "[person-1] soitti."),
    ("Liisa,0401119988,1", "[person-1],[phone-1],1"),
    ("Uusi osoite: Pispalan valtatie 45.", "Uusi osoite: [address-1]."),
    ("Kirjoita ajanvaraus@hymy.fi tai vanhemmat@x.fi", "Kirjoita ajanvaraus@hymy.fi tai vanhemmat@x.fi"),
    ("From: Pikkumetsä / Marjo <toimisto@pikkumetsa.fi>", "From: Pikkumetsä / [person-1] <toimisto@pikkumetsa.fi>"),
])
def test_what_a_hostile_review_found(text, expected):
    out, _ = run([mail("m1", body=text)])
    assert out[0]["body"] == expected


def test_the_subjects_foreign_number_is_theirs_however_dialled():
    subject = Subject("m@b.fi", phones=("+44 7700 900123",))
    out, _ = run([mail("m1", body="Call me on 07700 900123; my friend is on 07700 900456.")], subject=subject)
    assert out[0]["body"] == "Call me on 07700 900123; my friend is on [phone-1]."


def test_identifiers_a_trusted_source_found_are_the_subjects_and_kept():
    """Their other address and second phone stay though no record of theirs is in the stream (a mail-only
    package); a stranger's address and number beside them go. Without them, both would be redacted."""
    from extractors.records import EMAIL, PHONE, Identifier

    body = "Vastaa osoitteeseen tyo.4471@firma.example tai 050 765 4321. Naapuri: pertti@naapurit.example, 040 999 8877"
    also = (Identifier(EMAIL, "tyo.4471@firma.example", "customers", "customer", "alt_email"),
            Identifier(PHONE, "+358507654321", "customers", "customer", "mobile"))
    out, _ = run([mail("m1", body=body)], subject=Subject(SUBJECT.email, also=also))
    assert out[0]["body"] == ("Vastaa osoitteeseen tyo.4471@firma.example tai 050 765 4321. "
                              "Naapuri: [person-1], [phone-1]")
    out, _ = run([mail("m1", body=body)], subject=Subject(SUBJECT.email))
    assert out[0]["body"] == "Vastaa osoitteeseen [person-1] tai [phone-1]. Naapuri: [person-2], [phone-2]"
