"""The demo subject's own support threads: scripted, with third parties in headers and bodies."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from flows.demo import names as N
from flows.demo.mail import ROLE, Addr, Mail, Step, thread

SIGN = "Ystävällisin terveisin\n{staff}\nDemo Kauppa Oy, asiakaspalvelu"


def subject_threads(rng: random.Random, subject, neighbour, husband) -> list[Mail]:
    """Eight threads (26 messages) in which the subject writes, is written to, or is only copied."""
    name = f"{subject.first_name} {subject.last_name}"
    s_db: Addr = (name, subject.email)  # as stored: mixed case
    s_low: Addr = (name, subject.email.lower())
    s_up: Addr = (name, subject.email.upper())
    nb: Addr = (f"{neighbour.first_name} {neighbour.last_name}", neighbour.email)
    hb: Addr = (f"{husband.first_name} {husband.last_name}", husband.email)
    liisa, mikko, sanna, tero = N.STAFF
    o = [str(x.number) for x in subject.orders]
    n_order = neighbour.orders[-1].number
    refund = f"{subject.orders[3].total_cents / 100:.2f}".replace(".", ",")

    def at(y: int, mo: int, d: int) -> datetime:
        return datetime(y, mo, d, 6, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 11 * 60))

    def sign(staff: Addr) -> str:
        return SIGN.format(staff=staff[0])

    return [
        *thread(
            rng,
            at(2024, 2, 12),
            f"Kysymys tilauksesta #{o[0]}",
            "fi",
            [
                Step(
                    s_db,
                    [ROLE],
                    (),
                    f"Hei,\n\ntein tilauksen #{o[0]} viime viikolla. Milloin se lähtee? Jos en ole "
                    "kotona, paketin voi jättää naapurilleni Pekka Virtaselle, puh. 045 765 4321.\n\n"
                    f"Terveisin\n{name}\n040 123 4567",
                    quote=False,
                ),
                Step(
                    liisa,
                    [s_db],
                    [ROLE],
                    f"Hei Aino,\n\ntilaus #{o[0]} lähtee huomenna. Merkitsimme toimitukseen, "
                    f"että paketin voi jättää naapurillesi.\n\n{sign(liisa)}",
                ),
                Step(s_low, [liisa], (), "Kiitos paljon!\n\nAino"),
            ],
        ),
        *thread(
            rng,
            at(2024, 5, 3),
            f"Osoitteenmuutos, tilaus #{n_order}",
            "fi",
            [
                Step(
                    nb,
                    [ROLE],
                    [s_low],
                    f"Hei,\n\ntilasin naapurilleni Aino Mäkiselle lahjaksi villahuovan (tilaus "
                    f"#{n_order}), mutta toimitusosoitteeksi tuli vahingossa oma osoitteeni {neighbour.street}. "
                    f"Voitteko vaihtaa osoitteeksi {subject.street}? Laitoin Ainon kopioksi.\n\n"
                    "Pekka Virtanen\n+358 45 7654321",
                    quote=False,
                ),
                Step(
                    mikko,
                    [nb],
                    [s_up, ROLE],
                    f"Hei Pekka,\n\nvaihdoimme toimitusosoitteen. Paketti toimitetaan "
                    f"Aino Mäkiselle osoitteeseen {subject.street}, {subject.postal_code} {subject.city}.\n\n"
                    f"{sign(mikko)}",
                ),
                Step(nb, [mikko], [s_low], "Kiitos! Minut tavoittaa tarvittaessa numerosta +358 45 7654321.\n\nPekka"),
                Step(mikko, [nb], [s_db], f"Selvä, kiitos Pekka.\n\n{sign(mikko)}"),
            ],
        ),
        *thread(
            rng,
            at(2024, 9, 18),
            "Toimitus viivästynyt",
            "fi",
            [
                Step(
                    s_db,
                    [ROLE],
                    (),
                    f"Hei,\n\ntilaukseni #{o[1]} piti saapua jo viime viikolla, mutta seurantakoodi "
                    "ei päivity. Jos kuljettaja ei tavoita minua, soita naapurilleni 0457654321.\n\n"
                    f"Terveisin\n{name}",
                    kind="wrongcharset",
                    quote=False,
                ),
                Step(
                    sanna,
                    [s_db],
                    (),
                    "Hei Aino,\n\npahoittelemme viivästystä. Paketti on jäänyt Vantaan "
                    f"lajittelukeskukseen, ja se toimitetaan 2–3 arkipäivässä.\n\n{sign(sanna)}",
                ),
                Step(s_low, [sanna], (), "Paketti tuli tänään, kiitos!\n\nAino"),
            ],
        ),
        *thread(
            rng,
            at(2024, 11, 5),
            f"Palautus, tilaus #{o[2]}",
            "fi",
            [
                Step(
                    s_db,
                    [ROLE],
                    (),
                    f"Hei,\n\nhaluan palauttaa tilauksen #{o[2]} tuotteen (väärä koko). "
                    f"Palautuslomake on liitteenä.\n\n{name}",
                    kind="attach",
                    quote=False,
                    attachment=(
                        "palautuslomake.txt",
                        f"PALAUTUSLOMAKE\nTilaus: #{o[2]}\nNimi: {name}\nOsoite: {subject.street}, "
                        f"{subject.postal_code} {subject.city}\nPuhelin: {subject.phone}\n"
                        "Syy: väärä koko\nHyvitys tilille: FI21 1234 5600 0007 85\n",
                    ),
                ),
                Step(
                    tero,
                    [s_db],
                    (),
                    f"Hei Aino,\n\nkiitos, palautus on kirjattu. Palautuskoodi on PAL-{o[2]}. "
                    f"Voit viedä paketin mihin tahansa noutopisteeseen.\n\n{sign(tero)}",
                ),
                Step(
                    s_db,
                    [tero],
                    (),
                    "Kiitos! Palautuksen vie postiin mieheni Juha Mäkinen, häneen saa yhteyden "
                    "osoitteesta juha.makinen@example.com tai numerosta +358 50 987 6543. Naapurini Pekka "
                    "(045-7654321) voi myös tuoda sen.\n\nAino",
                    kind="qp",
                ),
                Step(tero, [s_low], [hb], f"Selvä, laitoin Juhan kopioksi.\n\n{sign(tero)}"),
            ],
        ),
        *thread(
            rng,
            at(2025, 1, 20),
            f"Charged twice for order #{o[3]}",
            "en",
            [
                Step(
                    s_low,
                    [ROLE],
                    [hb],
                    f"Hello,\n\nI was charged twice for order #{o[3]}. Please contact my "
                    "husband at juha.makinen@example.com if you need our bank details; his phone is "
                    f"+358 50 9876543.\n\nBest,\n{name}",
                    quote=False,
                ),
                Step(
                    mikko,
                    [s_low],
                    [hb, ROLE],
                    f"Hi Aino,\n\nthank you. We have refunded the duplicate charge of "
                    f"{refund} €.\n\nKind regards\nMikko Heikkinen\nDemo Kauppa Oy",
                ),
                Step(hb, [mikko], [s_up], "Thanks, I can confirm the refund arrived.\n\nJuha"),
                Step(s_db, [mikko], [hb], "Thank you, all sorted now.\n\nAino", kind="b64"),
            ],
        ),
        *thread(
            rng,
            at(2025, 3, 10),
            "Kysymys: villasukat, löytyykö kokoa 36/38?",
            "fi",
            [
                Step(
                    s_db,
                    [ROLE],
                    (),
                    "Hei,\n\nnaapurini pekka.virtanen@posti.example suositteli teidän villasukkia. "
                    f"Löytyykö kokoa 36/38?\n\n{name}",
                    quote=False,
                    header_charset="iso-8859-1",
                ),
                Step(liisa, [s_db], (), f"Hei Aino,\n\nkokoa 36/38 tulee varastoon ensi viikolla.\n\n{sign(liisa)}"),
                Step(
                    s_db,
                    [liisa],
                    (),
                    "Kiitos, tilaan sitten. Voitteko ilmoittaa myös Pekalle "
                    "(pekka.virtanen@posti.example), kun niitä on taas?\n\nAino",
                    kind="malformed",
                ),
            ],
        ),
        *thread(
            rng,
            at(2025, 6, 2),
            f"Tilauksesi #{o[4]} on lähetetty",
            "fi",
            [
                Step(
                    ROLE,
                    [s_low],
                    (),
                    f"Hei Aino,\n\ntilauksesi #{o[4]} on lähetetty. Seurantakoodi: "
                    "JJFI64001234567890.\n\nDemo Kauppa Oy",
                    quote=False,
                ),
                Step(
                    s_up,
                    [ROLE],
                    (),
                    "Hei, voitteko ohjata paketin Pekalle (+358457654321)? Olen mökillä koko viikon.\n\nAino",
                ),
                Step(liisa, [s_up], (), f"Hei Aino,\n\nohjasimme paketin Pekka Virtaselle.\n\n{sign(liisa)}"),
            ],
        ),
        *thread(
            rng,
            at(2025, 8, 14),
            "Uutiskirje tulee kahdesti",
            "fi",
            [
                Step(
                    s_db,
                    [ROLE],
                    (),
                    "Hei,\n\nsaan uutiskirjeen ja tarjoukset kahteen kertaan. Voitteko poistaa minut "
                    f"Tarjoukset-listalta? Uutiskirjeen haluan edelleen.\n\n{name}",
                    quote=False,
                ),
                Step(sanna, [s_db], (), f"Hei Aino,\n\nmuutos on tehty.\n\n{sign(sanna)}"),
            ],
        ),
    ]
