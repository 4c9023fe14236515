"""Tests for kg.product_lists.list_triples."""

from pathlib import Path

import pytest

from kg.hts_tables import read_lines
from kg.product_lists import list_triples

HTS_DIR = Path(__file__).resolve().parents[1] / "data" / "hts"
ID = "https://w3id.org/tariff-kg/id/"
TKG = "https://w3id.org/tariff-kg/ontology#"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def as_tuples(triples):
    return {(t.subject.value, t.predicate.value, t.object.value) for t in triples}


def test_entries_with_and_without_dates(tmp_path):
    write(
        tmp_path,
        "s232-autos.csv",
        "hts,valid_from,valid_until\n8703.23.01,2025-04-03,\n870431,,\n8704.31.01.20,2025-04-03,2026-04-06\n",
    )
    got = as_tuples(list_triples(tmp_path))
    entry = ID + "list/s232-autos/entry/87032301-2025-04-03"
    assert (
        entry,
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
        TKG + "ProductListEntry",
    ) in got
    assert (entry, TKG + "inList", ID + "list/s232-autos") in got
    assert (entry, TKG + "product", ID + "hts/87032301") in got
    assert (entry, TKG + "validFrom", "2025-04-03") in got
    assert not [t for t in got if t[0] == entry and t[1] == TKG + "validUntil"]
    open_entry = ID + "list/s232-autos/entry/870431"
    assert {t[1] for t in got if t[0] == open_entry} == {
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
        TKG + "inList",
        TKG + "product",
    }
    assert (
        ID + "list/s232-autos/entry/8704310120-2025-04-03",
        TKG + "validUntil",
        "2026-04-06",
    ) in got
    assert len(got) == 4 + 3 + 5


def test_dates_are_typed(tmp_path):
    write(tmp_path, "a.csv", "hts,valid_from,valid_until\n8703,2025-04-03,2025-05-03\n")
    dates = [
        t.object for t in list_triples(tmp_path) if t.predicate.value.startswith(TKG + "valid")
    ]
    assert {d.datatype.value for d in dates} == {"http://www.w3.org/2001/XMLSchema#date"}


def test_files_are_read_in_name_order_and_other_files_ignored(tmp_path):
    write(tmp_path, "b.csv", "hts,valid_from,valid_until\n0101,,\n")
    write(tmp_path, "a.csv", "hts,valid_from,valid_until\n0102,,\n")
    write(tmp_path, "README.md", "not a list\n")
    subjects = [t.subject.value for t in list_triples(tmp_path)]
    assert subjects[0] == ID + "list/a/entry/0102" and subjects[-1] == ID + "list/b/entry/0101"


def test_listed_codes_exist_in_the_hts(tmp_path):
    write(
        tmp_path, "x.csv", "hts,valid_from,valid_until\n8703.23.01,,\n7208.51.00,,\n9903.94.01,,\n"
    )
    codes = {ln.digits for ln in read_lines(HTS_DIR)}
    products = {
        t.object.value.rsplit("/", 1)[1]
        for t in list_triples(tmp_path)
        if t.predicate.value == TKG + "product"
    }
    assert products == {"87032301", "72085100", "99039401"} and products <= codes


def test_exact_duplicates_are_merged(tmp_path):
    write(tmp_path, "d.csv", "hts,valid_from,valid_until\n8703,,\n8703,,\n")
    assert len(list(list_triples(tmp_path))) == 3


@pytest.mark.parametrize(
    "body, message",
    [
        ("hts,from,until\n8703,,\n", "bad.csv:1: header"),
        ("hts,valid_from,valid_until\n870,,\n", "bad.csv:2: '870' is not an HTS code"),
        ("hts,valid_from,valid_until\n8703,,\n87032,,\n", "bad.csv:3: '87032'"),
        ("hts,valid_from,valid_until\n8703.23.01.101,,\n", "bad.csv:2:"),
        (
            "hts,valid_from,valid_until\n8703,2025-13-01,\n",
            "bad.csv:2: '2025-13-01' is not an ISO date",
        ),
        ("hts,valid_from,valid_until\n8703,04/03/2025,\n", "bad.csv:2: '04/03/2025'"),
        ("hts,valid_from,valid_until\n8703,2025-05-01,2025-04-01\n", "bad.csv:2: valid_until"),
        ("hts,valid_from,valid_until\n8703,,,\n", "bad.csv:2: expected 3 columns"),
        (
            "hts,valid_from,valid_until\n8703,,\n8703,,2026-01-01\n",
            "bad.csv:3: conflicting duplicate",
        ),
    ],
)
def test_malformed_rows_name_file_and_line(tmp_path, body, message):
    write(tmp_path, "bad.csv", body)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        list(list_triples(tmp_path))


def test_malformed_list_is_also_a_data_error(tmp_path):
    from kg.errors import DataError

    write(tmp_path, "bad.csv", "hts,valid_from,valid_until\nxx,,\n")
    with pytest.raises(DataError):
        list(list_triples(tmp_path))
