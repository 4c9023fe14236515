"""Rendering a duty answer: a text report with citations, the JSON contract, or CSV rows."""

from __future__ import annotations

import csv
import io
import json

from kg.duty import DutyAnswer, Source


def render(answer: DutyAnswer, fmt: str) -> str:
    """The answer as 'text' (a report with citations), 'json' or 'csv' (one row per part)."""
    if fmt == "json":
        return json.dumps(answer.to_dict(), indent=2, ensure_ascii=False)
    if fmt == "csv":
        return components_csv(answer).rstrip("\n")
    return text_report(answer)


def total_text(answer: DutyAnswer) -> str:
    """The total, or what is known of it when the graph lacks part of the law."""
    if answer.total_ad_valorem_percent is not None:
        return f"{answer.total_ad_valorem_percent:g}%"
    return f"incomplete (the parts known add {answer.known_part_percent:g}%)"


def coverage_text(answer: DutyAnswer) -> str:
    """One line saying whether the answer holds every part of the law."""
    if answer.coverage.complete:
        return "complete: every part of the law the graph holds for this question is in the total"
    return "INCOMPLETE: " + "; ".join(answer.coverage.missing)


def text_report(answer: DutyAnswer) -> str:
    """A readable report: header, coverage, the parts with their sources, what did not apply, notes."""
    from kg.tables import text_table

    facts = answer.entry_facts
    content = ",".join(f"{k}={v:g}" for k, v in facts["content"].items())
    given = [f"claim {facts['claim']}" if facts["claim"] else "no preference claimed",
             f"{facts['quota']} quota",
             f"content {content}" if content else "metal content not given",
             f"loaded {facts['loaded']}" if facts["loaded"] else "not in transit"]
    lines = [f"Duty on {answer.hts} from {answer.origin} entered {answer.date} "
             f"(law as known on {answer.as_known_on}; {', '.join(given)})",
             f"Coverage: {coverage_text(answer)}", ""]
    sources: list[Source] = []
    body = []
    for c in answer.components:
        refs = []
        for source in c.sources:
            if source not in sources:
                sources.append(source)
            refs.append(f"[{sources.index(source) + 1}]")
        adds = "?" if c.ad_valorem_percent is None else f"{c.ad_valorem_percent:g}%"
        if c.rate_type == "inclusive of MFN" or c.rate_percent is None:
            rate = c.other_rate or c.rate_text or ""
        else:
            rate = f"{c.rate_percent:g}%"
        if c.basis != "full":
            rate += f" on {c.basis}"
        body.append([c.label, c.authority, c.chapter99 or "-", rate, adds, " ".join(refs)])
    header = ["part", "authority", "ch. 99", "rate", "adds", "sources"]
    lines.append(text_table(header, body).rstrip())
    lines.append(f"TOTAL ad valorem: {total_text(answer)}")
    part_notes = [f"  * {c.label}: {note}" for c in answer.components for note in c.notes]
    if part_notes:
        lines += [""] + part_notes
    if sources:
        lines += ["", "Sources:"] + [f"  [{i}] {s.citation}" + (f"  {s.url}" if s.url else "")
                                      for i, s in enumerate(sources, 1)]
    if answer.not_applied:
        lines += ["", "Not applied:"]
        for n in answer.not_applied:
            reasons = "; ".join(r.reason + (f": {r.by_label}" if r.by_label else "")
                                for r in n.reasons)
            lines.append(f"  - {n.label}: {reasons}")
    if answer.notes:
        lines += ["", "Notes:"] + [f"  * {note}" for note in answer.notes]
    return "\n".join(lines)


def components_csv(answer: DutyAnswer) -> str:
    """One CSV row per part, then the total row (with the coverage)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["measure", "label", "authority", "chapter99", "rate_percent", "basis",
                     "ad_valorem_percent", "other_rate", "sources", "coverage"])
    for c in answer.components:
        writer.writerow([c.measure, c.label, c.authority, c.chapter99 or "",
                         "" if c.rate_percent is None else f"{c.rate_percent:g}", c.basis,
                         "" if c.ad_valorem_percent is None else f"{c.ad_valorem_percent:g}",
                         c.other_rate or "", "; ".join(s.citation for s in c.sources), ""])
    total = "" if answer.total_ad_valorem_percent is None else f"{answer.total_ad_valorem_percent:g}"
    writer.writerow(["TOTAL", "", "", "", "", "", total, "", "",
                     coverage_text(answer)])
    return out.getvalue()
