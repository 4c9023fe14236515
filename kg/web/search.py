"""Finding HTS codes by their digits or by words of their descriptions (skos:prefLabel).

The index holds every HTS code of the graph with its description and those of the codes above it
(by prefix: heading, subheading, tariff line), read once per backend with one SPARQL query, so a
search is a scan of some 46,000 short texts in memory.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from kg.inputs import dotted_hts

CODES_QUERY = """
PREFIX tkg:  <https://w3id.org/tariff-kg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?code ?description ?validFrom ?validUntil
WHERE {
  ?code a tkg:HTSCode .
  OPTIONAL { ?code skos:prefLabel ?description }
  OPTIONAL { ?code tkg:validFrom ?validFrom }
  OPTIONAL { ?code tkg:validUntil ?validUntil }
}
"""
_WORD = re.compile(r"[\w-]+")
# The label kg.hts_rdf gives a heading or subheading the USITC lists no row for: no description.
_IMPLIED = re.compile(r"^((Sub)?[Hh]eading [\d.]+)?$")


@dataclass(frozen=True)
class Code:
    """One HTS code with its own description and the text searched (its path of descriptions)."""

    digits: str
    description: str
    valid_from: str | None
    valid_until: str | None
    path: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """The code as the search API returns it."""
        return {"hts": dotted_hts(self.digits), "description": self.description,
                "path": list(self.path), "valid_from": self.valid_from,
                "valid_until": self.valid_until}


class CodeIndex:
    """Every HTS code of a backend, searchable by digits or words; loaded on first use."""

    def __init__(self, backend):
        self._backend = backend
        self._lock = threading.Lock()
        self._codes: dict[str, Code] | None = None
        self._texts: list[tuple[str, Code]] = []

    def codes(self) -> dict[str, Code]:
        """Every code by its digits (loads the index the first time)."""
        with self._lock:
            if self._codes is None:
                self._codes = self._load()
                self._texts = [(_haystack(code), code) for code in self._codes.values()]
            return self._codes

    def _load(self) -> dict[str, Code]:
        own: dict[str, tuple[str, str | None, str | None]] = {}
        for row in self._backend.select(CODES_QUERY, {}):
            digits = str(row["code"]).rsplit("/", 1)[-1]
            if not digits.isdigit() or digits in own:
                continue
            own[digits] = (str(row.get("description", "")), _text(row.get("validFrom")),
                           _text(row.get("validUntil")))
        codes = {}
        for digits, (description, start, end) in own.items():
            above = tuple(own[digits[:n]][0] for n in (4, 6, 8)
                          if n < len(digits) and digits[:n] in own
                          and not _IMPLIED.match(own[digits[:n]][0]))
            codes[digits] = Code(digits, description, start, end, above)
        return codes

    def lines_under(self, prefix: str) -> list[Code]:
        """The 8-digit tariff lines whose digits start with the prefix, in code order."""
        return sorted((c for d, c in self.codes().items() if len(d) == 8 and d.startswith(prefix)),
                      key=lambda c: c.digits)

    def search(self, text: str, limit: int = 20) -> list[Code]:
        """Codes whose digits start with the text (digits typed) or whose descriptions, with those
        of the codes above them, hold every word typed; tariff lines first."""
        codes = self.codes()
        digits = re.sub(r"[.\s]", "", text)
        if digits.isdigit():
            found = [c for d, c in codes.items() if d.startswith(digits)]
        else:
            words = [w.lower() for w in _WORD.findall(text) if len(w) > 1]
            if not words:
                return []
            found = [code for haystack, code in self._texts
                     if all(word in haystack for word in words)]
        found.sort(key=lambda c: (len(c.digits) != 8, len(c.digits), c.digits))
        return found[:limit]


def _haystack(code: Code) -> str:
    return " ".join(code.path + (code.description, dotted_hts(code.digits))).lower()


def _text(term) -> str | None:
    return None if term is None else str(term)
