"""English message texts; the slot syntax is that of tests/corpus/texts_fi.py."""

from __future__ import annotations

GREETING = {
    "cust": ("Hello,", "Hi {T.first},", "Dear Sir or Madam,", "Hi there,", "Dear {T.first},", "o:Hey,",
             "e:Good morning,", "Hi!"),
    "staff": ("Dear {S.first},", "Hi {S.first},", "Hello {S.full},", "Dear {S.full},", "Hello,", "o:Hi {S.first}!",
              "e:Dear customer,"),
    "other": ("Hello,", "Hi,", "Dear customer service,", "o:To whom it may concern,", "e:Hi there,"),
}

CLOSING = {
    "cust": ("Best regards,\n{S.first}", "Kind regards,\n{S.full}", "Thanks,\n{S.first}", "Cheers,\n{S.first}",
             "Best,\n{S.full}\n{S.phone}", "Regards,\n{S.full}\n{S.address}\n{S.city}",
             "o:Many thanks,\n{S.first} {S.last}", "e:Thank you,\n{S.full}\nMobile: {S.phone}"),
    "staff": ("Best regards,\n{T.full}\nCustomer Service, Kauppa Oy", "Kind regards,\n{T.first}\nKauppa support",
              "Best wishes,\n\n{T.full}\n{T.email}", "o:Thanks,\n{T.first} / Kauppa", "e:Regards,\n{T.full}\n{role}"),
    "other": ("Best regards,\n{W.full}", "Thanks,\n{W.first}", "Kind regards,\n{W.full}\ntel. {W.phone}",
              "o:Cheers,\n{W.first}", "e:Yours sincerely,\n{W.full}"),
}

SUBJECT = {
    "cust": ("Order {order}", "Question about order {order}", "Return", "Change of address",
             "Invoice {invoice}", "{product} arrived broken", "Refund to {A.full}", "Re: Order {order}",
             "Fwd: Your parcel", "o:Double charge on {date}", "e:Gift order for {A.first}", "Data access request"),
    "staff": ("Re: Order {order}", "Your order {order} has shipped", "Re: Invoice {invoice}", "Refund for {S.full}",
              "Re: Return from {S.first}", "o:Your call with {U.first}", "e:Customer number {custno}"),
    "other": ("Parcel for {S.full}", "On behalf of {S.first}", "Wrong address on parcel {order}",
              "o:Neighbour's parcel", "e:Order placed for {S.last}"),
}

