"""Word pools of the corpus: people, streets, places, products, mail domains.

Every pool has a shared core and two halves; `pick(pool, seed)` gives the core
plus the half of the seed's parity, so the held-out split (even seed) meets
people and streets that the dev split (odd seed) never shows. Names here are
invented combinations; no pool entry describes a real person.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pool:
    core: tuple[str, ...]
    odd: tuple[str, ...]
    even: tuple[str, ...]

    def pick(self, seed: int) -> tuple[str, ...]:
        return self.core + (self.even if seed % 2 == 0 else self.odd)


def _pool(core: str, odd: str, even: str, sep: str | None = None) -> Pool:
    return Pool(tuple(core.split(sep)), tuple(odd.split(sep)), tuple(even.split(sep)))


FI_FEMALE = _pool(
    "Aino Liisa Maria Hanna Sanna Johanna Laura Katja Minna Riikka Tiina Päivi Anna-Liisa Kaisa Eeva",
    "Helmi Venla Iida Elina Heidi Jenni Pirjo Sirpa Outi Marjatta Tuula Anu",
    "Aada Kerttu Anni Milla Noora Hilkka Leena Emmi Veera Ronja Sari Tuuli",
)
FI_MALE = _pool(
    "Pekka Matti Jussi Mikko Antti Juha Timo Heikki Jukka Ville Tuomas Markku Kari Juha-Pekka Olli",
    "Jari Seppo Janne Lauri Kalle Esa Teemu Ilkka Aleksi Onni Petri Markus",
    "Sami Hannu Jouko Tapio Risto Kimmo Niko Eero Joonas Elias Toni Arttu",
)
FI_SURNAMES = _pool(
    "Virtanen Korhonen Mäkinen Nieminen Heikkinen Koskinen Järvinen Lehtonen Saarinen Laine Niemi Salonen "
    "Hämäläinen Kinnunen Heikkilä Mattila Lehto Rantanen",
    "Tuominen Laitinen Jokinen Karjalainen Savolainen Ahonen Väisänen Huttunen Kärkkäinen Räsänen Pesonen Kettunen",
    "Lahtinen Heinonen Turunen Hiltunen Häkkinen Koski Aalto Leinonen Miettinen Rissanen Hirvonen Manninen",
)
EN_FEMALE = _pool(
    "Emily Sophie Charlotte Olivia Grace Lucy Sarah Hannah",
    "Amelia Chloe Jessica Rose Megan Hope",
    "Isla Freya Eleanor Alice Poppy Joy",
)
EN_MALE = _pool(
    "James Oliver Tom Jack Harry George Daniel William",
    "Thomas Michael David Mark Will Ben",
    "Samuel Henry Oscar Bill Adam Ryan",
)
EN_SURNAMES = _pool(
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies",
    "Robinson Wright Evans Walker Green Hall",
    "Thompson White Roberts Clarke Hughes Edwards",
)

FI_STREETS = _pool(
    "Kuusitie Satamakatu Koivukuja Rantatie Kirkkokatu Mäntytie Puistokatu Myllytie",
    "Pihlajatie Vaahterakuja Asemakatu Niittypolku Kalliorinne Tammikaari Koulukatu Peltotie",
    "Haapakuja Tehtaankatu Lepänkaari Pajupolku Harjurinne Lähdetie Torikatu Kotimäki",
)
FI_BIG_STREETS = ("Mannerheimintie", "Hämeentie", "Aleksanterinkatu", "Itäväylä")
EN_STREETS = _pool(
    "Baker|Street Oak|Lane Church|Road High|Street Mill|Lane",
    "Station|Road Elm|Grove Park|Avenue Victoria|Road",
    "Queen|Street Willow|Close Bridge|Road Manor|Way",
)
# (city, postal code prefix)
FI_CITIES = (
    ("Helsinki", "00"), ("Espoo", "02"), ("Vantaa", "01"), ("Tampere", "33"), ("Turku", "20"), ("Oulu", "90"),
    ("Jyväskylä", "40"), ("Kuopio", "70"), ("Lahti", "15"), ("Pori", "28"), ("Vaasa", "65"), ("Joensuu", "80"),
)
# Place names as decoys, with the case forms used in the templates.
FI_PLACES = {
    "Helsinki": {"nom": "Helsinki", "ine": "Helsingissä", "ela": "Helsingistä", "ill": "Helsinkiin"},
    "Tampere": {"nom": "Tampere", "ine": "Tampereella", "ela": "Tampereelta", "ill": "Tampereelle"},
    "Turku": {"nom": "Turku", "ine": "Turussa", "ela": "Turusta", "ill": "Turkuun"},
    "Oulu": {"nom": "Oulu", "ine": "Oulussa", "ela": "Oulusta", "ill": "Ouluun"},
    "Espoo": {"nom": "Espoo", "ine": "Espoossa", "ela": "Espoosta", "ill": "Espooseen"},
    "Jyväskylä": {"nom": "Jyväskylä", "ine": "Jyväskylässä", "ela": "Jyväskylästä", "ill": "Jyväskylään"},
    "Lahti": {"nom": "Lahti", "ine": "Lahdessa", "ela": "Lahdesta", "ill": "Lahteen"},
    "Kuopio": {"nom": "Kuopio", "ine": "Kuopiossa", "ela": "Kuopiosta", "ill": "Kuopioon"},
}
EN_CITIES = (("Leeds", "LS"), ("London", "SE"), ("Manchester", "M"), ("Bristol", "BS"), ("York", "YO"),
             ("Cardiff", "CF"), ("Glasgow", "G"), ("Oxford", "OX"))
EN_PLACES = ("London", "Manchester", "Stockholm", "Berlin", "Dublin", "Helsinki", "Tampere")

# Products whose names are also people's names or places: the hardest decoys.
FI_PRODUCTS = _pool(
    "Aino-juomalasi|Kivi-tuikku|Teema-kulho|Aalto-maljakko|Villasukat|Kahvimuki|Pellavapyyhe|Saunatyyny",
    "Kuksa|Termospullo|Lyhty|Leikkuulauta|Pipo|Villahuopa",
    "Sadetakki|Marjapoimuri|Leipälaatikko|Kastehelmi-lautanen|Tiskiharja|Retkikeitin", "|",
)
EN_PRODUCTS = _pool(
    "Aino tumbler|Kivi tealight|Teema bowl|Aalto vase|wool socks|coffee mug|linen towel",
    "Grace candle holder|camping stove|thermos flask|Rose cushion",
    "Oliver desk lamp|rain jacket|bread bin|Willow basket", "|",
)

MAIL_DOMAINS = _pool(
    "gmail.com hotmail.com outlook.com elisanet.fi luukku.com icloud.com",
    "kolumbus.fi welho.com suomi24.fi yahoo.co.uk",
    "saunalahti.fi protonmail.com live.fi btinternet.com",
)
CONTROLLER = "Kauppa"
CONTROLLER_COMPANY = "Kauppa Oy"
CONTROLLER_DOMAINS = ("kauppa.fi", "kauppa.com")
ROLE_MAILBOXES = {"fi": ("asiakaspalvelu", "laskutus", "tilaukset", "palautukset"),
                  "en": ("support", "billing", "orders", "asiakaspalvelu")}

# English names Voikko does not know: the corpus never inflects them, since no
# analysis could confirm the form (tests/redaction/test_corpus.py checks the rest).
NO_CASE_FORMS = frozenset({
    "Brown", "Chloe", "Clarke", "Davies", "Edwards", "Eleanor", "Freya", "Grace", "Hannah", "Hope", "Hughes",
    "Johnson", "Joy", "Lucy", "Megan", "Poppy", "Robinson", "Sophie", "Walker", "White",
})
