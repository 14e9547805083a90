"""Name, place, product and text pools for the demo company (Finnish and English)."""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FI_FIRST = _words(
    "Aino Helmi Aada Emma Sofia Olivia Ella Lilja Venla Eevi Kerttu Iida Anni Laura Johanna "
    "Maria Sanna Tiina Päivi Marjatta Tuula Riitta Hanna Katja Minna Sari Elina Heidi Jenni "
    "Satu Pirjo Sirpa Anna-Liisa Marja-Leena Siiri Nelli Pihla Jenna Kaisa Säde Matti Juha "
    "Mikko Timo Jari Antti Jukka Pekka Markku Janne Ville Tuomas Eino Väinö Onni Leevi Elias "
    "Lauri Kalle Sami Heikki Hannu Kari Esa Olli Jyrki Teemu Aleksi Juha-Pekka Ilkka Jouko "
    "Seppo Tapio Risto Pentti Arto Kimmo Niko Jönssi Åke"
)
FI_LAST = _words(
    "Virtanen Korhonen Mäkinen Nieminen Mäkelä Hämäläinen Laine Heikkinen Koskinen Järvinen "
    "Lehtonen Lehtinen Saarinen Salminen Heinonen Niemi Heikkilä Kinnunen Salonen Turunen Salo "
    "Laitinen Tuominen Rantanen Karjalainen Jokinen Mattila Savolainen Lahtinen Ahonen Hiltunen "
    "Pöyhönen Väisänen Häkkinen Kärkkäinen Räsänen Lindqvist Nyström Söderberg Åberg"
)
EN_FIRST = _words(
    "Emily Oliver James Sophie Jack Charlotte Harry Amelia George Olivia Thomas Grace Daniel "
    "Chloe William Lucy Michael Sarah David Hannah"
)
EN_LAST = _words(
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans "
    "Walker White Roberts Green Hall O'Brien Clarke"
)
EMAIL_DOMAINS = ("example.fi", "example.fi", "example.com", "posti.example")
MOBILE_PREFIXES = ("40", "41", "44", "45", "46", "50")

# (city, first three digits of its postal codes)
_CITIES = _words(
    "Helsinki:001 Helsinki:005 Helsinki:008 Espoo:021 Vantaa:013 Tampere:331 Turku:205 Oulu:902 "
    "Jyväskylä:403 Kuopio:702 Lahti:151 Pori:281 Joensuu:801 Vaasa:651 Rovaniemi:961 "
    "Hämeenlinna:131 Seinäjoki:603 Mikkeli:501 Kotka:481 Porvoo:061"
)
CITIES = tuple(tuple(c.split(":")) for c in _CITIES)
STREETS = _words(
    "Mannerheimintie Hämeenkatu Kauppakatu Koulukatu Rantatie Kirkkokatu Puistokatu "
    "Aleksanterinkatu Satamakatu Sibeliuksenkatu Koivukuja Mäntytie Pihlajatie Kuusitie "
    "Vaahterakuja Niittytie Myllytie Asemakatu Torikatu Tehtaankatu Pääskysentie "
    "Järvenrannantie Kalliokuja Peltolantie Metsätähdentie"
)

# (product, unit price in cents)
PRODUCTS = (
    ("Villasukat, harmaa", 1990),
    ("Puinen leikkuulauta", 3490),
    ("Kahvimuki 3,5 dl", 1450),
    ("Pellavapyyhe", 2490),
    ("Kynttilälyhty", 3990),
    ("Saunatyyny", 2990),
    ("Termospullo 0,5 l", 2790),
    ("Retkikeitin", 6990),
    ("Villahuopa", 8900),
    ("Puukko, tammikahva", 5490),
    ("Pipo, merinovilla", 2490),
    ("Kuksa", 3290),
    ("Lasten kumisaappaat", 3990),
    ("Sadetakki", 8990),
    ("Tuikkukynttilät 30 kpl", 990),
    ("Tiskiharja, puu", 690),
    ("Marjapoimuri", 1990),
    ("Leipälaatikko", 4490),
    ("Pannunalunen, korkki", 890),
    ("Lahjakortti 50 €", 5000),
)
ORDER_STATUSES = ("delivered",) * 14 + ("shipped", "shipped", "processing", "cancelled", "returned")

STAFF = (
    ("Liisa Laine", "liisa.laine@demokauppa.example"),
    ("Mikko Heikkinen", "mikko.heikkinen@demokauppa.example"),
    ("Sanna Järvelä", "sanna.jarvela@demokauppa.example"),
    ("Tero Öhman", "tero.ohman@demokauppa.example"),
)
ROLE_NAME = "Demo Kauppa asiakaspalvelu"
ROLE_ADDRESS = "asiakaspalvelu@demokauppa.example"

TAGS = ("verkkokauppa", "kanta-asiakas", "joulukampanja-2024", "arvonta-2025", "kesäale", "lahjakortti")
CAMPAIGNS = (
    ("c0ffee0001", "Kevään uutuudet"),
    ("c0ffee0002", "Kesäale alkaa!"),
    ("c0ffee0003", "Syksyn villatuotteet"),
    ("c0ffee0004", "Joulun lahjaideat"),
    ("c0ffee0005", "Tammikuun tyhjennysmyynti"),
    ("c0ffee0006", "Asiakasetu: -15 %"),
    ("c0ffee0007", "Retkikauden avaus"),
)

