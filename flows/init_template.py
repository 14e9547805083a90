"""The commented `dsar.toml` that `dsar init` writes.

A comment is written `#| English | suomeksi` and comes out as `# ` and the text of the chosen language; keys stay
English. `${name}` fields are filled with TOML values by flows/init.py. Defaults are written out so that every
key is seen; the commented lines show keys that are off until filled in.
"""

DSAR_TOML = """\
#| dsar configuration, made by `dsar init`. Keys are English; every key is explained on its line. \
| dsar-asetukset, tehty komennolla `dsar init`. Avaimet ovat englanniksi; jokainen selitetään rivillään.
#| Next: read README.md beside this file, add your [[sources]] (examples at the end), then run `dsar check`. \
| Seuraavaksi: lue viereinen README.md, lisää [[sources]]-lähteet (esimerkit lopussa) ja aja `dsar check`.

env_file = "${env_file}"  #| secrets (KEY=VALUE, owner-only): never put a secret in this file \
| salaisuudet (KEY=VALUE, vain omistajan luettavissa): älä koskaan kirjoita salaisuutta tähän tiedostoon

[controller]
#| The controller as the privacy notice names it: shown in every package and message. \
| Rekisterinpitäjä kuten tietosuojaseloste sen nimeää: näkyy jokaisessa paketissa ja viestissä.
name = ${name}  #| legal name | virallinen nimi
business_id = ${business_id}  #| Finnish business id (Y-tunnus), with its check digit | Y-tunnus tarkisteineen
contact_email = ${contact_email}  #| where requesters and the privacy team write \
| osoite, johon rekisteröidyt ja tietosuojatiimi kirjoittavat
${phone_line}  #| phone number of the privacy contact | tietosuoja-asioiden puhelinnumero
${postal_line}  #| postal address (also kept unredacted in mail) | postiosoite (säilyy myös viesteissä peittämättä)
${dpo_name_line}  #| data protection officer, if you have one | tietosuojavastaava, jos sellainen on
${dpo_email_line}  #| the DPO's address | tietosuojavastaavan osoite
${time_zone_line}  #| time zone of the times README.html shows | aikavyöhyke, jonka kellonaikoja README.html näyttää
holiday_country = "FI"  #| a deadline on a weekend or this country's public holiday moves to the next working day \
| määräaika, joka osuu viikonloppuun tai tämän maan yleiseen vapaapäivään, siirtyy seuraavaan arkipäivään
languages = ${languages}  #| languages of messages and packages; every text below needs each of them \
| viestien ja pakettien kielet; jokainen alla oleva teksti tarvitaan jokaisella niistä
supervisory_authority = ${authority}  #| where a requester may complain | minne rekisteröity voi valittaa

#| One [[activities]] entry per processing activity of your privacy notice (the Art. 15(1) information). \
| Yksi [[activities]]-kohta kutakin tietosuojaselosteen käsittelytoimea kohden (15 art. 1 kohdan tiedot).
#| REPLACE these example texts with your notice's own words. | KORVAA nämä esimerkkitekstit selosteesi sanoilla.
[[activities]]
name = "customer_register"  #| a short id | lyhyt tunniste
sources = ["customers", "support_mail"]  #| the [[sources]] this activity's data sits in \
| [[sources]]-lähteet, joissa tämän käsittelyn tiedot ovat
purposes = ${purposes}  #| why the data is processed | miksi tietoja käsitellään
legal_basis = ${legal_basis}  #| the Art. 6 basis | 6 artiklan peruste
data_categories = ${data_categories}  #| what kinds of data | mitä tietoja
recipients = ${recipients}  #| who receives the data | kenelle tietoja luovutetaan
retention = ${retention}  #| how long the data is kept | kuinka kauan tietoja säilytetään
origin = ${origin}  #| where the data comes from | mistä tiedot saadaan
transfers = ${transfers}  #| transfers outside the EU/EEA and their safeguards \
| siirrot EU:n/ETA:n ulkopuolelle ja suojatoimet
automated_decisions = ${automated_decisions}  #| automated decision-making, profiling \
| automaattinen päätöksenteko, profilointi

[identity]
#| How a requester proves who they are. | Miten pyytäjä todistaa henkilöllisyytensä.
methods = ["email_code"]  #| email_code (a one-time code by mail) and/or oidc (see [identity.oidc]) \
| email_code (kertakoodi sähköpostiin) ja/tai oidc (ks. [identity.oidc])
code_ttl_minutes = 15  #| how long a one-time code is valid (1-60) | kuinka kauan kertakoodi on voimassa (1-60)
code_attempts = 5  #| wrong codes allowed before a new code is needed (1-10) \
| sallitut väärät koodit ennen uutta koodia (1-10)
allow_smtputf8 = false  #| accept non-ASCII local parts (your mail system must take them) \
| salli ei-ASCII-merkit osoitteen alussa (postijärjestelmän on tuettava niitä)
unverified_lapse_days = 7  #| an unverified request is closed after this many days \
| vahvistamaton pyyntö suljetaan näin monen päivän jälkeen
minimum_level = "low"  #| below this level of assurance nothing is searched (low, substantial, high) \
| tätä alemmalla varmuustasolla mitään ei haeta (low, substantial, high)
other_recipient_level = "high"  #| needed to deliver anywhere but the verified address \
| vaaditaan, jos toimitetaan muualle kuin vahvistettuun osoitteeseen
staff_ids = []  #| staff ids allowed to record manual checks (ids, not names) \
| henkilökunnan tunnukset, jotka saavat kirjata tarkistuksen käsin (tunnuksia, ei nimiä)
# [identity.manual_levels]  #| the level each manual check gives | kunkin käsin tehdyn tarkistuksen varmuustaso
# id_document = "high"
# signed_letter = "substantial"
# in_person = "substantial"
# [identity.knowledge]  #| match what the requester states against their customer record \
| pyytäjän kertomien tietojen vertaus asiakasrekisteriin
# source = "customers"  #| a source with about_subject rows | lähde, jossa on about_subject-rivit
# name = ["first_name", "last_name"]  #| columns holding the name | nimen sarakkeet
# postal_code = "postal_code"
# phone = "phone"
# birth_date = "birth_date"
# attempts = 3
# lockout_days = 30
# [identity.oidc]  #| login at an identity provider (add "oidc" to methods) \
| tunnistautuminen palveluntarjoajalla (lisää "oidc" kohtaan methods)
# issuer = "https://login.example.fi"
# client_id = "dsar"
# jwks_url = "https://login.example.fi/.well-known/jwks.json"
# level = "high"

[mail]
#| Mail to requesters (codes, links) and to the privacy team. | Posti pyytäjille (koodit, linkit) ja tietosuojatiimille.
sender = ${sender}  #| the From address | lähettäjän osoite
outbox = "outbox"  #| without [mail.smtp], messages are written here as .eml files to send by hand \
| ilman [mail.smtp]-osiota viestit kirjoitetaan tänne .eml-tiedostoina lähetettäviksi käsin
# [mail.smtp]  #| send through your mail server instead of the outbox | lähetä postipalvelimen kautta outboxin sijaan
# host = "smtp.example.fi"
# port = 587  #| submission port; STARTTLS is used | lähetysportti; käytetään STARTTLS:ää
# starttls = true
# username_env = "DSAR_SMTP_USERNAME"  #| the env variable holding the user name (in ${env_file}) \
| ympäristömuuttuja, jossa käyttäjätunnus (${env_file})
# password_env = "DSAR_SMTP_PASSWORD"  #| the env variable holding the password (in ${env_file}) \
| ympäristömuuttuja, jossa salasana (${env_file})

[store]
url = "sqlite:///dsar.db"  #| request store and audit ledger (SQLite here, or postgresql://...) \
| pyyntörekisteri ja tarkastusloki (SQLite tässä, tai postgresql://...)
ledger_key_env = "DSAR_LEDGER_KEY"  #| env variable: base64 Ed25519 key signing the ledger \
| ympäristömuuttuja: lokia allekirjoittava base64-muotoinen Ed25519-avain
# ledger_key_file = "/etc/dsar-keys/ledger.key"  #| or a key file of its own outside this directory, owner-only \
| tai oma avaintiedosto tämän hakemiston ulkopuolella, vain omistajan luettavissa

[audit]
checkpoint_file = "ledger-head.json"  #| the ledger's signed head, rewritten after each event \
| lokin allekirjoitettu pää, kirjoitetaan jokaisen tapahtuman jälkeen
# worm_url = "s3://dsar-audit/ledger"  #| write-once copies of events in a bucket with Object Lock \
| tapahtumien kertakirjoitettavat kopiot Object Lock -ämpärissä
# worm_retention_days = 2190  #| how long each copy stays locked | kuinka kauan kukin kopio pysyy lukittuna

[storage]
url = "file://packages"  #| where encrypted packages are kept: file://DIR or s3://bucket/prefix \
| minne salatut paketit tallennetaan: file://HAKEMISTO tai s3://bucket/prefix
# kms_key_id = "arn:aws:kms:..."  #| S3 only, required there: the KMS key encrypting packages \
| vain S3, siellä pakollinen: paketit salaava KMS-avain
# endpoint_url = "https://s3.eu-north-1.amazonaws.com"  #| S3 only: the service to talk to | vain S3: palvelun osoite
# region = "eu-north-1"  #| S3 only | vain S3

[delivery]
public_url = "http://127.0.0.1:8765"  #| the address in download links (`dsar serve`, or your proxy) \
| latauslinkkien osoite (`dsar serve` tai välityspalvelin)
link_hours = 168  #| how long a download link works | kuinka kauan latauslinkki toimii
max_downloads = 3  #| downloads per link | latauksia linkkiä kohden
abandoned_staging_hours = 24  #| unclaimed working files are deleted after this \
| hylätyt työtiedostot poistetaan tämän jälkeen
link_secret_env = "DSAR_LINK_SECRET"  #| env variable: the secret signing links (32+ bytes) \
| ympäristömuuttuja: linkit allekirjoittava salaisuus (vähintään 32 tavua)

[portal]
asks_per_client_per_hour = 10  #| asks one client (IP address) may send in an hour \
| pyyntöjä, jotka yksi asiakas (IP-osoite) voi lähettää tunnissa
asks_per_address_per_day = 3  #| asks naming one email address in a day \
| pyyntöjä samalle sähköpostiosoitteelle vuorokaudessa
codes_per_client_per_hour = 30  #| codes one client may try in an hour | koodiyrityksiä asiakasta kohden tunnissa
trusted_proxies = []  #| reverse proxies whose X-Forwarded-For names the client \
| välityspalvelimet, joiden X-Forwarded-For-otsake nimeää asiakkaan

[package]
signing_key_env = "DSAR_PACKAGE_KEY"  #| env variable: base64 Ed25519 key signing packages (publish its public key) \
| ympäristömuuttuja: paketit allekirjoittava base64-muotoinen Ed25519-avain (julkaise sen julkinen avain)

[notify]
# team_email = "tietosuoja@example.fi"  #| failure and deadline mail; default: contact_email \
| virhe- ja määräaikaposti; oletus: contact_email
deadline_warning_days = 7  #| the daily digest lists requests due within this many days \
| päivittäinen kooste luettelee näin monen päivän sisällä erääntyvät

[review]
required = false  #| true: every package waits for a privacy officer's approval \
| true: jokainen paketti odottaa hyväksyntää
when_withheld = true  #| a request with withheld items waits for approval \
| pyyntö, josta jätettiin jotain pois, odottaa hyväksyntää
timeout_hours = 168  #| how long a waiting run stays suspended | kuinka kauan odottava ajo pysyy keskeytettynä

[redaction]
#| Other people's data in the subject's records is replaced with placeholders. \
| Muiden ihmisten tiedot rekisteröidyn aineistossa korvataan paikkamerkeillä.
keep = []  #| texts never redacted (e.g. your shop's own addresses) \
| tekstit, joita ei koskaan peitetä (esim. omat osoitteenne)
controller_domains = ${domains}  #| your own mail domains: their addresses are yours, not third parties' \
| omat postiverkkotunnuksenne: niiden osoitteet ovat teidän, eivät kolmansien
role_mailboxes = []  #| extra role addresses kept, like "myynti" (info@, support@ ... are built in) \
| lisää säilytettäviä rooliosoitteita, kuten "myynti" (info@, support@ ... ovat valmiina)
staff = []  #| staff names as they sign mail | henkilökunnan nimet kuten he allekirjoittavat viestit
keep_staff = true  #| keep staff names unredacted | jätä henkilökunnan nimet peittämättä
region = "FI"  #| phone numbers without a country code are read as this country's \
| maatunnuksettomat puhelinnumerot luetaan tämän maan numeroiksi
detectors = ${detectors}  #| which kinds of third-party data are found | mitä kolmansien tietoja etsitään

#| Sources: where the controller keeps personal data. Uncomment and edit the two examples, or add your own. \
| Lähteet: missä henkilötietoja säilytetään. Poista kommentit esimerkeistä ja muokkaa niitä, tai lisää omat.
#| The names must match [[activities]] sources above. \
| Nimien on vastattava yllä [[activities]]-kohdan sources-luetteloa.
# [[sources]]
# name = "customers"
# kind = "sql"  #| a database table searched by the requester's address \
| tietokantataulu, josta haetaan pyytäjän osoitteella
# url = "sqlite:///customers.db"  #| SQLAlchemy URL; a password goes in ${env_file} via url_env \
| SQLAlchemy-osoite; salasana kuuluu tiedostoon ${env_file} (url_env)
# identity_level = "low"  #| the level of assurance reading this source needs \
| lähteen lukemiseen vaadittava varmuustaso
# provided_by_subject = ["first_name", "last_name", "email", "phone"]  #| what the subject gave you (Art. 20) \
| mitä rekisteröity on itse antanut (20 art.)
# tables = [
#   { category = "customer", table = "customers", match_column = "email", provided = true, about_subject = true },
#   { category = "orders", table = "orders", parent = "customers", foreign_key = "customer_id" },
# ]
#
# [[sources]]
# name = "support_mail"
# kind = "mail"
# path = "support.mbox"  #| an mbox, .mbox.gz, Maildir, a directory of .eml files, or s3://bucket/prefix \
| mbox, .mbox.gz, Maildir, .eml-tiedostojen hakemisto tai s3://bucket/prefix
# identity_level = "low"
"""

