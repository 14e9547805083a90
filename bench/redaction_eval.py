"""Redaction of third parties scored on the labelled corpus: dsar and Microsoft Presidio side by side.

    .venv/bin/python bench/redaction_eval.py [--corpus tests/corpus/heldout] [--limit N] [--json]
                                             [--show-leaks N]

Needs the `bench` extra (presidio-analyzer); runs offline. For each message
of the corpus (tests/corpus/README.md) dsar's `redact_message` redacts the raw
bytes, and Presidio's predefined pattern recognisers (no NLP model, so no
names or places) run on the same field texts, each found span replaced by
<ENTITY_TYPE>. Both outputs are aligned with the original field texts
character by character (difflib, placeholders made one character that cannot
align), and scored:

- third-party recall, strict: a labelled span counts only if none of its
  letters or digits survive, and its exact text (casefolded) is not left in
  the field more often than other, unlabelled uses explain;
- subject identifiers kept, staff kept or replaced (by the policy's
  keep_staff), decoys replaced, over-redaction (replaced runs with a letter or
  digit that touch no labelled span);
- placeholder consistency (dsar only): one placeholder per third party and
  family of identifiers (names and addresses share one; phones, IBANs ... each
  their own), and no placeholder shared by two people;
- throughput over the UTF-8 size of the field texts, one process.

Only figures are printed; `--show-leaks N` prints up to N leaked spans, with
their text, to stderr for debugging.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import json
import os
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""  # Presidio's URL recogniser must not go online
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from extractors.mail import parse_message
from extractors.records import Record, Subject
from redaction.lexicon import shared_lexicon
from redaction.message import redact_message, render_message
from redaction.policy import Policy
from redaction.redactor import Redactor

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("from", "to", "cc", "reply_to", "subject", "body")
HEADERS = {"from": "from", "to": "to", "cc": "cc", "reply-to": "reply_to", "subject": "subject"}
KINDS = ("email", "phone", "hetu", "iban", "card", "ip", "address", "name")
LANGS = ("fi", "en", "all")
DSAR_PLACEHOLDER = re.compile(r"\[[a-z]+-\d+\]")
PRESIDIO_PLACEHOLDER = re.compile(r"<[A-Z_]+>")
GAP = "\x00"  # stands for one placeholder; never in a message
PRESIDIO_KINDS = {"EMAIL_ADDRESS": "email", "PHONE_NUMBER": "phone", "FI_PERSONAL_IDENTITY_CODE": "hetu",
                  "IBAN_CODE": "iban", "CREDIT_CARD": "card", "IP_ADDRESS": "ip", "PERSON": "name",
                  "LOCATION": "address"}
# Issue targets for dsar: (label, figure key, comparison, bound).
TARGETS = (
    ("third-party recall, all kinds", "recall.all", ">=", 0.98),
    ("recall: emails", "recall.email", ">=", 1.0),
    ("recall: identity codes", "recall.hetu", ">=", 1.0),
    ("recall: IBANs", "recall.iban", ">=", 1.0),
    ("recall: cards", "recall.card", ">=", 1.0),
    ("recall: phones", "recall.phone", ">=", 0.995),
    ("recall: names", "recall.name", ">=", 0.97),
    ("recall: street addresses", "recall.address", ">=", 0.95),
    ("subject identifiers kept", "subject_kept", ">=", 0.99),
    ("dates, times, numbers replaced", "numbers_replaced", "<=", 0),
    ("throughput MB/s of text", "text_mb_per_s", ">=", 3.0),
)
# The decoys the issue names: never replaced. Product and place names that are also people's names are
# counted apart, as over-redaction.
NUMBER_DECOYS = ("date", "time", "order", "invoice", "reference", "customer_number", "postal_code", "amount")
# The subject's identifiers that only their own records tell (the flow reads them from the customer row).
RECORD_KINDS = ("hetu", "iban", "card", "ip", "address")


@dataclass
class Tally:
    """Counts of one system over the corpus."""

    found: Counter = field(default_factory=Counter)  # (kind, lang) -> redacted third-party spans
    total: Counter = field(default_factory=Counter)
    typed: Counter = field(default_factory=Counter)  # redacted and found as the right type (Presidio)
    names: Counter = field(default_factory=Counter)  # (form or "inflected", "found"|"total")
    subject: Counter = field(default_factory=Counter)  # (kind, "kept"|"total")
    staff: Counter = field(default_factory=Counter)  # (keep_staff, "kept"|"replaced"|"partial")
    decoys: Counter = field(default_factory=Counter)  # kind -> replaced
    decoy_total: int = 0
    over_regions: int = 0
    over_chars: int = 0
    outside_chars: int = 0  # replaced letters and digits outside every labelled span, whatever run they are in
    consistent: int = 0
    groups: int = 0
    seconds: float = 0.0  # redacting the field texts
    message_seconds: float = 0.0  # parsing, redacting and writing whole messages
    leaks: list[tuple[str, str, str, str]] = field(default_factory=list)


def original_fields(raw: bytes) -> dict[str, str]:
    data = parse_message(raw)
    return {"from": ", ".join(data["from"]), "to": ", ".join(data["to"]), "cc": ", ".join(data["cc"]),
            "reply_to": ", ".join(data["reply_to"]), "subject": data["subject"] or "", "body": data["body"] or ""}


def output_fields(out: bytes) -> dict[str, str]:
    """The fields of a redacted message. Headers are read as written: a placeholder is not an address."""
    head = re.split(rb"\r?\n\r?\n", out, maxsplit=1)[0].decode("utf-8", "replace")
    fields = dict.fromkeys(FIELDS, "")
    for line in re.split(r"\r?\n(?![ \t])", head):
        name, _, value = line.partition(":")
        key = HEADERS.get(name.strip().lower())
        if key:
            value = " ".join(value.split())
            with contextlib.suppress(Exception):  # an encoded word it cannot decode stays as written
                value = str(make_header(decode_header(value)))
            fields[key] = value
    msg = email.message_from_bytes(out, policy=email.policy.default)
    part = msg.get_body(preferencelist=("plain",))
    fields["body"] = part.get_content().replace("\r\n", "\n") if part is not None else ""
    return fields


def alignment(original: str, redacted: str, placeholder: re.Pattern[str]) -> tuple[list[bool], list[set[str]]]:
    """Which original characters survive, and the placeholders standing where each one went."""
    tokens = [m.group(0) for m in placeholder.finditer(redacted)]
    flat = placeholder.sub(GAP, redacted)
    token_at = {}
    n = 0
    for j, ch in enumerate(flat):
        if ch == GAP:
            token_at[j] = tokens[n]
            n += 1
    kept = [False] * len(original)
    into: list[set[str]] = [set() for _ in original]
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, original, flat, autojunk=False).get_opcodes():
        if tag == "equal":
            kept[i1:i2] = [True] * (i2 - i1)
        else:
            here = {token_at[j] for j in range(j1, j2) if j in token_at}
            for i in range(i1, i2):
                into[i] = here
    return kept, into


def _bounded(text: str) -> re.Pattern[str]:
    left = r"(?<!\w)" if text[:1].isalnum() else ""
    right = r"(?!\w)" if text[-1:].isalnum() else ""
    return re.compile(left + re.escape(text.casefold()) + right)


def score_message(tally: Tally, record: dict, original: dict[str, str], redacted: dict[str, str],
                  placeholder: re.Pattern[str], with_types: bool) -> None:
    lang = record["language"]
    aligned = {name: alignment(original[name], redacted[name], placeholder) for name in FIELDS}
    spans_by_field: dict[str, list[dict]] = defaultdict(list)
    for span in record["spans"]:
        spans_by_field[span["field"]].append(span)
    groups: dict[tuple[str, str], list[set[str] | None]] = defaultdict(list)
    with_email = {span["person"] for span in record["spans"] if span["kind"] == "email"}
    for name in FIELDS:
        kept, into = aligned[name]
        covered = [False] * len(kept)
        leaked_tp: dict[str, list[tuple[dict, bool]]] = defaultdict(list)
        for span in spans_by_field[name]:
            chars = [i for i in range(span["start"], span["end"]) if original[name][i].isalnum()]
            covered[span["start"]: span["end"]] = [True] * (span["end"] - span["start"])
            survived = sum(kept[i] for i in chars)
            role, kind = span["role"], span["kind"]
            if role == "third_party":
                leaked_tp[span["text"].casefold()].append((span, survived > 0))
            elif role == "subject":
                tally.subject[(kind, "total")] += 1
                tally.subject[(kind, "kept")] += survived == len(chars)
            elif role == "staff":
                state = "kept" if survived == len(chars) else "replaced" if survived == 0 else "partial"
                tally.staff[(record["policy"]["keep_staff"], state)] += 1
            else:
                tally.decoy_total += 1
                if survived < len(chars):
                    tally.decoys[kind] += 1
        # Belt and braces: a third party's exact text left in the field more often than its other uses explain.
        folded_out = redacted[name].casefold()
        folded_in = original[name].casefold()
        for text, spans in leaked_tp.items():
            pattern = _bounded(text)
            allowed = len(pattern.findall(folded_in)) - len(spans)
            excess = len(pattern.findall(folded_out)) - allowed - sum(leaked for _, leaked in spans)
            for i, (span, leaked) in enumerate(spans):
                if not leaked and excess > 0:
                    spans[i] = (span, True)
                    excess -= 1
            for span, leaked in spans:
                kind = span["kind"]
                for key in ((kind, lang), (kind, "all"), ("all", lang), ("all", "all")):
                    tally.total[key] += 1
                    tally.found[key] += not leaked
                if kind == "name":
                    form = "inflected" if span.get("case", "nom") != "nom" else span.get("form", "full")
                    alone = "no_email" if span["person"] not in with_email else "with_email"
                    for group in (form, alone):
                        tally.names[(group, "total")] += 1
                        tally.names[(group, "found")] += not leaked
                if leaked:
                    tally.leaks.append((kind, span["role"], span["text"], record["file"]))
                    groups[(span["person"], _family(kind))].append(None)
                    continue
                tokens = set().union(*(into[i] for i in range(span["start"], span["end"])))
                groups[(span["person"], _family(kind))].append(tokens)
                if with_types:
                    found_kinds = {PRESIDIO_KINDS.get(t.strip("<>")) for t in tokens}
                    for key in ((kind, lang), (kind, "all"), ("all", lang), ("all", "all")):
                        tally.typed[key] += kind in found_kinds
        # Over-redaction: replaced runs with a letter or digit that overlap no labelled span.
        i = 0
        while i < len(kept):
            if kept[i]:
                i += 1
                continue
            j = i
            while j < len(kept) and not kept[j]:
                j += 1
            run = original[name][i:j]
            if any(ch.isalnum() for ch in run) and not any(covered[i:j]):
                tally.over_regions += 1
                tally.over_chars += j - i
            tally.outside_chars += sum(ch.isalnum() and not covered[k] for k, ch in enumerate(run, i))
            i = j
    _score_consistency(tally, groups)


def _family(kind: str) -> str:
    # dsar gives a person one placeholder for their name and their address.
    return "person" if kind in ("name", "email") else kind


def _score_consistency(tally: Tally, groups: dict[tuple[str, str], list[set[str] | None]]) -> None:
    chosen: dict[tuple[str, str], str | None] = {}
    for key, spans in groups.items():
        redacted = [tokens for tokens in spans if tokens is not None]
        if not redacted:
            continue
        one = {next(iter(t)) for t in redacted if len(t) == 1}
        chosen[key] = one.pop() if len(one) == 1 and all(len(t) == 1 for t in redacted) else None
    owners: dict[str, set[str]] = defaultdict(set)
    for (person, _), token in chosen.items():
        if token is not None:
            owners[token].add(person)
    for token in chosen.values():
        tally.groups += 1
        tally.consistent += token is not None and len(owners[token]) == 1


def presidio_engine() -> Callable[[str], list[Any]]:
    """An analyzer of Presidio's predefined pattern recognisers plus its Finnish identity code, no NLP model."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine
    from presidio_analyzer.predefined_recognizers import FiPersonalIdentityCodeRecognizer, PhoneRecognizer

    nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    nlp.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp)
    registry.remove_recognizer("PhoneRecognizer")
    # Registered for "en" so that they run on every text: Finnish mail is analysed as "en" too.
    registry.add_recognizer(FiPersonalIdentityCodeRecognizer(supported_language="en"))
    registry.add_recognizer(PhoneRecognizer(supported_regions=["FI", "GB", "US", "DE", "SE"], supported_language="en"))
    engine = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])
    return lambda text: engine.analyze(text, language="en")


