"""Tests for kg.hts_tables: the change-only HTS tables in data/hts."""

from functools import lru_cache
from pathlib import Path

import pytest

from kg.hts_tables import compact, dotted, read_lines, read_revisions, revision_key, revision_label

REPO = Path(__file__).resolve().parents[1]
HTS_DIR = REPO / "data" / "hts"
# the shared source folder sits next to the main checkout, or two levels up from a worktree
SHARED_CANDIDATES = [root / "shared" / "data" / "hts" for root in (REPO.parent, REPO.parents[1])]
SHARED_HTS = next((p for p in SHARED_CANDIDATES if p.is_dir()), SHARED_CANDIDATES[0])


@lru_cache(maxsize=1)
def lines():
    return read_lines(HTS_DIR)


def versions(digits):
    return [ln for ln in lines() if ln.digits == digits]


def general_by_revision(digits, column="general"):
    """Return {revision key: rate text} for every revision in which the code is listed."""
    keys = [r.key for r in read_revisions(HTS_DIR)]
    out = {}
    for ln in versions(digits):
        end = keys.index(ln.until_rev) if ln.until_rev else len(keys)
        for key in keys[keys.index(ln.from_rev) : end]:
            out[key] = getattr(ln, column)
    return out


def test_revisions_are_the_44_of_the_source_in_date_order():
    revisions = read_revisions(HTS_DIR)
    assert len(revisions) == 44
    assert revisions[0].key == "2025-basic" and revisions[0].date == "2025-01-01"
    assert revisions[-1].key == "2026-rev-10" and revisions[-1].date == "2026-06-08"
    assert [r.date for r in revisions] == sorted(r.date for r in revisions)
    assert len({r.date for r in revisions}) == 44
    rev3 = next(r for r in revisions if r.key == "2026-rev-3")
    assert (
        rev3.sha256.startswith("fae12fab")
        and rev3.source_file == "usitc_hts_json/hts_2026_rev_3.json.gz"
    )
    assert rev3.label == "2026 HTS Revision 3"


def test_revision_dates_are_the_usitc_dates_with_their_source():
    revisions = {r.key: r for r in read_revisions(HTS_DIR)}
    assert {r.date_source for r in revisions.values()} == {
        "usitc-release-start",
        "yale-basic-edition",
    }
    assert [k for k, r in revisions.items() if r.date_source == "yale-basic-edition"] == [
        "2025-basic",
        "2026-basic",
    ]
    # USITC's own date, with Yale's kept alongside
    assert (revisions["2025-rev-1"].date, revisions["2025-rev-1"].yale_date) == (
        "2025-02-05",
        "2025-01-27",
    )
    assert revisions["2025-rev-6"].date == "2025-04-03"  # Section 232 autos, Proclamation 10908
    assert revisions["2025-rev-18"].date == "2025-08-07"
    assert revisions["2026-rev-4"].date == "2026-02-25"
    # 2026 Rev 8 is absent from Yale's list (editorial only) but is a revision of its own
    rev8 = revisions["2026-rev-8"]
    assert (rev8.date, rev8.yale_date, rev8.sha256[:8]) == ("2026-05-22", "", "04f4ddda")
    assert all(r.yale_date for k, r in revisions.items() if k != "2026-rev-8")


def test_revision_names():
    assert revision_key("basic") == "2025-basic"
    assert revision_key("rev_17") == "2025-rev-17"
    assert revision_key("2026_rev_10") == "2026-rev-10"
    assert revision_label("2025-basic") == "2025 HTS Basic Edition"
    assert revision_label("2026-rev-10") == "2026 HTS Revision 10"
    assert dotted("8703230110") == "8703.23.01.10"


def test_passenger_cars_are_2_5_percent_in_every_revision():
    rates = general_by_revision("87032301")
    assert len(rates) == 44
    assert set(rates.values()) == {"2.5%"}
    assert versions("87032301")[0].code == "8703.23.01"


def test_light_trucks_are_25_percent_and_flat_rolled_steel_free():
    assert set(general_by_revision("87043101").values()) == {"25%"}
    assert set(general_by_revision("72085100").values()) == {"Free"}
    assert versions("87043100") == []


