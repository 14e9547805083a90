"""What the requester and the privacy team read, in Finnish and English."""

TEXTS = {
    "code_subject": {
        "fi": "Tietopyyntösi vahvistuskoodi",
        "en": "Your data request verification code",
    },
    "code_body": {
        "fi": "Hei,\n\nvahvistuskoodisi tietopyyntöön {request_id} on {code}.\n"
              "Koodi on voimassa {minutes} minuuttia. Vahvista pyyntösi avaamalla linkki:\n{verify_url}\n\n"
              "Pyyntösi etenemistä voit seurata osoitteessa\n{status_url}\n\n"
              "Jos et tehnyt pyyntöä, voit jättää viestin huomiotta.\n",
        "en": "Hello,\n\nyour verification code for data request {request_id} is {code}.\n"
              "It is valid for {minutes} minutes. Confirm your request by opening the link:\n{verify_url}\n\n"
              "You can follow your request at\n{status_url}\n\n"
              "If you did not make this request, ignore this message.\n",
    },
    # A code to a further address or phone the requester named: it proves they hold that one too.
    "identifier_code_subject": {
        "fi": "Lisäosoitteesi vahvistuskoodi",
        "en": "Verification code for your further address",
    },
    "identifier_code_body": {
        "fi": "Hei,\n\ntämä osoite on lisätty tietopyyntöön {request_id}. Vahvistuskoodi on {code}.\n"
              "Koodi on voimassa {minutes} minuuttia. Vasta vahvistettua osoitetta käytetään tietojesi etsimiseen. "
              "Jos et tehnyt pyyntöä, voit jättää viestin huomiotta.\n",
        "en": "Hello,\n\nthis address was added to data request {request_id}. The verification code is {code}.\n"
              "It is valid for {minutes} minutes. Only once verified is the address used to search for your data. "
              "If you did not make this request, ignore this message.\n",
    },
    "identifier_code_sms": {
        "fi": "Tietopyynnön {request_id} vahvistuskoodi tälle numerolle: {code} (voimassa {minutes} min).",
        "en": "Verification code for this number in data request {request_id}: {code} (valid {minutes} min).",
    },
    "link_subject": {
        "fi": "Tietosi ovat ladattavissa",
        "en": "Your data is ready to download",
    },
    "link_body": {
        "fi": "Hei,\n\ntietopyyntösi {request_id} on käsitelty. Lataa salattu tiedosto {expires} mennessä:\n{url}\n\n"
              "Avaa se age-ohjelmalla (https://age-encryption.org) erikseen lähetetyllä salasanalla:\n"
              "  age -d -o {request_id}.zip {request_id}.zip.age\n",
        "en": "Hello,\n\nyour data request {request_id} is complete. Download the encrypted file before {expires}:\n"
              "{url}\n\nOpen it with age (https://age-encryption.org) and the passphrase sent separately:\n"
              "  age -d -o {request_id}.zip {request_id}.zip.age\n",
    },
    "link_body_age-recipient": {
        "fi": "Hei,\n\ntietopyyntösi {request_id} on käsitelty. Lataa salattu tiedosto {expires} mennessä:\n{url}\n\n"
              "Se on salattu antamallesi age-avaimelle. Avaa se omalla avaimellasi:\n"
              "  age -d -i avain.txt -o {request_id}.zip {request_id}.zip.age\n",
        "en": "Hello,\n\nyour data request {request_id} is complete. Download the encrypted file before {expires}:\n"
              "{url}\n\nIt is encrypted to the age key you gave us. Open it with your own key:\n"
              "  age -d -i key.txt -o {request_id}.zip {request_id}.zip.age\n",
    },
    "link_body_zip-aes": {
        "fi": "Hei,\n\ntietopyyntösi {request_id} on käsitelty. Lataa salattu zip-tiedosto {expires} mennessä:\n"
              "{url}\n\nAvaa se esimerkiksi 7-Zip-ohjelmalla (https://www.7-zip.org) "
              "erikseen lähetetyllä salasanalla.\n",
        "en": "Hello,\n\nyour data request {request_id} is complete. Download the encrypted zip file before "
              "{expires}:\n{url}\n\nOpen it with 7-Zip (https://www.7-zip.org) or another tool that reads "
              "AES zip files, and the passphrase sent separately.\n",
    },
    "passphrase_subject": {
        "fi": "Salasana tietopyyntösi tiedostoon",
        "en": "Passphrase for your data file",
    },
    "passphrase_body": {
        "fi": "Hei,\n\nsalasana tietopyynnön {request_id} tiedostoon on:\n{passphrase}\n",
        "en": "Hello,\n\nthe passphrase for the file of data request {request_id} is:\n{passphrase}\n",
    },
    # Art. 12(3): the requester is told of an extension within the first month, with the reasons.
    "extension_subject": {
        "fi": "Tietopyyntösi {request_id} käsittelyaikaa on jatkettu",
        "en": "The time to answer your data request {request_id} has been extended",
    },
    "extension_body": {
        "fi": "Hei,\n\nvastaamme tietopyyntöösi {request_id} viimeistään {due}. Käsittelyaikaa on jatkettu "
              "{by}, kuten EU:n yleisen tietosuoja-asetuksen 12 artiklan 3 kohta sallii.\n\n"
              "Syy: {reason}\n\nPyyntösi etenemistä voit seurata osoitteessa\n{status_url}\n",
        "en": "Hello,\n\nwe will answer your data request {request_id} by {due}. The time to answer has been "
              "extended by {by}, as Article 12(3) of the General Data Protection Regulation allows.\n\n"
              "Reason: {reason}\n\nYou can follow your request at\n{status_url}\n",
    },
    # {by} above: the extension's length in words (Art. 12(3) allows one or two further months).
    "extension_by_1": {
        "fi": "yhdellä kuukaudella",
        "en": "one month",
    },
    "extension_by_2": {
        "fi": "kahdella kuukaudella",
        "en": "two months",
    },
    # To the privacy team: ids, statuses, dates and reasons only, never the requester's details.
    "failure_subject": {
        "fi": "Tietopyyntö {request_id} keskeytyi: {stage}",
        "en": "Data request {request_id} failed: {stage}",
    },
    "failure_body": {
        "fi": "Tietopyynnön {request_id} käsittely keskeytyi vaiheessa {stage}.\nSyy: {reason}\n\n"
              "Kun syy on korjattu, jatka pyyntöä: dsar run {request_id}\n"
              "Pyynnön tiedot: dsar request show {request_id}\n",
        "en": "Data request {request_id} stopped at stage {stage}.\nReason: {reason}\n\n"
              "Once the cause is fixed, resume it: dsar run {request_id}\n"
              "The request: dsar request show {request_id}\n",
    },
    "deadlines_subject": {
        "fi": "Tietopyyntöjen määräajat {date}: {overdue} myöhässä, {due_soon} erääntymässä",
        "en": "Data request deadlines {date}: {overdue} overdue, {due_soon} due soon",
    },
    "deadlines_body": {
        "fi": "Avoimet tietopyynnöt, joiden määräaika on mennyt tai päättyy {days} päivän kuluessa:\n\n"
              "{lines}\n\nVastaus on annettava kuukauden kuluessa pyynnön saapumisesta tai jatketussa määräajassa "
              "(GDPR 12(3)).\nSama lista: dsar requests list --due-within {days}d\n",
        "en": "Open data requests whose deadline has passed or falls within {days} days:\n\n"
              "{lines}\n\nThe reply is due within one month of receipt, or by the extended date "
              "(GDPR Art. 12(3)).\nThe same list: dsar requests list --due-within {days}d\n",
    },
    "deadline_line": {
        "fi": "{request_id}  {status:<18}  {due}{extended}{overdue}",
        "en": "{request_id}  {status:<18}  {due}{extended}{overdue}",
    },
    "extended_mark": {
        "fi": " (jatkettu)",
        "en": " (extended)",
    },
    "overdue_mark": {
        "fi": "  MYÖHÄSSÄ",
        "en": "  OVERDUE",
    },
}


def text(name: str, language: str, **values: object) -> str:
    return TEXTS[name][language].format(**values)
