"""Rendering a duty answer: a text report with citations, the JSON contract, or CSV rows."""

from __future__ import annotations

import csv
import io
import json

from kg.duty import DutyAnswer, Source, facts_words, reason_text


def render(answer: DutyAnswer, fmt: str, width: int | None = None) -> str:
    """The answer as 'text' (a report with citations, its tables fitted to width when given),
    'json' or 'csv' (one row per part)."""
    if fmt == "json":
        return json.dumps(answer.to_dict(), indent=2, ensure_ascii=False)
    if fmt == "csv":
        return components_csv(answer).rstrip("\n")
    return text_report(answer, width)


def percent_text(value: float | None) -> str:
    """A percentage, or '?' when it cannot be computed."""
    return "?" if value is None else f"{value:g}%"


def total_text(answer: DutyAnswer) -> str:
    """The total, or what is known of it when the graph lacks part of the law."""
    if answer.total_ad_valorem_percent is not None:
        text = f"{answer.total_ad_valorem_percent:g}%"
    else:
        text = f"incomplete (the parts known add {answer.known_part_percent:g}%)"
    if answer.specific_duties:
        text += " plus specific duties not in this total: " + "; ".join(answer.specific_duties)
    return text


def coverage_text(answer: DutyAnswer) -> str:
    """One line saying whether the answer holds every part of the law, and where the data ends."""
    if answer.coverage.complete:
        text = "complete: every part of the law the graph holds for this question is in the total"
    else:
        text = "INCOMPLETE: " + "; ".join(answer.coverage.missing)
    if answer.coverage.beyond_reach:
        text += "; PAST THE DATA: " + "; ".join(answer.coverage.beyond_reach)
    return text


def difference_text(answer: DutyAnswer) -> str | None:
    """What the two time views mean for the importer, or None when there is only one."""
    applied = answer.as_applied
    if applied is None:
        return None
    if applied.difference == "unknown":
        return "difference unknown: the two answers lack different parts of the law"
    if applied.difference == "none":
        return "no difference"
    amount = f"{abs(applied.difference_percent or 0):g}% of the value"
    less = applied.difference == "refundable"
    text = f"{amount} {'less' if less else 'more'} than applied at entry"
    if answer.as_known_on > answer.date:
        text += ": refundable" if less else ": owed"
    else:
        text += f" (the law changed after {answer.as_known_on})"
    if applied.difference_basis == "known parts":
        text += " (on the parts known: both answers lack the same parts)"
    return text


def views_differ(answer: DutyAnswer) -> bool:
    """True when the duty as applied at entry is not the duty as known on the asked day."""
    applied = answer.as_applied
    if applied is None:
        return False
    now = sorted((c.measure, c.ad_valorem_percent) for c in answer.components)
    then = sorted((c.measure, c.ad_valorem_percent) for c in applied.components)
    return now != then or applied.total_ad_valorem_percent != answer.total_ad_valorem_percent


def text_report(answer: DutyAnswer, width: int | None = None) -> str:
    """A readable report: header, coverage, both time views, the parts with their sources, what
    was not applied and why, notes."""
    from kg.tables import text_table

    lines = header_lines(answer) + [""]
    sources: list[Source] = []
    body = []
    for c in answer.components:
        refs = []
        for source in c.sources:
            if source not in sources:
                sources.append(source)
            refs.append(f"[{sources.index(source) + 1}]")
        body.append([c.label, c.authority, c.chapter99 or "-", rate_cell(c), adds_cell(c),
                     " ".join(refs)])
    header = ["part", "authority", "ch. 99", "rate", "adds", "sources"]
    lines.append(text_table(header, body, width).rstrip())
    lines.append(f"TOTAL ad valorem: {total_text(answer)}")
    if views_differ(answer):
        lines += [""] + both_views(answer, width)
    part_notes = [f"  * {c.label}: {note}" for c in answer.components for note in c.notes]
    if part_notes:
        lines += [""] + part_notes
    if sources:
        lines += ["", "Sources:"] + [f"  [{i}] {s.citation}" + (f"  {s.url}" if s.url else "")
                                      for i, s in enumerate(sources, 1)]
    if answer.not_applied:
        lines += ["", "Not applied:"]
        for n in answer.not_applied:
            lines.append(f"  - {n.label}: " + "; ".join(reason_text(r) for r in n.reasons))
    if answer.notes:
        lines += ["", "Notes:"] + [f"  * {note}" for note in answer.notes]
    return "\n".join(lines)