# Support texts. Placeholders: {order} {product} {first} {name} {staff} {days}
TOPICS = ("order", "return", "delay", "billing", "product")
SUBJECTS = {
    "fi": {
        "order": ("Kysymys tilauksesta #{order}", "Tilaus #{order}", "Tilausvahvistus puuttuu"),
        "return": ("Palautus, tilaus #{order}", "Tuotteen palautus", "Vaihto isompaan kokoon"),
        "delay": ("Toimitus viivästynyt", "Missä pakettini on?", "Tilaus #{order} ei ole saapunut"),
        "billing": ("Lasku / tuplaveloitus", "Laskussa virhe", "Hyvityksen tila, tilaus #{order}"),
        "product": ("Kysymys tuotteesta: {product}", "Onko {product} tulossa varastoon?"),
    },
    "en": {
        "order": ("Question about order #{order}", "Order #{order}", "No order confirmation"),
        "return": ("Return for order #{order}", "Returning an item", "Exchange for a larger size"),
        "delay": ("Delivery delayed", "Where is my parcel?", "Order #{order} has not arrived"),
        "billing": ("Charged twice", "Invoice error", "Refund status, order #{order}"),
        "product": ("Question about {product}", "Will {product} be back in stock?"),
    },
}
OPENINGS = {
    "fi": {
        "order": (
            "tein tilauksen #{order}, mutta en ole saanut tilausvahvistusta sähköpostiini. "
            "Voitteko tarkistaa, onko tilaus mennyt läpi?",
            "voinko vielä muuttaa tilauksen #{order} toimitusosoitetta? Muutin juuri.",
        ),
        "return": (
            "haluaisin palauttaa tuotteen {product} tilauksesta #{order}. Se ei ollut sitä mitä odotin.",
            "tilauksen #{order} tuote {product} oli rikki perille tullessa. Miten palautus tehdään?",
        ),
        "delay": (
            "tilaukseni #{order} piti saapua jo viime viikolla, mutta seurantakoodi ei päivity.",
            "odotan edelleen tilausta #{order}. Toimitusaika-arvio oli {days} päivää.",
        ),
        "billing": (
            "minulta on veloitettu tilauksesta #{order} kahdesti. Pyydän palauttamaan toisen veloituksen.",
            "laskun eräpäivä on jo mennyt, vaikka maksoin tilauksen #{order} heti.",
        ),
        "product": (
            "onko tuote {product} tulossa takaisin varastoon? Haluaisin tilata kaksi kappaletta.",
            "mistä materiaalista {product} on tehty? Onko se konepestävä?",
        ),
    },
    "en": {
        "order": (
            "I placed order #{order} but never received a confirmation email. Could you check it went through?",
            "can I still change the delivery address of order #{order}? I have just moved.",
        ),
        "return": (
            "I would like to return {product} from order #{order}. It was not what I expected.",
            "the {product} in order #{order} arrived broken. How do I return it?",
        ),
        "delay": (
            "order #{order} should have arrived last week but the tracking code has not updated.",
            "I am still waiting for order #{order}. The estimate was {days} days.",
        ),
        "billing": (
            "I was charged twice for order #{order}. Please refund the second payment.",
            "I received a payment reminder although I paid order #{order} straight away.",
        ),
        "product": (
            "will {product} be back in stock? I would like to order two.",
            "what is {product} made of? Can it be machine washed?",
        ),
    },
}
REPLIES = {
    "fi": (
        "kiitos viestistäsi. Tarkistin asian: tilaus #{order} on järjestelmässämme kunnossa, "
        "ja hoidamme asian {days} arkipäivän kuluessa.",
        "pahoittelemme viivästystä. Olemme olleet yhteydessä kuljetusliikkeeseen ja palaamme asiaan pian.",
        "palautuksen voit tehdä maksutta lähimmässä noutopisteessä. Hyvitys näkyy tililläsi noin viikossa.",
        "olemme korjanneet asian ja lähettäneet sinulle uuden vahvistuksen.",
    ),
    "en": (
        "thank you for your message. I checked order #{order} and it is fine in our system; "
        "we will sort this out within {days} working days.",
        "we are sorry for the delay. We have contacted the carrier and will get back to you soon.",
        "you can return the item free of charge at your nearest pick-up point. The refund takes about a week.",
        "we have fixed this and sent you a new confirmation.",
    ),
}
FOLLOWUPS = {
    "fi": (
        "Kiitos nopeasta vastauksesta!",
        "Paketti tuli tänään, kiitos avusta.",
        "Selvä, odotan yhteydenottoanne.",
        "Hyvitys näkyy nyt tilillä. Kiitos!",
    ),
    "en": (
        "Thanks for the quick reply!",
        "The parcel arrived today, thanks for your help.",
        "OK, I will wait to hear from you.",
        "The refund is on my account now. Thank you!",
    ),
}
GREETING = {"fi": "Hei {first},", "en": "Hi {first},"}
CUSTOMER_GREETING = {"fi": "Hei,", "en": "Hello,"}
SIGN_OFF = {"fi": "Ystävällisin terveisin", "en": "Kind regards"}
CUSTOMER_SIGN_OFF = {"fi": "Terveisin", "en": "Best,"}
REPLY_PREFIX = {"fi": "VS: ", "en": "Re: "}
QUOTE_INTRO = {"fi": "{date} {name} kirjoitti:", "en": "On {date}, {name} wrote:"}
# A third party mentioned by a customer. Placeholders: {tp_name} {tp_phone} {tp_email}
THIRD_PARTY_LINES = {
    "fi": (
        "Jos en ole kotona, paketin voi jättää naapurilleni {tp_name}, puh. {tp_phone}.",
        "Tilauksen teki puolestani {tp_name} ({tp_email}).",
        "Soita tarvittaessa siskolleni {tp_phone}.",
    ),
    "en": (
        "If I am not home, please call my neighbour {tp_name} on {tp_phone}.",
        "You can also contact my husband at {tp_email}.",
        "My daughter {tp_name} ordered this for me, her number is {tp_phone}.",
    ),
}
