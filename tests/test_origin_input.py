"""Origins are exact ISO codes, exact names or known aliases: never a fuzzy guess (issue 13).

pycountry's fuzzy search answered `--origin XX` as Malta, GX as China, TOY and Tokyo as Japan,
Texas as the United States and Kosovo as Serbia, each a wrong answer with exit 0.
"""

from __future__ import annotations

import itertools
import string

import pycountry
import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.errors import InputError
from kg.inputs import country_code


@pytest.mark.parametrize("typed", ["XX", "GX", "TOY", "Tokyo", "Texas", "Kosovo", "XK", "EU", "392",
                                   "Jap", "Deutschland"])
def test_no_silent_guess(typed):
    with pytest.raises(InputError) as error:
        country_code(typed)
    assert repr(typed) in str(error.value)


@pytest.mark.parametrize("typed,code", [
    ("JP", "JP"), ("jp", "JP"), ("JPN", "JP"), ("Japan", "JP"), ("japan", "JP"),
    ("UK", "GB"), ("United Kingdom", "GB"), ("GBR", "GB"), ("Great Britain", "GB"),
    ("Korea", "KR"), ("South Korea", "KR"), ("Korea, Republic of", "KR"), ("KOR", "KR"),
    ("Turkey", "TR"), ("Türkiye", "TR"), ("Turkiye", "TR"), ("Hong Kong", "HK"),
    ("Viet Nam", "VN"), ("Vietnam", "VN"), ("Côte d'Ivoire", "CI"), ("Cote d’Ivoire", "CI"),
    ("  United   States ", "US"), ("USA", "US"), ("Czechia", "CZ"), ("Czech Republic", "CZ"),
])
def test_exact_codes_names_and_aliases(typed, code):
    assert country_code(typed) == code


@pytest.mark.parametrize("typed,candidate", [
    ("Japn", "Japan (JP)"), ("Swtizerland", "Switzerland (CH)"), ("Virgin Islands", "(VG)"),
    ("TOY", "Tonga (TO)")])
def test_did_you_mean(typed, candidate):
    with pytest.raises(InputError) as error:
        country_code(typed)
    assert "did you mean" in str(error.value) and candidate in str(error.value)


def test_every_two_and_three_letter_code_is_iso_or_refused():
    from kg.inputs import COUNTRY_ALIASES

    alpha2 = {c.alpha_2 for c in pycountry.countries}
    alpha3 = {c.alpha_3: c.alpha_2 for c in pycountry.countries}
    aliases = {k.upper(): v for k, v in COUNTRY_ALIASES.items()}
    for size in (2, 3):
        for letters in itertools.product(string.ascii_uppercase, repeat=size):
            code = "".join(letters)
            want = code if code in alpha2 else alpha3.get(code) or aliases.get(code)
            if want:
                assert country_code(code) == want, code
            else:
                with pytest.raises(InputError):
                    country_code(code)


def test_cli_refuses_an_unknown_origin_before_opening_a_store(tmp_path):
    result = CliRunner(env={"TARIFFKG_HOME": str(tmp_path)}).invoke(
        main, ["duty", "--hts", "8703.23.01", "--origin", "XX", "--date", "2025-05-01"])
    assert result.exit_code == 2
    assert "unknown country 'XX'" in result.stderr
    assert not any(tmp_path.iterdir()), "no store was built for a bad question"