def test_a_rate_on_a_lone_10_digit_row_goes_to_its_8_digit_line():
    line8 = versions("87042101")
    assert [(ln.code, ln.general, ln.other) for ln in line8] == [("8704.21.01", "25%", "25%")]
    assert line8[0].special.endswith("25% (KR)")
    stat = versions("8704210100")
    assert [(ln.parent, ln.general, ln.special, ln.other) for ln in stat] == [
        ("87042101", "", "", "")
    ]
    assert not [
        ln for ln in lines() if len(ln.digits) == 10 and (ln.general or ln.special or ln.other)
    ]


def test_special_and_column_2_rates_of_passenger_cars_and_drills():
    specials = set(general_by_revision("87032301", "special").values())
    assert specials == {"Free (A+,AU,B,BH,CL,CO,D,E,IL,JO,KR,MA,OM, P,PA,PE,S,SG)"}
    assert set(general_by_revision("87032301", "other").values()) == {"10%"}
    drills = versions("84672100")
    assert [(ln.general, ln.other) for ln in drills] == [("1.7%", "35%")]
    assert "KR" in drills[0].special and drills[0].special.startswith("Free (")


def test_special_and_column_2_texts_are_kept_as_written():
    eight = [ln for ln in lines() if len(ln.digits) == 8]
    assert not [ln for ln in eight if "  " in ln.special + ln.other]
    # chapter 99 lines keep their special text too ("No change", program lists)
    assert versions("99039401")[0].other == "The duty provided in the applicable subheading + 25%"


def test_distinct_8_digit_lines():
    eight = [ln for ln in lines() if len(ln.digits) == 8]
    assert len({ln.digits for ln in eight if ln.digits < "98"}) == 11414
    assert len({ln.digits for ln in eight if ln.digits < "99"}) == 11860
    assert len({ln.digits for ln in eight if ln.digits < "98" and not ln.until_rev}) == 11414


def test_section_232_autos_heading_first_appears_in_2025_rev_6():
    found = versions("99039401")
    assert found[0].from_rev == "2025-rev-6"
    assert found[-1].until_rev == ""
    assert "+ 25%" in found[0].general


def test_parent_chain_of_a_statistical_line_reaches_its_heading():
    latest = {ln.digits: ln for ln in lines() if not ln.until_rev}
    chain, node = [], "8703230110"
    while node:
        chain.append(node)
        node = latest[node].parent
    assert chain == ["8703230110", "87032301", "8703"]


def test_superior_text_rows_are_climbed_through():
    # 0102.29.40.62 (Steers) sits under the text row "Weighing 320 kg or more each:",
    # not under the earlier statistical line 0102.29.40.58 (Female)
    assert {ln.parent for ln in versions("0102294062")} == {"01022940"}


def test_headings_have_no_parent_and_children_are_prefixes():
    latest = [ln for ln in lines() if not ln.until_rev]
    assert all(ln.parent == "" for ln in latest if len(ln.digits) == 4)
    odd = [ln for ln in latest if ln.parent and not ln.digits.startswith(ln.parent)]
    assert odd == []


def test_html_tags_are_stripped():
    assert not [ln for ln in lines() if "<i>" in ln.description or "</" in ln.description]
    assert not [
        ln for ln in lines() if "  " in ln.description or ln.description != ln.description.strip()
    ]


def test_versions_are_consecutive_and_change_something():
    keys = [r.key for r in read_revisions(HTS_DIR)]
    previous = None
    for ln in lines():
        assert ln.until_rev == "" or keys.index(ln.until_rev) > keys.index(ln.from_rev)
        if previous and previous.digits == ln.digits and previous.until_rev == ln.from_rev:
            fields = ("indent", "parent", "description", "general", "special", "other")
            assert [getattr(previous, f) for f in fields] != [getattr(ln, f) for f in fields]
        previous = ln


@pytest.mark.skipif(not SHARED_HTS.is_dir(), reason="shared HTS source folder not present")
def test_compact_is_byte_identical(tmp_path):
    compact(SHARED_HTS, tmp_path, HTS_DIR / "revision_dates.csv")
    for name in ("revisions.csv", "lines.csv.gz"):
        assert (tmp_path / name).read_bytes() == (HTS_DIR / name).read_bytes(), name