INIT_README = {
    "en": """\
# dsar for ${name}

`dsar init` made these files:

- `dsar.toml`: the configuration. Every key is explained on its line.
- `${env_file}`: the secrets (the link secret, the ledger key, the package signing key). Readable by you only;
  keep a copy in a safe place: without the ledger key the audit trail cannot be signed or checked.
  Running `dsar init` again never replaces a key in it.

## What to fill in next

1. **Activities**: replace the example texts of `[[activities]]` with your privacy notice's own words, one
   entry per processing activity, in every language of `languages`.
2. **Sources**: add a `[[sources]]` entry for each place personal data sits (the end of `dsar.toml` has an SQL
   database and an mbox example). Their names must match the `sources` lists of your activities.
3. **Mail**: until `[mail.smtp]` is set, messages to requesters are written to `outbox/` for you to send.
   For SMTP, uncomment `[mail.smtp]` and put the user name and password in `${env_file}`.
4. **Storage and links**: `[storage]` and `[delivery] public_url` say where packages go and how requesters
   reach them.

## Then

```
dsar check          # the config, the secrets, every source, SMTP and storage: one line each
dsar request new --email requester@example.fi --language en
```

`dsar --help` lists every command; publish the keys of `dsar audit public-key` and `dsar package public-key`.
""",
    "fi": """\
# dsar: ${name}

`dsar init` teki nämä tiedostot:

- `dsar.toml`: asetukset. Jokainen avain selitetään rivillään.
- `${env_file}`: salaisuudet (linkkien salaisuus, tarkastuslokin avain, pakettien allekirjoitusavain). Vain sinun
  luettavissasi; pidä kopio turvassa: ilman lokin avainta tarkastuslokia ei voi allekirjoittaa eikä tarkistaa.
  `dsar init` ei uudelleen ajettaessa koskaan korvaa siinä olevaa avainta.

## Täytä seuraavaksi

1. **Käsittelytoimet**: korvaa `[[activities]]`-kohdan esimerkkitekstit tietosuojaselosteesi sanoilla, yksi
   kohta kutakin käsittelytointa kohden, jokaisella `languages`-kielellä.
2. **Lähteet**: lisää `[[sources]]`-kohta jokaiselle paikalle, jossa henkilötietoja on (`dsar.toml`-tiedoston
   lopussa on esimerkit SQL-tietokannasta ja mbox-arkistosta). Nimien on vastattava käsittelytoimien
   `sources`-luetteloita.
3. **Posti**: kunnes `[mail.smtp]` on asetettu, viestit pyytäjille kirjoitetaan hakemistoon `outbox/`
   lähetettäviksi. SMTP:tä varten poista kommentit `[mail.smtp]`-osiosta ja kirjoita käyttäjätunnus ja salasana
   tiedostoon `${env_file}`.
4. **Tallennus ja linkit**: `[storage]` ja `[delivery] public_url` kertovat, minne paketit tallennetaan ja
   mistä pyytäjät ne lataavat.

## Sitten

```
dsar check          # asetukset, salaisuudet, jokainen lähde, SMTP ja tallennus: rivi kustakin
dsar request new --email pyytaja@example.fi --language fi
```

`dsar --help` luettelee kaikki komennot; julkaise `dsar audit public-key`- ja `dsar package public-key`
-komentojen avaimet.
""",
}
