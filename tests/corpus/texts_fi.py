"""Finnish message texts. Slots are filled by tests/corpus/compose.py.

A text starting "o:" is used by odd seeds only (dev), "e:" by even seeds only
(held-out); the rest by both. Slots: {P.attr[:case]} for a person P (S the
subject, T the staff member on the thread, U a colleague, W a third party who
writes, A B C third parties), {kind[:arg]} for a non-personal decoy.
"""

from __future__ import annotations

GREETING = {
    "cust": ("Hei,", "Hei {T.first},", "Moi!", "Hyvä asiakaspalvelu,", "Hei {T.first}!", "o:Moikka,",
             "e:Terve,", "Hei {T.first} ja kiitos nopeasta vastauksesta!", "Hei!"),
    "staff": ("Hei {S.first},", "Moi {S.first}!", "Hyvä {S.full},", "Hei {S.first}!", "Hei,", "o:Hei {S.full},",
              "e:Moikka {S.first},", "Hyvä asiakas,"),
    "other": ("Hei,", "Hyvä vastaanottaja,", "Moi!", "o:Hei Kaupan väki,", "e:Hei asiakaspalvelu,"),
}

CLOSING = {
    "cust": ("Terveisin\n{S.first}", "Ystävällisin terveisin,\n{S.full}", "t. {S.first}",
             "Terveisin\n{S.full}\n{S.phone}", "Kiitos etukäteen!\n\n{S.full}\n{S.address}\n{S.city}",
             "o:Kiittäen\n{S.full}", "e:Parhain terveisin\n{S.first} {S.last}\npuh. {S.phone}",
             "Terveisin,\n{S.first}\n\n--\n{S.full}\n{S.email_case}"),
    "staff": ("Ystävällisin terveisin,\n{T.full}\nAsiakaspalvelu | Kauppa Oy\nwww.kauppa.fi",
              "Terveisin\n{T.first} / Kaupan asiakaspalvelu", "Ystävällisin terveisin\n\n{T.full}\n{T.email}",
              "o:Hyvää päivänjatkoa!\n{T.first}\nKauppa Oy, Y-tunnus {ybiz}",
              "e:Terveisin,\n{T.full}\nasiakaspalvelu\nKauppa Oy | {role}"),
    "other": ("Terveisin\n{W.full}", "Ystävällisin terveisin,\n{W.full}\n{W.phone}", "t. {W.first}",
              "o:Kiittäen,\n{W.first} {W.last}", "e:Terveisin {W.full}"),
}

SUBJECT = {
    "cust": ("Tilaus {order}", "Kysymys tilauksesta {order}", "Palautus", "{S.first:gen} tilaus {order}",
             "Osoitteenmuutos", "Laskun {invoice} maksu", "Tuote {product} rikki", "Toimitus {A.street:all}",
             "o:Tuplaveloitus {date}", "e:Hyvitys tilille, tilaus {order}", "Lahjatilaus {A.first:all}",
             "Re: Tilaus {order}", "VS: Palautus {order}", "Tietopyyntö"),
    "staff": ("Re: Tilaus {order}", "Vastaus: {S.first:gen} palautus", "Tilauksenne {order} on lähetetty",
              "Re: Laskun {invoice} maksu", "Hyvitys tilaukselle {order}", "o:Palautus / {S.full}",
              "e:Asiakasnumero {custno}: yhteystietojen päivitys", "Re: Puhelu {A.first:abl}"),
    "other": ("Paketti {S.first:all}", "Tilaus {S.full:gen} puolesta", "Naapurin paketti",
              "o:Kysymys {S.last:gen} tilauksesta", "e:Väärä osoite paketissa {order}"),
}