PARAGRAPH = {
    "cust": (
        "I ordered the {product} on {date:en} (order {order}) but it still hasn't arrived.",
        "The courier left the parcel with my neighbour {A.full} at {A.address}, although my address is "
        "{S.address}.",
        "The order is a gift for {A.rel} {A.full}. Her or his number is {A.phone} if the courier needs it.",
        "My new address is {S.address}, {S.city}. Please update my details (customer number {custno}).",
        "Please refund the {amount:en} to my account {S.iban}.",
        "Please pay the refund to {A.rel}'s account {A.iban} ({A.full}), as I paid with their card.",
        "I paid with my card {S.card} but was charged twice on {date:en}.",
        "The payment with {A.first}'s card {A.card} must be cancelled, {A.first} did not order anything.",
        "My friend {A.full} ({A.email_obf}) ordered the same item and got it in two days.",
        "You can also contact {A.rel} {A.first} on {A.phone}.",
        "Invoice {invoice} is due on {date:en}, reference {rf}. The amount {amount:en} has been paid.",
        "{word:Unfortunately} the {product} was missing from the parcel.",
        "I got a message from {A.first} saying the parcel can be collected in {place}.",
        "{A.last} signed for the parcel, but {A.first} says it never arrived.",
        "Please remove {A.rel}'s address {A.email} from your newsletter list.",
        "Someone logged in to my account from {A.ip}; my own IP address is {S.ip}.",
        "{word:Will} you send it to {A.first} directly? Their address is {A.address}, {A.city}.",
        "I called {role_phone} and spoke to {U.first}, who promised a refund of {amount:en}.",
        "My email is {S.email_case}, but the invoices went to {A.email}.",
        "You can reach me on {S.phone} or at {S.email_obf}.",
        "o:My husband {Am.full} ordered the same thing on {date:en}, so this order is a duplicate.",
        "o:The driver, {A.first} (mobile {A.phone}), said nobody was home.",
        "o:{word:Hope} this can be sorted out before {date:en}.",
        "e:My mother-in-law {Af.full} ({Af.email}) would like a quote as well.",
        "e:The parcel was left with {B.full} at {B.address}. {B.first} called me from {B.phone}.",
        "e:{word:Mark} the order as a gift, please; it is for {A.first} {A.last}.",
    ),
    "staff": (
        "Thank you for your message. Your order {order} left our warehouse on {date:en} at {time:en}.",
        "We have refunded {amount:en} to your account {S.iban}.",
        "I have passed this on to my colleague {U.full} in billing ({role}).",
        "Our driver {A.full} (tel. {A.phone}) will try again on {date:en}.",
        "The parcel was delivered to {A.address} and signed for by {A.full}.",
        "Your address is now {S.address}, {S.city}. Your customer number is {custno}.",
        "{A.full} ({A.email}) has also contacted us about this order; we have not shared your details.",
        "Invoice {invoice} is for {amount:en}, reference {rf}, due on {date:en}.",
        "I spoke to {A.first} on {A.phone}, who confirmed this.",
        "There was a login to your account from {A.ip} on {date:en} at {time:en}.",
        "{word:Unfortunately} the {product} is out of stock.",
        "The card payment with {S.card} has been cancelled.",
        "o:My colleague {U.first} will call you tomorrow on {S.phone}.",
        "o:The order is registered to {A.full}, so we need their consent.",
        "e:{U.last} in billing confirmed that {A.first}'s payment of {amount:en} was misallocated.",
        "e:We sent the confirmation to {S.email_case} and a copy to {A.first} ({A.email}).",
    ),
    "other": (
        "I received my neighbour {S.full}'s parcel (order {order}) by mistake. I live at {W.address}.",
        "I am writing on behalf of {S.first}, who does not use email.",
        "You can reach me on {W.phone} if the parcel needs collecting.",
        "{S.first} asked me to check when the refund of {amount:en} will be paid.",
        "I paid for {S.first}'s order with my card {W.card}, so the refund is mine: {W.iban}.",
        "o:I am {S.last}'s neighbour and took the parcel in on {date:en}.",
        "e:I delivered the parcel to {S.first} on {date:en}; signed at {time:en}.",
    ),
}

ATTRIBUTION = (
    "On {weekday}, {date:en} at {time:en}, {Q.full} <{Q.email}> wrote:",
    "On {date:en}, at {time:en}, {Q.full} wrote:",
    "o:{Q.full} <{Q.email}> wrote on {date:en}:",
    "e:On {date:en} {Q.full} wrote:",
)
FORWARD_HEAD = (
    "---------- Forwarded message ---------\nFrom: {F.full} <{F.email}>\nDate: {weekday}, {date:en}\n"
    "Subject: {fsubject}\nTo: <{role}>",
    "-----Original Message-----\nFrom: {F.full} [mailto:{F.email}]\nSent: {date:en} {time:en}\nTo: {role}\n"
    "Subject: {fsubject}",
    "Begin forwarded message:\n\nFrom: {F.full} <{F.email}>\nDate: {date:en}\nSubject: {fsubject}",
)
FORWARD_INTRO = ("See below.", "Forwarding this from {F.first}.", "FYI", "o:Please see the message below.",
                 "e:Passing this on.")
FORWARD_BODY = (
    "Your parcel {order} is ready for collection in {place}. Please bring photo ID.",
    "Hi, your parcel was left with {B.full}, {B.address}. Regards, {F.first}",
    "Order confirmed: {product}, {amount:en}. Delivery address {S.address}, {S.city}.",
    "Driver {F.first} called {S.phone} but nobody answered.",
)
RELATIONS = {
    "sister": ("f", {"nom": "my sister"}), "brother": ("m", {"nom": "my brother"}),
    "husband": ("m", {"nom": "my husband"}), "wife": ("f", {"nom": "my wife"}),
    "mother": ("f", {"nom": "my mother"}), "father": ("m", {"nom": "my father"}),
    "neighbour": ("", {"nom": "my neighbour"}), "friend": ("", {"nom": "my friend"}),
    "colleague": ("", {"nom": "my colleague"}), "son": ("m", {"nom": "my son"}),
    "daughter": ("f", {"nom": "my daughter"}), "partner": ("", {"nom": "my partner"}),
}
