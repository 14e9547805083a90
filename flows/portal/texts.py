"""The portal's page texts, in Finnish and English."""

from __future__ import annotations

LANGUAGES = ("fi", "en")
LANGUAGE_NAMES = {"fi": "Suomeksi", "en": "In English"}

TEXTS: dict[str, dict[str, str]] = {
    "skip": {"fi": "Siirry sisältöön", "en": "Skip to content"},
    "language": {"fi": "Kieli", "en": "Language"},
    "contact": {"fi": "Yhteystiedot", "en": "Contact"},
    "dpo": {"fi": "Tietosuojavastaava", "en": "Data protection officer"},
    "ask_title": {"fi": "Pyydä tietosi", "en": "Ask for your data"},
    "ask_intro": {
        "fi": "Voit pyytää jäljennöksen henkilötiedoista, joita {controller} käsittelee sinusta (EU:n "
              "tietosuoja-asetuksen 15 artikla), myös koneluettavassa muodossa siirrettäväksi (20 artikla). "
              "Lähetämme sähköpostiisi vahvistuskoodin, jolla osoitat, että osoite on sinun.",
        "en": "You can ask {controller} for a copy of the personal data it holds about you (Article 15 of the "
              "EU General Data Protection Regulation), also in a machine-readable form to take elsewhere "
              "(Article 20). We send a verification code to your email to prove the address is yours.",
    },
    "email": {"fi": "Sähköpostiosoite", "en": "Email address"},
    "email_hint": {"fi": "Haemme tietoja tällä osoitteella.", "en": "We search for your data by this address."},
    "name": {"fi": "Nimi (vapaaehtoinen)", "en": "Name (optional)"},
    "reply_language": {"fi": "Vastauksen kieli", "en": "Language of the reply"},
    "right": {"fi": "Mitä pyydät", "en": "What you ask for"},
    "right_access": {"fi": "Jäljennös tiedoistani (15 art.)", "en": "A copy of my data (Art. 15)"},
    "right_portability": {
        "fi": "Tietoni koneluettavassa muodossa siirrettäväksi (20 art.)",
        "en": "My data in a machine-readable form to take elsewhere (Art. 20)",
    },
    "honeypot": {"fi": "Jätä tämä kenttä tyhjäksi", "en": "Leave this field empty"},
    "send": {"fi": "Lähetä pyyntö", "en": "Send the request"},
    "verify_title": {"fi": "Vahvista sähköpostiosoitteesi", "en": "Confirm your email address"},
    "verify_intro": {
        "fi": "Jos osoitteella voi tehdä pyynnön, lähetimme siihen kahdeksannumeroisen koodin. Kirjoita se "
              "tähän. Viesti voi tulla muutaman minuutin viiveellä; katso myös roskapostikansio.",
        "en": "If a request can be made with the address, we sent an eight-digit code to it. Enter it here. "
              "The message may take a few minutes; check your spam folder too.",
    },
    "code": {"fi": "Vahvistuskoodi", "en": "Verification code"},
    "code_hint": {"fi": "8 numeroa sähköpostiviestistä", "en": "8 digits from the email"},
    "confirm": {"fi": "Vahvista", "en": "Confirm"},
    "or": {"fi": "tai", "en": "or"},
    "code_wrong": {
        "fi": "Koodi ei kelpaa. Tarkista se sähköpostista; koodi vanhenee ja yrityksiä on rajallisesti.",
        "en": "The code does not work. Check it in the email; codes expire and tries are limited.",
    },
    "already_verified_title": {"fi": "Osoite on jo vahvistettu", "en": "Your address is already confirmed"},
    "already_verified_body": {
        "fi": "Tämä pyyntö on jo vahvistettu. Seuraa sen tilaa sähköpostiisi lähetetyn linkin kautta.",
        "en": "This request is already confirmed. Follow it with the status link in the email we sent you.",
    },
    "verified": {"fi": "Henkilöllisyytesi on vahvistettu.", "en": "Your identity is confirmed."},
    "status_title": {"fi": "Pyyntösi tila", "en": "Your request"},
    "status_request": {"fi": "Pyyntö", "en": "Request"},
    "status_received_at": {"fi": "Vastaanotettu", "en": "Received"},
    "status_due": {"fi": "Vastaamme viimeistään", "en": "We reply by"},
    "status_due_note": {
        "fi": "Tietosuoja-asetuksen 12 artiklan 3 kohdan mukaan vastaus annetaan kuukauden kuluessa pyynnön "
              "saapumisesta.",
        "en": "Under Article 12(3) of the GDPR the reply is due within one month of receiving the request.",
    },
    "status_extended": {
        "fi": "Määräaikaa on jatkettu {date} asti (12 artiklan 3 kohta sallii jatkon pyyntöjen monimutkaisuuden "
              "tai määrän vuoksi). Syy: {reason}",
        "en": "The deadline has been extended to {date} (Article 12(3) allows this where requests are complex or "
              "numerous). Reason: {reason}",
    },
    "step_received": {"fi": "Vastaanotettu", "en": "Received"},
    "step_verifying": {"fi": "Henkilöllisyyden vahvistus", "en": "Confirming your identity"},
    "step_in_progress": {"fi": "Käsittelyssä", "en": "In progress"},
    "step_ready": {"fi": "Valmis ladattavaksi", "en": "Ready to download"},
    "step_delivered": {"fi": "Ladattu", "en": "Downloaded"},
    "step_closed": {"fi": "Päättynyt", "en": "Closed"},
    "current_step": {"fi": "nykyinen vaihe", "en": "current step"},
    "status_verifying_hint": {
        "fi": "Vahvista osoitteesi sähköpostiin lähetetyllä koodilla:",
        "en": "Confirm your address with the code we emailed you:",
    },
    "status_verify_link": {"fi": "Syötä koodi", "en": "Enter the code"},
    "status_ready_hint": {
        "fi": "Lähetimme latauslinkin sähköpostiisi.",
        "en": "We emailed you a download link.",
    },
    "status_closed_hint": {
        "fi": "Pyyntö on päättynyt. Kysyttävää? Ota yhteyttä alla oleviin yhteystietoihin.",
        "en": "The request has ended. Questions? Contact us using the details below.",
    },
    "status_duplicate_hint": {
        "fi": "Sinulla on jo aiempi vahvistettu pyyntö käsittelyssä. Saat vastauksen siihen; tätä pyyntöä ei "
              "käsitellä erikseen.",
        "en": "You already have an earlier verified request in progress. You will get its reply; this request is "
              "not handled separately.",
    },
    "status_stronger_hint": {
        "fi": "Tietojen luovuttaminen vaatii vahvemman tunnistautumisen:",
        "en": "Handing over the data needs stronger identification:",
    },
    "status_stronger_link": {"fi": "Tunnistaudu", "en": "Identify yourself"},
    "stronger_title": {"fi": "Vahvempi tunnistautuminen tarvitaan", "en": "Stronger identification needed"},
    "stronger_intro": {
        "fi": "Sähköpostiosoitteesi on vahvistettu, mutta tietojen luovuttaminen vaatii vahvan tunnistautumisen.",
        "en": "Your email address is confirmed, but handing over the data needs strong identification.",
    },
    "stronger_contact": {
        "fi": "Sähköpostiosoitteesi on vahvistettu, mutta tietojen luovuttaminen vaatii vahvemman "
              "tunnistautumisen. Ota yhteyttä: {contact}",
        "en": "Your email address is confirmed, but handing over the data needs stronger identification. "
              "Please contact us: {contact}",
    },
    "refresh": {"fi": "Päivitä tilanne", "en": "Refresh"},
    "download_title": {"fi": "Lataa tietosi", "en": "Download your data"},
    "download_what": {
        "fi": "Tiedosto {name} on salattu arkisto, jossa ovat tietosi: selaimella luettava README.html, "
              "taulukko (XLSX) sekä koneluettavat JSON- ja CSV-tiedostot.",
        "en": "The file {name} is an encrypted archive holding your data: a README.html to read in a browser, "
              "a spreadsheet (XLSX), and machine-readable JSON and CSV files.",
    },
    "download_left": {"fi": "Latauksia jäljellä: {count}", "en": "Downloads left: {count}"},
    "download_expires": {"fi": "Linkki vanhenee {date} ({zone}).", "en": "The link expires on {date} ({zone})."},
    "download_button": {"fi": "Lataa tiedosto", "en": "Download the file"},
    "open_title": {"fi": "Näin avaat tiedoston", "en": "How to open the file"},
    "open_passphrase": {
        "fi": "Tarvitset salasanan, jonka lähetimme erillisessä viestissä.",
        "en": "You need the passphrase we sent in a separate message.",
    },
    "open_recipient": {
        "fi": "Tiedosto on salattu antamallesi age-avaimelle; avaat sen omalla avaimellasi.",
        "en": "The file is encrypted to the age key you gave us; you open it with your own key.",
    },
    "age_what": {
        "fi": "Tiedosto on salattu age-ohjelmalla (age-encryption.org). Asenna age ja avaa tiedosto:",
        "en": "The file is encrypted with age (age-encryption.org). Install age and open the file:",
    },
    "age_windows": {
        "fi": "Windows: asenna age komennolla winget install FiloSottile.age ja avaa komentokehote.",
        "en": "Windows: install age with winget install FiloSottile.age and open a command prompt.",
    },
    "age_macos": {
        "fi": "macOS: asenna age komennolla brew install age ja avaa Pääte.",
        "en": "macOS: install age with brew install age and open Terminal.",
    },
    "age_linux": {
        "fi": "Linux: asenna paketti age (esim. apt install age) ja avaa pääte.",
        "en": "Linux: install the age package (for example apt install age) and open a terminal.",
    },
    "age_command": {
        "fi": "Siirry kansioon, johon tiedosto latautui, ja anna komento (age kysyy salasanan):",
        "en": "Go to the folder the file was downloaded to and run (age asks for the passphrase):",
    },
    "age_command_key": {
        "fi": "Siirry kansioon, johon tiedosto latautui, ja anna komento ({key_file} on age-avaimesi):",
        "en": "Go to the folder the file was downloaded to and run ({key_file} is your age key):",
    },
    "key_file": {"fi": "avain.txt", "en": "key.txt"},
    "age_phone": {
        "fi": "Puhelin: age-tiedostoja ei voi avata tavallisilla puhelinsovelluksilla. Lataa tiedosto "
              "tietokoneelle, tai pyydä meiltä zip-tiedosto, jonka puhelimen tiedostosovellus avaa salasanalla.",
        "en": "Phone: ordinary phone apps cannot open age files. Download the file on a computer, or ask us "
              "for a zip file that a phone's file app opens with the passphrase.",
    },
    "age_then": {
        "fi": "Pura syntynyt zip-tiedosto ja avaa README.html selaimella.",
        "en": "Unzip the resulting zip file and open README.html in a browser.",
    },
    "zip_what": {
        "fi": "Tiedosto on AES-salattu zip-arkisto.",
        "en": "The file is an AES-encrypted zip archive.",
    },
    "zip_windows": {
        "fi": "Windows: avaa se 7-Zip-ohjelmalla (7-zip.org); Windowsin oma zip-toiminto ei tunne AES-salausta.",
        "en": "Windows: open it with 7-Zip (7-zip.org); Windows' own zip support cannot open AES encryption.",
    },
    "zip_macos": {
        "fi": "macOS: avaa se esimerkiksi Keka-ohjelmalla tai Päätteessä: 7z x {name}",
        "en": "macOS: open it with Keka, for example, or in Terminal: 7z x {name}",
    },
    "zip_linux": {"fi": "Linux: 7z x {name} (paketti p7zip-full)", "en": "Linux: 7z x {name} (package p7zip-full)"},
    "zip_phone": {
        "fi": "Puhelin: iPhonen Tiedostot-sovellus ja Androidin tiedostonhallintasovellukset avaavat sen "
              "salasanalla.",
        "en": "Phone: the iPhone Files app and Android file managers open it with the passphrase.",
    },
    "gone_title": {"fi": "Linkki ei toimi", "en": "This link does not work"},
    "gone_body": {
        "fi": "Linkki on vanhentunut, käytetty loppuun tai virheellinen. Pyydä tarvittaessa uusi linkki "
              "ottamalla yhteyttä: {contact}",
        "en": "The link has expired, been used up or is not valid. If you need a new one, contact us: {contact}",
    },
    "oidc_failed_title": {"fi": "Tunnistautuminen ei onnistunut", "en": "Identification did not succeed"},
    "oidc_failed_body": {
        "fi": "Palaa sähköpostin linkistä ja yritä uudelleen, tai anna sähköpostilla saamasi koodi.",
        "en": "Go back through the link in your email and try again, or enter the code we emailed you.",
    },
    "limited_title": {"fi": "Liian monta yritystä", "en": "Too many attempts"},
    "limited_body": {
        "fi": "Yritä uudelleen hetken kuluttua.",
        "en": "Please try again in a while.",
    },
    "bad_form_title": {"fi": "Lomake vanhentui", "en": "The form expired"},
    "bad_form_body": {
        "fi": "Lataa sivu uudelleen ja lähetä lomake uudestaan.",
        "en": "Reload the page and send the form again.",
    },
    "invalid_email": {"fi": "Tarkista sähköpostiosoite.", "en": "Check the email address."},
    "error_summary": {"fi": "Korjaa lomakkeen tiedot", "en": "Please correct the form"},
}


def page_text(key: str, language: str, /, **values: object) -> str:
    """The text `key` in `language` (fi or en), with `values` filled in."""
    template = TEXTS[key][language]
    return template.format(**values) if values else template
