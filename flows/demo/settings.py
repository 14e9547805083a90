"""The demo company's dsar.toml: a small Finnish web shop and its privacy notice."""

import json
from pathlib import Path

from flows.demo.names import STAFF

DEMO_CONFIG = """\
# dsar configuration of the generated demo company (see README.md).
env_file = "dsar.env"

[controller]
name = "Demo Kauppa Oy"
business_id = "1234567-1"
contact_email = "tietosuoja@demokauppa.example"
phone = "+358 9 123 4567"
postal_address = "Esimerkkikatu 1, 00100 Helsinki"
dpo_name = "Liisa Laine"
dpo_email = "dpo@demokauppa.example"
supervisory_authority = {{ fi = "Tietosuojavaltuutetun toimisto, tietosuoja.fi", \
en = "Office of the Data Protection Ombudsman, tietosuoja.fi" }}
languages = ["fi", "en"]

[[activities]]
name = "customer_register"
sources = ["customers", "support_mail"]
purposes = {{ fi = "Asiakassuhteen hoito, tilausten toimitus ja asiakaspalvelu.", \
en = "Managing the customer relationship, delivering orders and customer service." }}
legal_basis = {{ fi = "Sopimus (6 art. 1 b).", en = "Contract (Art. 6(1)(b))." }}
data_categories = {{ fi = "Nimi, yhteystiedot, tilaushistoria, asiakaspalvelun viestit.", \
en = "Name, contact details, order history, customer-service messages." }}
recipients = {{ fi = "Kuljetusyhtiöt tilausten toimittamiseksi.", en = "Carriers, to deliver orders." }}
retention = {{ fi = "Asiakkuuden ajan ja 6 vuotta kirjanpitolain mukaan.", \
en = "For the customer relationship and 6 years under the Accounting Act." }}
origin = {{ fi = "Rekisteröidyltä itseltään.", en = "From the data subject." }}
transfers = {{ fi = "Ei siirtoja EU:n tai ETA:n ulkopuolelle.", en = "No transfers outside the EU/EEA." }}
automated_decisions = {{ fi = "Ei automaattista päätöksentekoa.", en = "No automated decision-making." }}

[[activities]]
name = "marketing"
sources = ["marketing"]
purposes = {{ fi = "Uutiskirjeet ja tarjoukset suostumuksen perusteella.", \
en = "Newsletters and offers, based on consent." }}
legal_basis = {{ fi = "Suostumus (6 art. 1 a).", en = "Consent (Art. 6(1)(a))." }}
data_categories = {{ fi = "Sähköposti, nimi, tilaustila, avaukset ja klikkaukset.", \
en = "Email, name, subscription status, opens and clicks." }}
recipients = {{ fi = "Mailchimp (The Rocket Science Group LLC).", en = "Mailchimp (The Rocket Science Group LLC)." }}
retention = {{ fi = "Kunnes suostumus perutaan.", en = "Until consent is withdrawn." }}
origin = {{ fi = "Rekisteröidyltä ja markkinointialustalta.", en = "From the data subject and the marketing platform." }}
transfers = {{ fi = "Yhdysvallat, EU:n vakiosopimuslausekkeet.", en = "United States, EU standard contractual clauses." }}
automated_decisions = {{ fi = "Ei automaattista päätöksentekoa.", en = "No automated decision-making." }}

[identity]
# Levels of assurance (low < substantial < high). The demo identifies requesters by a one-time email
# code, which is "low", so every source below needs "low"; a shop that offers bank-ID login would ask
# "substantial" for its customer database.
minimum_level = "low"
other_recipient_level = "high"
# Who may record a manual check (dsar request verify --manual --by ID).
staff_ids = ["anna.k", "ville.n"]

[identity.knowledge]
# Knowledge match (dsar request verify --knowledge): the facts of the customer record a requester may state.
source = "customers"
name = ["first_name", "last_name"]
postal_code = "postal_code"
phone = "phone"
birth_date = "birth_date"
# Any of the customer's orders; with date = "ordered_at", within_days = 730 only those of the last two years.
order_number = {{ category = "orders", key = "id" }}

[mail]
sender = "Demo Kauppa Oy <tietosuoja@demokauppa.example>"
outbox = "outbox"

[store]
url = "sqlite:///dsar.db"
{ledger_key}
[[sources]]
name = "customers"
identity_level = "low"
kind = "sql"
url = "sqlite:///customers.db"
# What the customer typed in themselves (Art. 20 portability); orders and their items are the shop's records.
provided_by_subject = ["first_name", "last_name", "email", "phone", "street", "postal_code", "city", "birth_date", "language", "marketing_consent"]
# What the package calls the register, its tables and columns (a column not named here reads "Postal code").
label = {{ fi = "Asiakasrekisteri", en = "Customer register" }}
labels.categories.customer = {{ fi = "Asiakastiedot", en = "Customer details" }}
labels.categories.orders = {{ fi = "Tilaukset", en = "Orders" }}
labels.categories.order_items = {{ fi = "Tilausrivit", en = "Order items" }}
labels.columns.first_name = {{ fi = "Etunimi", en = "First name" }}
labels.columns.last_name = {{ fi = "Sukunimi", en = "Surname" }}
labels.columns.email = {{ fi = "Sähköposti", en = "Email" }}
labels.columns.phone = {{ fi = "Puhelin", en = "Phone" }}
labels.columns.total_cents = {{ fi = "Summa (senttiä)", en = "Total (cents)" }}
labels.columns."order_items.product" = {{ fi = "Tuote", en = "Product" }}
tables = [
  {{ category = "customer", table = "customers", match_column = "email", provided = true, about_subject = true, people_columns = ["first_name", "last_name"] }},
  {{ category = "orders", table = "orders", parent = "customers", foreign_key = "customer_id" }},
  {{ category = "order_items", table = "order_items", parent = "orders", foreign_key = "order_id" }},
]

[[sources]]
name = "support_mail"
identity_level = "low"
kind = "mail"
label = {{ fi = "Asiakaspalvelun sähköposti", en = "Customer service mail" }}
path = "support.mbox"   # an mbox, .mbox.gz, Maildir, a directory of .eml files, or s3://bucket/prefix

[[sources]]
name = "marketing"
identity_level = "low"
kind = "mailchimp"
label = {{ fi = "Markkinointi", en = "Marketing" }}
base_url = "{mailchimp_url}"
api_key_env = "MAILCHIMP_API_KEY"

[redaction]
keep = ["{staff_address}"]
controller_domains = ["demokauppa.example"]
staff = [{staff}]
keep_staff = true

[storage]
url = "file://packages"

[delivery]
public_url = "http://127.0.0.1:8765"
link_hours = 168
"""


LEDGER_KEY_FILE = """\
# The ledger's signing key, outside this directory: whoever can rewrite dsar.db here cannot re-sign it.
ledger_key_file = {path}
"""


def demo_config(mailchimp_url: str, staff_address: str, ledger_key_file: Path | None = None) -> str:
    """Without `ledger_key_file`, the ledger key is read from DSAR_LEDGER_KEY (the environment or dsar.env)."""
    staff = ", ".join(f'"{name}"' for name, _ in STAFF)
    # A JSON string is a TOML basic string.
    ledger_key = "" if ledger_key_file is None else LEDGER_KEY_FILE.format(path=json.dumps(str(ledger_key_file)))
    return DEMO_CONFIG.format(mailchimp_url=mailchimp_url, staff_address=staff_address, staff=staff,
                              ledger_key=ledger_key)
