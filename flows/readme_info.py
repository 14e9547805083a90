"""What README.html says about one request, gathered from the config and the request store."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from exports.package.build import Columns
from exports.readme import ACTIVITY_FIELDS, ActivityInfo, ControllerInfo, ReadmeInfo, SourceCoverage, WithheldInfo
from extractors.records import EMAIL, REQUESTED, Subject
from flows.config import Text
from flows.errors import ConfigError
from flows.labels import PackageLabels
from flows.runtime import Runtime
from flows.store import Request


def readme_info(
    rt: Runtime,
    request: Request,
    record_counts: Mapping[str, Mapping[str, int]],
    withheld: Sequence[Mapping[str, Any]],
    public_key: str,
    generated_at: datetime | None = None,
    subject: Subject | None = None,
    columns: Columns | None = None,
) -> ReadmeInfo:
    """The README's content for `request`: `record_counts` is what the package holds (source -> category -> records).

    Every configured source appears: one without a finished extract stage, or
    whose extract stage recorded why it was skipped, is reported as not searched.
    `generated_at` should be the package's own time, so that the page and
    index.json agree; it defaults to the runtime clock. `subject` is what the
    sources were searched for (`stages.subject_of`): the verified address alone
    by default. `columns` names each category's columns by key and label (the package's `Contents`).
    Raises ConfigError when a text lacks the request's language, and
    ValueError when the redact stage has not finished (its counts are needed).
    """
    config, language = rt.config, request.language
    subject = subject or Subject(email=request.email)

    def text(value: Text, key: str) -> str:
        if language not in value:
            raise ConfigError(config.path, key, f"no {language!r} text for a request in that language")
        return value[language]

    redaction = rt.store.stage_done(request.id, "redact")
    if redaction is None:
        raise ValueError(f"{request.id}: the redact stage has not finished; README.html needs its counts")

    controller = config.controller
    activities = tuple(
        ActivityInfo(
            name=activity.name, sources=tuple(activity.sources),
            **{field: text(getattr(activity, field), f"activities.{index}.{field}") for field in ACTIVITY_FIELDS},
        )
        for index, activity in enumerate(config.activities)
    )
    coverage = []
    labels = PackageLabels.of(config.sources, language)
    for spec in config.sources:
        done = rt.store.stage_done(request.id, f"extract:{spec.name}")
        categories = dict(sorted(record_counts.get(spec.name, {}).items()))
        label, category_labels = labels.source(spec.name), {c: labels.category(spec.name, c)[0] for c in categories}
        if done is None or "skipped" in done:
            reason = None if done is None else str(done["skipped"])
            coverage.append(SourceCoverage(spec.name, spec.kind, "skipped", reason, {}, label, category_labels))
        else:
            coverage.append(SourceCoverage(spec.name, spec.kind, "found" if done["records"] else "empty", None,
                                           categories, label, category_labels))
    counts = Counter((str(item.get("source", "")), str(item.get("reason", ""))) for item in withheld)
    return ReadmeInfo(
        request_id=request.id,
        language=language,  # type: ignore[arg-type]  # the store accepts fi and en only
        generated_at=generated_at or rt.clock(),
        time_zone=config.controller.time_zone,
        controller=ControllerInfo(
            name=controller.name, business_id=controller.business_id, contact_email=controller.contact_email,
            postal_address=controller.postal_address, dpo_email=controller.dpo_email, phone=controller.phone,
            dpo_name=controller.dpo_name,
            supervisory_authority=text(controller.supervisory_authority, "controller.supervisory_authority"),
        ),
        activities=activities,
        coverage=tuple(coverage),
        withheld=tuple(WithheldInfo(source, reason, n) for (source, reason), n in sorted(counts.items())),
        redaction={k: v for k, v in sorted(redaction.items()) if k != "sha256"},
        public_key=public_key,
        identifiers=searched_identifiers(subject),
        unverified=unverified_identifiers(rt, request.id),
        columns=columns or {},
    )


def searched_identifiers(subject: Subject) -> tuple[tuple[str, str, str], ...]:
    """(kind, value, the source that holds it) of what the sources were searched for; "" for one the requester
    verified (the request's address, a further one verified by its own code)."""
    return ((EMAIL, subject.email, ""),
            *((i.kind, i.value, "" if i.source == REQUESTED else i.source) for i in subject.also))


def unverified_identifiers(rt: Runtime, request_id: str) -> tuple[tuple[str, str], ...]:
    """(kind, value) of the further identifiers the requester named but never verified: not searched for."""
    return tuple((i.kind, i.value) for i in rt.store.identifiers(request_id) if i.verified_at is None)

