"""Generate the labelled redaction corpus: customer-service mail of a small Finnish web shop.

    .venv/bin/python tests/corpus/generate.py --seed 1 --count 120 --out tests/corpus/dev
    .venv/bin/python tests/corpus/generate.py --seed 2 --count 300 --out tests/corpus/heldout

Writes OUT/messages/NNNN.eml and OUT/labels.jsonl (see tests/corpus/README.md).
The same seed and count give the same bytes. Odd and even seeds draw from
partly different name, street and text pools (tests/corpus/pools.py).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.corpus import pools, texts_en, texts_fi
from tests.corpus.compose import Cast, Person, Piece, Text, World
from tests.corpus.mime import SHAPES, Address, Draft, attachment, composed_fields, fields_of, locate, render
from tests.corpus.slots import Filler, for_seed


def _person_address(rng: random.Random, filler: Filler, p: Person) -> Address:
    """How a mail client shows a person in From/To/Cc."""
    addr = Piece(p.email, "email", p.role, p.pid)
    style = rng.choice(("full", "full", "full", "last_first", "first", "bare", "encoded", "angle"))
    if style in ("bare", "angle"):
        return Address(None, addr, style)
    if style == "first":
        display = p.first
    elif style == "last_first":
        display = f"{p.last}, {p.first}"
    else:
        display = p.full
    form = {"encoded": "full"}.get(style, style)
    piece = Piece(display, "name", p.role, p.pid, (("case", "nom"), ("form", form)))
    return Address(piece, addr, "encoded" if style == "encoded" else "plain")


def _role_address(rng: random.Random, lang: str, staff: Person | None = None) -> Address:
    box = rng.choice(pools.ROLE_MAILBOXES[lang])
    addr = Piece(f"{box}@{rng.choice(pools.CONTROLLER_DOMAINS)}", "role_mailbox", "decoy")
    if staff is not None and rng.random() < 0.5:
        display = Piece(staff.first, "name", "staff", staff.pid, (("case", "nom"), ("form", "first")))
        text = Text([display, " / Kauppa"])
        return Address(text.items[0], addr, "plain") if rng.random() < 0.5 else Address(display, addr, "plain")
    names = {"fi": ("Kauppa asiakaspalvelu", "Kauppa Oy", None), "en": ("Kauppa Customer Service", "Kauppa", None)}
    label = rng.choice(names[lang])
    return Address(label, addr, "plain" if label else "bare")


def _pick(rng: random.Random, choices: tuple[str, ...], seed: int) -> str:
    return rng.choice(for_seed(choices, seed))


def _message_text(rng: random.Random, filler: Filler, texts, voice: str, seed: int, size: int,
                  first_a: str | None = None) -> Text:
    """Greeting, `size` paragraphs and a closing.

    Each paragraph meets new third parties (its relation words are its own),
    except that the first one's "A" is `first_a` when given: the person in Cc,
    or the one an earlier message of the thread spoke of.
    """
    text = Text()
    if rng.random() < 0.9:
        text.extend(filler.fill(_pick(rng, texts.GREETING[voice], seed)))
        text.add("\n\n")
    paragraphs = list(for_seed(texts.PARAGRAPH[voice], seed))
    for i, template in enumerate(rng.sample(paragraphs, min(size, len(paragraphs)))):
        if i:
            text.add("\n\n" if rng.random() < 0.7 else " ")
        fresh = len(filler.cast.people)
        aliases = {"A": f"A{fresh}", "B": f"B{fresh}"}
        if i == 0 and first_a:
            aliases["A"] = first_a
        text.extend(filler.fill(template, aliases))
    text.add("\n\n")
    text.extend(filler.fill(_pick(rng, texts.CLOSING[voice], seed)))
    text.add("\n")
    return text


def draft_message(rng: random.Random, world: World, index: int) -> tuple[Draft, Person, dict]:
    seed = world.seed
    lang = "fi" if rng.random() < 0.6 else "en"
    texts = texts_fi if lang == "fi" else texts_en
    cast = Cast(rng, world, lang, texts)
    filler = Filler(rng, cast)
    subject = cast.get("S")
    staff = cast.get("T")
    voice = rng.choices(("cust", "staff", "other"), weights=(50, 35, 15))[0]
    size = rng.choice((1, 1, 2, 2, 3, 3, 4, 6))

    headers: dict[str, list[Address]] = {"from": [], "to": [], "cc": [], "reply_to": []}
    if voice == "cust":
        headers["from"].append(_person_address(rng, filler, subject))
        headers["to"].append(_person_address(rng, filler, staff) if rng.random() < 0.3 else _role_address(rng, lang))
        if rng.random() < 0.2:
            headers["cc"].append(_person_address(rng, filler, cast.get("C")))
        if rng.random() < 0.08:
            headers["reply_to"].append(_person_address(rng, filler, cast.get("C")))
    elif voice == "staff":
        headers["from"].append(_person_address(rng, filler, staff) if rng.random() < 0.5
                               else _role_address(rng, lang, staff))
        headers["to"].append(_person_address(rng, filler, subject))
        if rng.random() < 0.25:
            headers["cc"].append(_role_address(rng, lang) if rng.random() < 0.5
                                 else _person_address(rng, filler, cast.get("U")))
    else:
        headers["from"].append(_person_address(rng, filler, cast.get("W")))
        headers["to"].append(_role_address(rng, lang))
        if rng.random() < 0.8:
            headers["cc"].append(_person_address(rng, filler, subject))
        if rng.random() < 0.3:
            headers["cc"].append(_person_address(rng, filler, cast.get("C")))

    body = _message_text(rng, filler, texts, voice, seed, size, "C" if "C" in cast.people else None)
    mentioned = [key for key in cast.people if key[0] == "A"]
    # A third party in the Subject line is one the body speaks of.
    subject_line = filler.fill(_pick(rng, texts.SUBJECT[voice], seed), {"A": mentioned[0]} if mentioned else None)
    # Earlier messages of the thread, quoted one level deeper each.
    depth = rng.choices((0, 1, 2, 3), weights=(50, 30, 15, 5))[0]
    quoted_voice = voice
    prefix = "> "
    for _ in range(depth):
        quoted_voice = "staff" if quoted_voice != "staff" else "cust"
        writer = "S" if quoted_voice == "cust" else "T"
        body.add("\n")
        body.extend(filler.fill(_pick(rng, texts.ATTRIBUTION, seed), {"Q": writer}).quoted(prefix[2:]))
        body.add("\n")
        again = mentioned[0] if mentioned and rng.random() < 0.5 else None
        body.extend(_message_text(rng, filler, texts, quoted_voice, seed, rng.choice((1, 2, 3)), again).quoted(prefix))
        prefix = "> " + prefix
    if rng.random() < 0.12:
        body.add("\n")
        body.extend(filler.fill(_pick(rng, texts.FORWARD_INTRO, seed)))
        body.add("\n\n")
        body.extend(filler.fill(_pick(rng, texts.FORWARD_HEAD, seed)))
        body.add("\n\n")
        body.extend(filler.fill(_pick(rng, texts.FORWARD_BODY, seed)))
        body.add("\n")

    shape = rng.choice(SHAPES)
    attachments = []
    if shape == "attachments" or rng.random() < 0.05:
        attachments = [attachment(rng, lang, str(rng.randrange(100000, 999999))) for _ in range(rng.randint(1, 2))]
    when = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(60 * 24 * 500))
    message_id = f"{index:04d}.{rng.randrange(16**8):08x}@{rng.choice(world.domains + pools.CONTROLLER_DOMAINS)}"
    draft = Draft(lang, headers, subject_line, body, when, message_id, shape, attachments)
    used_phone = any(p.kind == "phone" and p.person == "subject" for p in body.pieces() + subject_line.pieces())
    digits = "".join(ch for ch in subject.phone if ch.isdigit())
    e164 = "+" + (digits[2:] if subject.phone.startswith("00") else digits)
    subject_label = {"email": subject.email, "name": subject.full, "phone": e164 if used_phone else None}
    policy = {"controller_domains": list(pools.CONTROLLER_DOMAINS),
              "staff": [f"{f} {la}" for f, la in world.staff], "keep_staff": rng.random() < 0.85}
    return draft, subject, {"language": lang, "subject": subject_label, "policy": policy}


def label(draft: Draft, raw: bytes) -> list[dict]:
    parsed = fields_of(raw)
    spans = []
    for name, composed in composed_fields(draft).items():
        for piece, start, end in locate(composed, parsed[name]):
            span = {"field": name, "start": start, "end": end, "text": piece.text, "kind": piece.kind,
                    "role": piece.role, "person": piece.person}
            span.update(dict(piece.extra))
            assert parsed[name][start:end] == piece.text
            spans.append(span)
    return spans


def generate(seed: int, count: int, out: Path) -> None:
    world = World(seed)
    rng = random.Random(seed)
    messages = out / "messages"
    if messages.exists():
        shutil.rmtree(messages)
    messages.mkdir(parents=True)
    with (out / "labels.jsonl").open("w", encoding="utf-8") as labels:
        for index in range(1, count + 1):
            draft, _, meta = draft_message(rng, world, index)
            raw = render(draft)
            name = f"{index:04d}.eml"
            (messages / name).write_bytes(raw)
            record = {"file": f"messages/{name}", **meta, "shape": draft.shape, "spans": label(draft, raw)}
            labels.write(json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    generate(args.seed, args.count, args.out)


if __name__ == "__main__":
    main()
