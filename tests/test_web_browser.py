"""The page in a real browser: Debian's headless Chromium driven by Selenium (chromedriver).

A person types a question, sees the total and the parts, follows links, sees the chart, and gets
a clear message for a bad code. The timeline period is kept to one month (the hidden `from` and
`to` fields of the form carry it) so the tests stay within a minute together. The network is
closed: links to the Federal Register and the HTS are checked by their href, not visited.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from web_server import KNOWN, WebServer

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,1800"]
MONTH = "from=2025-09-01&to=2025-09-30"


@pytest.fixture(scope="module")
def server(shipped_store_root):
    running = WebServer(shipped_store_root).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium with a new profile, closed after the module."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        message = "Debian's chromium and chromium-driver are not installed (.ci/run installs them)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def wait_for(browser, css: str, timeout: float = 40):
    """The first element matching css once it is there (the parts load after the page)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css)))


def type_into(browser, field: str, text: str) -> None:
    element = browser.find_element("id", field)
    element.clear()
    element.send_keys(text)


def test_type_a_question_see_the_answer_and_the_chart(server, browser):
    browser.get(f"{server.url}/?{MONTH}")
    type_into(browser, "hts", "8703.23.01")
    type_into(browser, "origin", "Japan")
    type_into(browser, "date", "2025-09-16")
    type_into(browser, "as_known_on", KNOWN)
    browser.find_element("id", "ask").click()
    total = wait_for(browser, "#total")
    query = parse_qs(urlparse(browser.current_url).query)
    assert query["hts"] == ["8703.23.01"] and query["date"] == ["2025-09-16"]

    _, answer = server.json("/api/duty", {"hts": "8703.23.01", "origin": "JP",
                                          "date": "2025-09-16", "as_known_on": KNOWN})
    assert total.text == f"{answer['total_ad_valorem_percent']:g}%"
    rows = browser.find_elements("css selector", "#components tr.component")
    assert len(rows) == len(answer["components"]) >= 2
    assert [row.find_elements("tag name", "td")[1].text for row in rows] == \
        [c["authority"] for c in answer["components"]]
    assert "section-232" in [c["authority"] for c in answer["components"]]

    chart = wait_for(browser, "#timeline svg.timeline-chart")
    assert chart.find_elements("css selector", "line.step")
    assert chart.find_elements("css selector", ".mark-act")
    assert chart.find_elements("css selector", "line.entry-date")
    acts = browser.find_elements("css selector", "#steps td a")  # the acts of each change
    assert acts and all(a.get_attribute("href").startswith("https://") for a in acts)
    assert "90 FR 44638" in [a.text for a in acts]  # Japan's autos rate from 2025-09-16
    changes = wait_for(browser, "#diff #changes")
    assert changes.text


def test_citations_link_to_their_sources(server, browser):
    browser.get(f"{server.url}/?hts=8703.23.01&origin=JP&date=2025-09-16&as_known_on={KNOWN}"
                f"&{MONTH}")
    links = browser.find_elements("css selector", "#components a.citation")
    assert links
    for link in links:
        href = link.get_attribute("href")
        assert href.startswith("https://"), href
        assert link.get_attribute("target") == "_blank"
    hosts = {urlparse(link.get_attribute("href")).hostname for link in links}
    assert hosts & {"www.federalregister.gov", "hts.usitc.gov", "www.govinfo.gov"}, hosts

    browser.find_element("css selector", ".links a").click()  # "This answer as JSON"
    body = json.loads(browser.find_element("tag name", "body").text)
    assert body["hts"] == "8703.23.01" and body["date"] == "2025-09-16"


def test_a_bad_code_gets_a_clear_message(server, browser):
    browser.get(f"{server.url}/")
    type_into(browser, "hts", "8703.99.99")
    type_into(browser, "origin", "JP")
    type_into(browser, "date", "2025-09-16")
    browser.find_element("id", "ask").click()
    error = wait_for(browser, "#error")
    assert "unknown HTS code 8703.99.99" in error.text
    assert browser.find_element("id", "hts").get_attribute("aria-invalid") == "true"
    assert not browser.find_elements("id", "total")


def test_words_typed_as_the_code_suggest_lines(server, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{server.url}/")
    type_into(browser, "hts", "motor cars cylinder")
    first = wait_for(browser, "#hts-suggestions button.suggestion")
    WebDriverWait(browser, 10).until(lambda driver: first.is_displayed())
    code = first.get_attribute("data-hts")
    first.click()
    assert browser.find_element("id", "hts").get_attribute("value") == code
    assert code.startswith("8703.")

    from selenium.webdriver.common.keys import Keys  # the keyboard alone does it too

    type_into(browser, "hts", "motor cars cylinder")
    WebDriverWait(browser, 10).until(lambda driver: driver.find_element(
        "id", "hts-suggestions").is_displayed())
    browser.find_element("id", "hts").send_keys(Keys.ARROW_DOWN)
    browser.switch_to.active_element.send_keys(Keys.ARROW_DOWN, Keys.ENTER)
    assert browser.find_element("id", "hts").get_attribute("value").startswith("8703.")
    assert browser.find_element("id", "hts").get_attribute("value") != "motor cars cylinder"


@pytest.fixture(scope="module", autouse=True)
def _screenshot_on_request(request, server, browser):
    """With TARIFFKG_SCREENSHOT=FILE.png, save the page of the README's example there."""
    yield
    target = os.environ.get("TARIFFKG_SCREENSHOT")
    if target and shutil.which(CHROMIUM):
        browser.set_window_size(1200, 1000)
        browser.get(f"{server.url}/?hts=8703.23.01&origin=JP&date=2025-08-08&as_known_on="
                    f"{KNOWN}&from=2025-03-01&to=2026-06-30")
        wait_for(browser, "#timeline svg.timeline-chart", timeout=600)
        bottom = browser.execute_script(
            "return document.querySelector('#timeline .legend').getBoundingClientRect().bottom"
            " + window.scrollY")
        frame = browser.execute_script("return window.outerHeight - window.innerHeight")
        browser.set_window_size(1200, int(bottom) + int(frame) + 24)
        browser.save_screenshot(target)