PARAGRAPH = {
    "cust": (
        "Tilasin {date} tuotteen {product} (tilausnumero {order}), mutta paketti ei ole vieläkään tullut.",
        "Kuriiri jätti paketin naapurilleni {A.full:all} osoitteeseen {A.address}, vaikka tilauksessa oli "
        "minun osoitteeni {S.address}.",
        "Tilaus on lahja {A.rel:all} {A.full:all}. Hänen puhelinnumeronsa on {A.phone}, jos kuljetusliike "
        "tarvitsee sitä.",
        "Uusi osoitteeni on {S.address}, {S.city}. Voisitteko päivittää sen asiakastietoihini "
        "(asiakasnumero {custno})?",
        "Palautuksen voi maksaa tilille {S.iban}. Summa oli {amount}.",
        "Hyvityksen voi maksaa {A.rel:gen} {A.full:gen} tilille {A.iban}, koska maksoin tilauksen hänen "
        "kortillaan.",
        "Maksoin kortilla {S.card}, mutta veloitus näkyy tiliotteella kahdesti {date}.",
        "{A.first:gen} kortilla {A.card} tehty maksu pitää perua, hän ei tilannut mitään.",
        "Henkilötunnukseni on {S.hetu}, jos tarvitsette sitä tunnistamiseen.",
        "Tein tilauksen {A.rel:gen} puolesta, hänen henkilötunnuksensa on {A.hetu} ja nimi {A.full}.",
        "Ystäväni {A.full} ({A.email_obf}) tilasi saman tuotteen ja sai sen kahdessa päivässä.",
        "Voitte olla yhteydessä myös {A.rel:all} {A.first:all}, numero {A.phone}.",
        "Laskun {invoice} eräpäivä on {date}, viitenumero {ref}. Summa {amount} on jo maksettu.",
        "{word:Valitettavasti} paketista puuttui {product}. Muuten kaikki oli kunnossa.",
        "Sain {A.first:abl} viestin, että paketti on noudettavissa {place:ine}. En ole tilannut mitään "
        "{place:ela}.",
        "{A.last} oli kuittaanut paketin vastaanotetuksi, mutta {A.first:ade} ei ole sitä.",
        "Kysyin asiaa {B.full:abl}, joka asuu samassa talossa ({B.street:ade}). Hänkään ei ollut nähnyt pakettia.",
        "Pyydän poistamaan {A.rel:gen} {A.first:gen} sähköpostin {A.email} uutiskirjelistalta.",
        "Huomasin että tililläni on kirjauduttu osoitteesta {A.ip}, joka ei ole minun. Oma IP-osoitteeni on "
        "{S.ip}.",
        "Asun {S.street:ade}, ja paketti meni {A.street:all}.",
        "{word:Lahja} oli tarkoitettu {A.first:all}, joten toimittakaa se suoraan hänelle.",
        "Soitin eilen numeroon {role_phone} ja juttelin {U.first:gen} kanssa. Hän lupasi hyvityksen {amount}.",
        "Tilauksen {order} tilaaja on {A.full}, mutta laskun maksan minä. Puhelimeni on {S.phone}.",
        "Sähköpostini on {S.email_case}, mutta laskut on mennyt osoitteeseen {A.email}.",
        "Voitte lähettää vahvistuksen myös osoitteeseen {S.email_obf}.",
        "Tilauksessa {order} oli {product}, hinta {amount}. Toimitus {place:ill} kesti viikon.",
        "En ole kuullut {A.first:ela} sen jälkeen mitään, joten kysyn teiltä.",
        "o:Pyysin {A.full:par} noutamaan paketin, koska olin itse {place:ine}.",
        "e:Pyysin {A.first:par} palauttamaan tuotteen puolestani, hänellä on kuitti.",
        "o:Mieheni {Am.full} tilasi meille saman tuotteen {date}, joten tämä tilaus on tuplana.",
        "o:Naapuri {A.first} {A.last} soitti minulle numerosta {A.phone} ja kertoi paketista.",
        "o:Paketti lähti {time} ja oli perillä {date} klo {time}.",
        "o:Kuljettaja {A.first} (p. {A.phone}) sanoi, että pakettia ei voitu jättää ovelle.",
        "o:Vaimoni {Af.first:gen} tilille {Af.iban} voi maksaa hyvityksen.",
        "o:{word:Onneksi} {A.first} oli kotona ja otti paketin vastaan.",
        "e:Anoppini {Af.full} ({Af.email}) haluaa tilata samanlaisen, voitteko lähettää hänelle tarjouksen?",
        "e:Paketti oli jätetty {B.last:all}, rappu B. Hän soitti minulle numerosta {B.phone}.",
        "e:Tyttäreni {Af.first} on tilannut tunnuksillani, hänen henkilötunnuksensa on {Af.hetu}.",
        "e:Tein tilauksen {date} klo {time} ja sain vahvistuksen {A.first:abl}, vaikka hän ei ole teillä töissä.",
        "e:Poikani {Am.first} {Am.last} asuu nykyään {Am.street:ade}, postinumero {postal}.",
        "e:{word:Toivottavasti} {A.first:gen} paketti ei ole kadonnut.",
    ),
    "staff": (
        "Kiitos viestistäsi. Tilauksesi {order} lähti varastoltamme {date} klo {time}.",
        "Olemme maksaneet hyvityksen {amount} tilillesi {S.iban}. Näkyy tililläsi 1–3 pankkipäivän kuluessa.",
        "Välitin asian kollegalleni {U.full:all} laskutukseen ({role}).",
        "Kuljettajamme {A.full} (puh. {A.phone}) yrittää toimittaa paketin uudelleen {date}.",
        "Tarkistin tilanteen: paketti on toimitettu osoitteeseen {A.address}, ja sen on kuitannut {A.full}.",
        "Päivitimme osoitteeksesi {S.address}, {S.city}. Asiakasnumerosi on {custno}.",
        "Sinun lisäksesi tilauksesta on ollut yhteydessä {A.full} ({A.email}). Emme ole antaneet hänelle tietoja.",
        "Laskun {invoice} summa on {amount} ja viitenumero {ref}. Eräpäivä on {date}.",
        "Puhuin puhelimessa {A.first:gen} kanssa numerossa {A.phone}, ja hän vahvisti asian.",
        "Tunnistamista varten pyydämme henkilötunnuksen; saimme {S.hetu}, kiitos.",
        "Tililläsi on kirjauduttu IP-osoitteesta {A.ip} {date} klo {time}. Jos se et ollut sinä, vaihda salasana.",
        "{word:Valitettavasti} {product} on loppu varastosta. Uutta erää odotetaan {place:ela}.",
        "Korttimaksu numerolla {S.card} on peruttu.",
        "{U.first} laskutuksesta vahvisti, että {A.first:gen} maksu {amount} kohdistettiin väärin.",
        "Hyvityksen {amount} saaja on {A.full} (tili {A.iban}), kuten pyysit.",
        "o:Kollegani {U.first} soittaa sinulle huomenna numeroon {S.phone}.",
        "o:Kuljetusliike kertoi, että vastaanottaja {A.first} {A.last} kuittasi paketin {time}.",
        "o:Tilaus on rekisteröity nimelle {A.full}, joten tarvitsemme hänen suostumuksensa.",
        "e:Paketti palautui meille, koska osoitteessa {A.street:ade} asuva {A.last} kieltäytyi siitä.",
        "e:Asia on siirretty {U.last:all}, joka hoitaa reklamaatiot.",
        "e:Lähetimme vahvistuksen osoitteeseen {S.email_case} ja kopion {A.first:all} ({A.email}).",
    ),
    "other": (
        "Sain vahingossa naapurini {S.full:gen} paketin, tilausnumero {order}. Asun itse {W.street:ade}.",
        "Kirjoitan {S.rel:gen} {S.first:gen} puolesta, koska hän ei itse käytä sähköpostia.",
        "Minut tavoittaa numerosta {W.phone}, jos paketti pitää noutaa.",
        "{S.first} pyysi minua kysymään, milloin hyvitys {amount} maksetaan.",
        "Maksoin {S.first:gen} tilauksen kortillani {W.card}, joten hyvitys kuuluu minulle: {W.iban}.",
        "o:Olen {S.last:gen} naapuri ja otin paketin vastaan {date}.",
        "e:Toimitin paketin {S.first:all} {date}, hän kuittasi sen klo {time}.",
    ),
}