def header_lines(answer: DutyAnswer) -> list[str]:
    """The question, its coverage, where it passes the data, suffixes, and both time views."""
    lines = [f"Duty on {answer.hts} from {answer.origin} entered {answer.date} "
             f"(law as known on {answer.as_known_on}; {facts_words(answer.entry_facts)})"]
    if answer.coverage.complete:
        lines.append("Coverage: complete: every part of the law the graph holds for this question "
                     "is in the total")
    else:
        lines.append("Coverage: INCOMPLETE: " + "; ".join(answer.coverage.missing))
    lines += [f"Past the data: {text}" for text in answer.coverage.beyond_reach]
    if answer.user_data:
        lines.append("With your data: " + ", ".join(answer.user_data)
                     + " (added to the curated timeline for this answer)")
    if answer.by_statistical_suffix:
        lines.append("By statistical suffix: the duty differs for "
                     + ", ".join(s["line"] for s in answer.by_statistical_suffix)
                     + " (see the notes); this answer is for the other lines")
    if answer.as_applied is not None and views_differ(answer):
        applied = answer.as_applied
        then = (percent_text(applied.total_ad_valorem_percent) if applied.complete
                else f"incomplete (known parts {applied.known_part_percent:g}%)")
        now = (percent_text(answer.total_ad_valorem_percent) if answer.coverage.complete
               else f"incomplete (known parts {answer.known_part_percent:g}%)")
        lines.append(f"Applied at entry (law as known on {applied.as_known_on}): {then}; "
                     f"as known on {answer.as_known_on}: {now}; {difference_text(answer)}")
    return lines


def both_views(answer: DutyAnswer, width: int | None) -> list[str]:
    """The parts side by side: as applied at entry and as known on the asked day."""
    from kg.tables import text_table

    applied = answer.as_applied
    assert applied is not None
    then = {c.measure: c for c in applied.components}
    now = {c.measure: c for c in answer.components}
    order = list(then) + [m for m in now if m not in then]
    body = [[(then.get(m) or now[m]).label,
             percent_text(then[m].ad_valorem_percent) if m in then else "-",
             percent_text(now[m].ad_valorem_percent) if m in now else "-"] for m in order]
    body.append(["TOTAL", percent_text(applied.total_ad_valorem_percent),
                 percent_text(answer.total_ad_valorem_percent)])
    header = ["part", f"applied at entry ({applied.as_known_on})",
              f"as known on {answer.as_known_on}"]
    return [f"Both time views: {difference_text(answer)}", text_table(header, body, width).rstrip()]


def rate_cell(c) -> str:
    """The rate of a part as the schedule or the order states it."""
    if c.rate_type == "inclusive of MFN":
        rate = c.other_rate or c.rate_text or ""
    elif c.rate_type in ("compound", "specific") and c.rate_text:
        rate = c.rate_text
    elif c.rate_percent is not None:
        rate = f"{c.rate_percent:g}%"
    else:
        rate = c.other_rate or c.rate_text or ""
    return rate + (f" on {c.basis}" if c.basis != "full" else "")


def adds_cell(c) -> str:
    """What a part adds to the ad valorem total, saying when a specific part is left out."""
    adds = percent_text(c.ad_valorem_percent)
    if c.other_rate and c.rate_type in ("compound", "specific"):
        adds += f" (+{c.other_rate}, not in total)"
    return adds


def components_csv(answer: DutyAnswer) -> str:
    """One CSV row per part, then the total row (with the coverage and the other time view)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["measure", "label", "authority", "chapter99", "rate_percent", "basis",
                     "ad_valorem_percent", "other_rate", "sources", "coverage"])
    for c in answer.components:
        writer.writerow([c.measure, c.label, c.authority, c.chapter99 or "",
                         "" if c.rate_percent is None else f"{c.rate_percent:g}", c.basis,
                         "" if c.ad_valorem_percent is None else f"{c.ad_valorem_percent:g}",
                         c.other_rate or "", "; ".join(s.citation for s in c.sources), ""])
    writer.writerow(["TOTAL", "", "", "", "", "", _number(answer.total_ad_valorem_percent),
                     "; ".join(answer.specific_duties), "", coverage_text(answer)])
    applied = answer.as_applied
    if applied is not None:
        writer.writerow(["APPLIED AT ENTRY", f"law as known on {applied.as_known_on}", "", "", "",
                         "", _number(applied.total_ad_valorem_percent), "", "",
                         difference_text(answer)])
    return out.getvalue()


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