def presidio_redact(analyze: Callable[[str], list[Any]], text: str) -> str:
    """Each found span replaced by <ENTITY_TYPE>; overlapping finds merge, the higher score names them."""
    results = sorted(analyze(text), key=lambda r: (r.start, -r.end))
    merged: list[list[Any]] = []
    for r in results:
        if merged and r.start < merged[-1][1]:
            last = merged[-1]
            if r.score > last[3]:
                last[2], last[3] = r.entity_type, r.score
            last[1] = max(last[1], r.end)
        else:
            merged.append([r.start, r.end, r.entity_type, r.score])
    out, pos = [], 0
    for start, end, entity, _ in merged:
        out.append(text[pos:start])
        out.append(f"<{entity}>")
        pos = end
    out.append(text[pos:])
    return "".join(out)


def run(corpus: Path, limit: int | None) -> tuple[dict[str, Tally], int, int]:
    records = [json.loads(line) for line in (corpus / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    records = records[:limit] if limit else records
    analyze = presidio_engine()
    shared_lexicon()  # loading Voikko and the word lists is start-up (about 0.3 s), not redaction: out of the timing
    tallies = {"dsar": Tally(), "presidio": Tally()}
    size = 0
    for record in records:
        raw = (corpus / record["file"]).read_bytes()
        original = original_fields(raw)
        size += sum(len(text.encode("utf-8")) for text in original.values())
        subject = Subject(record["subject"]["email"], record["subject"]["name"],
                          (record["subject"]["phone"],) if record["subject"]["phone"] else ())
        policy = Policy(controller_domains=tuple(record["policy"]["controller_domains"]),
                        staff=tuple(record["policy"]["staff"]), keep_staff=record["policy"]["keep_staff"])
        own = [{f"{span['kind']}_{i}": span["text"] for i, span in enumerate(record["spans"])
                if span["role"] == "subject" and span["kind"] in RECORD_KINDS}]
        start = time.perf_counter()
        data = parse_message(raw)
        parsed = time.perf_counter()
        message = Record("message", "messages", "message", data)
        staged = [Record("subject", "own", "0", own[0], about_subject=True), message]
        redactor = Redactor(subject, policy)
        redactor.learn_all(staged.copy)
        result = redactor.redact(message)
        done = time.perf_counter()
        out = render_message(result.data)
        tallies["dsar"].seconds += done - parsed
        tallies["dsar"].message_seconds += time.perf_counter() - start
        # The timed steps are redact_message's own: check that they give its output.
        assert out == redact_message(raw, subject, policy, own), record["file"]
        score_message(tallies["dsar"], record, original, output_fields(out), DSAR_PLACEHOLDER, False)

        start = time.perf_counter()
        redacted = {name: presidio_redact(analyze, text) if text else "" for name, text in original.items()}
        tallies["presidio"].seconds += time.perf_counter() - start
        score_message(tallies["presidio"], record, original, redacted, PRESIDIO_PLACEHOLDER, True)
    return tallies, len(records), size


def figures(tally: Tally, size: int, consistency: bool) -> dict[str, Any]:
    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    recall = {lang: {kind: ratio(tally.found[(kind, lang)], tally.total[(kind, lang)]) for kind in (*KINDS, "all")}
              for lang in LANGS}
    counts = {lang: {kind: tally.total[(kind, lang)] for kind in (*KINDS, "all")} for lang in LANGS}
    out: dict[str, Any] = {
        "recall": recall,
        "spans": counts,
        "names": {form: ratio(tally.names[(form, "found")], tally.names[(form, "total")])
                  for form in ("full", "first", "last", "last_first", "initial", "inflected", "with_email",
                               "no_email")},
        "subject_kept": ratio(*(sum(n for (_, k), n in tally.subject.items() if k == w) for w in ("kept", "total"))),
        "subject_spans": sum(n for (_, k), n in tally.subject.items() if k == "total"),
        # What a Subject tells a redactor: name, email, phone; the rest needs the text around it.
        "subject_kept_told": ratio(*(sum(n for (kind, k), n in tally.subject.items()
                                         if k == w and kind in ("name", "email", "phone")) for w in ("kept", "total"))),
        "subject_kept_by_kind": {kind: ratio(tally.subject[(kind, "kept")], tally.subject[(kind, "total")])
                                 for kind in KINDS if tally.subject[(kind, "total")]},
        "staff": {("keep_staff" if keep else "replace_staff"): {s: tally.staff[(keep, s)]
                                                                for s in ("kept", "partial", "replaced")}
                  for keep in (True, False)},
        "decoys_replaced": sum(tally.decoys.values()),
        "numbers_replaced": sum(n for kind, n in tally.decoys.items() if kind in NUMBER_DECOYS),
        "decoys_replaced_by_kind": dict(sorted(tally.decoys.items())),
        "decoy_spans": tally.decoy_total,
        "over_redaction": {"regions": tally.over_regions, "chars": tally.over_chars,
                           "outside_span_chars": tally.outside_chars},
        "consistency": ratio(tally.consistent, tally.groups) if consistency else None,
        "consistency_groups": tally.groups if consistency else None,
        "seconds": round(tally.seconds, 3),
        "text_mb_per_s": round(size / 1e6 / tally.seconds, 3) if tally.seconds else None,
        "message_mb_per_s": round(size / 1e6 / tally.message_seconds, 3) if tally.message_seconds else None,
    }
    if not consistency:
        out["typed_recall"] = {lang: {kind: ratio(tally.typed[(kind, lang)], tally.total[(kind, lang)])
                                      for kind in (*KINDS, "all")} for lang in LANGS}
    return out


def _get(result: dict[str, Any], key: str) -> Any:
    head, _, kind = key.partition(".")
    return result[head]["all"][kind] if kind else result[head]


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_tables(corpus: Path, messages: int, size: int, result: dict[str, dict[str, Any]]) -> None:
    d, p = result["dsar"], result["presidio"]
    print(f"corpus: {corpus}  messages: {messages}  field text: {size / 1e6:.2f} MB")
    print("presidio: predefined pattern recognisers + FI identity code + phones (FI GB US DE SE), no NLP model,"
          " score threshold 0\n")
    print("third-party recall (strict: no letter or digit of the span survives)")
    header = "".join(f" | {lang:^23}" for lang in LANGS)
    print(f"{'kind':<8}{header}")
    print(f"{'':<8}" + " | dsar    presidio      n" * len(LANGS))
    for kind in (*KINDS, "all"):
        row = "".join(f" | {_fmt(d['recall'][lang][kind]):>5}   {_fmt(p['recall'][lang][kind]):>5}   "
                      f"{d['spans'][lang][kind]:>6}" for lang in LANGS)
        print(f"{kind:<8}{row}")
    print("\nthird-party names by form (all languages)    dsar    presidio")
    labels = {"with_email": "person's address in the message", "no_email": "person's address not in the message"}
    for form, value in d["names"].items():
        print(f"  {labels.get(form, form):<40}  {_fmt(value):>5}   {_fmt(p['names'][form]):>5}")
    print("\n                                             dsar        presidio")
    rows = (
        ("subject identifiers kept", _fmt(d["subject_kept"]), _fmt(p["subject_kept"]),
         f"n={d['subject_spans']} (dsar given the subject's own record, as the flow has it)"),
        ("  of them name, email, phone", _fmt(d["subject_kept_told"]), _fmt(p["subject_kept_told"]), ""),
        ("staff kept (keep_staff=true)", *(_staff(x, "keep_staff", "kept") for x in (d, p)), ""),
        ("staff replaced (keep_staff=false)", *(_staff(x, "replace_staff", "replaced") for x in (d, p)), ""),
        ("decoys replaced", str(d["decoys_replaced"]), str(p["decoys_replaced"]), f"n={d['decoy_spans']}"),
        ("over-redacted regions", str(d["over_redaction"]["regions"]), str(p["over_redaction"]["regions"]), ""),
        ("over-redacted characters", str(d["over_redaction"]["chars"]), str(p["over_redaction"]["chars"]), ""),
        ("letters/digits replaced outside spans", str(d["over_redaction"]["outside_span_chars"]),
         str(p["over_redaction"]["outside_span_chars"]), "(also postal code and town after an address)"),
        ("placeholder consistency", _fmt(d["consistency"]), "n/a", f"groups={d['consistency_groups']}"),
        ("throughput MB/s of text (one process)", _fmt(d["text_mb_per_s"], 2), _fmt(p["text_mb_per_s"], 2),
         "the field texts redacted"),
        ("  whole messages: parse, redact, write", _fmt(d["message_mb_per_s"], 2), "", "dsar redact's work"),
    )
    for label, a, b, note in rows:
        print(f"{label:<40} {a:>11} {b:>15}   {note}")
    print("subject kept by kind: " + ", ".join(
        f"{k} {_fmt(v)}/{_fmt(p['subject_kept_by_kind'][k])}" for k, v in d["subject_kept_by_kind"].items())
        + "  (dsar/presidio)")
    kinds = sorted(set(d["decoys_replaced_by_kind"]) | set(p["decoys_replaced_by_kind"]))
    if kinds:
        print("decoys replaced by kind: " + ", ".join(
            f"{k} {d['decoys_replaced_by_kind'].get(k, 0)}/{p['decoys_replaced_by_kind'].get(k, 0)}" for k in kinds)
            + "  (dsar/presidio)")
    print("\ntargets (dsar)")
    for label, key, op, bound in TARGETS:
        value = _get(d, key)
        met = value is not None and (value >= bound if op == ">=" else value <= bound)
        shown = _fmt(value) if isinstance(value, float) else str(value)
        print(f"  {label:<32} {op} {bound:<6} dsar {shown:>8}   presidio {_presidio(p, key):>8}   "
              f"{'met' if met else 'NOT MET'}")


def _staff(result: dict[str, Any], policy: str, state: str) -> str:
    counts = result["staff"][policy]
    return f"{counts[state]}/{sum(counts.values())}"


def _presidio(result: dict[str, Any], key: str) -> str:
    value = _get(result, key)
    return _fmt(value) if isinstance(value, float) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "tests" / "corpus" / "heldout")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--json", action="store_true", help="one JSON object instead of tables")
    parser.add_argument("--show-leaks", type=int, default=0, metavar="N",
                        help="print up to N of dsar's leaked spans (with their text) to stderr")
    args = parser.parse_args()

    tallies, messages, size = run(args.corpus, args.limit)
    result = {"dsar": figures(tallies["dsar"], size, True), "presidio": figures(tallies["presidio"], size, False)}
    if args.json:
        print(json.dumps({"corpus": str(args.corpus), "messages": messages, "bytes": size, **result}, indent=1))
    else:
        print_tables(args.corpus, messages, size, result)
    for kind, role, text, file in tallies["dsar"].leaks[: args.show_leaks]:
        print(f"leak: {kind:<8} {role:<12} {text!r:<40} {file}", file=sys.stderr)


if __name__ == "__main__":
    main()