ATTRIBUTION = (
    "{Q.full} <{Q.email}> kirjoitti {date} klo {time}:",
    "{date} klo {time} {Q.full} <{Q.email}> kirjoitti:",
    "o:{Q.full} kirjoitti {date}:",
    "e:Lähettäjä {Q.full} <{Q.email}> {date} klo {time}:",
)
FORWARD_HEAD = (
    "---------- Forwarded message ---------\nFrom: {F.full} <{F.email}>\nDate: {date}\nSubject: {fsubject}\n"
    "To: <{role}>",
    "-------- Välitetty viesti --------\nLähettäjä: {F.full} <{F.email}>\nPäivämäärä: {date} klo {time}\n"
    "Aihe: {fsubject}\nVastaanottaja: {role}",
    "Lähettäjä: {F.full} <{F.email}>\nLähetetty: {date} {time}\nVastaanottaja: {role}\nAihe: {fsubject}",
)
FORWARD_INTRO = ("Välitän alla olevan viestin.", "Tässä {F.first:gen} viesti, jonka sain.", "VS: ks. alla",
                 "o:Laitan eteenpäin {F.first:abl} tulleen viestin.", "e:Tiedoksi alla oleva.")
FORWARD_BODY = (
    "Paketti {order} on noudettavissa {place:ine}. Noutajan pitää esittää henkilöllisyystodistus.",
    "Hei! Pakettisi on jätetty naapurille {B.full:all}, {B.address}. Terveisin {F.first}",
    "Tilaus vahvistettu: {product}, {amount}. Toimitusosoite {S.address}, {S.city}.",
    "Kuljettaja {F.first} soitti numeroon {S.phone} mutta kukaan ei vastannut.",
)
RELATIONS = {
    # (gender, {case: form}) of "my ..." words.
    "sisko": ("f", {"nom": "siskoni", "gen": "siskoni", "all": "siskolleni", "abl": "siskoltani"}),
    "veli": ("m", {"nom": "veljeni", "gen": "veljeni", "all": "veljelleni", "abl": "veljeltäni"}),
    "mies": ("m", {"nom": "mieheni", "gen": "mieheni", "all": "miehelleni", "abl": "mieheltäni"}),
    "vaimo": ("f", {"nom": "vaimoni", "gen": "vaimoni", "all": "vaimolleni", "abl": "vaimoltani"}),
    "äiti": ("f", {"nom": "äitini", "gen": "äitini", "all": "äidilleni", "abl": "äidiltäni"}),
    "isä": ("m", {"nom": "isäni", "gen": "isäni", "all": "isälleni", "abl": "isältäni"}),
    "naapuri": ("", {"nom": "naapurini", "gen": "naapurini", "all": "naapurilleni", "abl": "naapuriltani"}),
    "ystävä": ("", {"nom": "ystäväni", "gen": "ystäväni", "all": "ystävälleni", "abl": "ystävältäni"}),
    "työkaveri": ("", {"nom": "työkaverini", "gen": "työkaverini", "all": "työkaverilleni",
                       "abl": "työkaveriltani"}),
    "poika": ("m", {"nom": "poikani", "gen": "poikani", "all": "pojalleni", "abl": "pojaltani"}),
    "tytär": ("f", {"nom": "tyttäreni", "gen": "tyttäreni", "all": "tyttärelleni", "abl": "tyttäreltäni"}),
}
