"""The published index.html in headless Chromium (Debian's chromium + chromedriver, via selenium):
tables render, a header click sorts, and an injected ``<script>`` name is shown as text, never run."""

import shutil
from pathlib import Path

import pytest
from test_leaderboard import image_run, run
from test_publish import EVIL

from tabbench.results.publish import publish_site

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="Debian's chromium and chromium-driver are not installed (`make test` installs them)",
)


@pytest.fixture
def browser(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,1800",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def published(tmp_path) -> Path:
    records = [run(EVIL, s, 0.90 + s / 100) for s in range(3)]
    records += [run("b-model", s, 0.95) for s in range(2)] + [run("a-model", 0, 0.70)]
    records += [run("a-model", 0, 0.6, dataset="wine"), run(EVIL, 0, 0.8, dataset="wine")]
    records += [image_run("pixel", "resnet18", p, s, 0.6 + p / 10) for p in (0, 1) for s in (0, 1)]
    publish_site(records, tmp_path / "site", store=tmp_path / "s.sqlite")
    return tmp_path / "site" / "index.html"


def column_texts(driver, table, index: int) -> list[str]:
    return [
        row.find_elements("tag name", "td")[index].text
        for row in table.find_elements("css selector", "tbody tr")
    ]


def test_tables_render_sort_on_click_and_show_names_as_text(browser, tmp_path):
    page = published(tmp_path)
    browser.get(page.as_uri())
    assert browser.title == "tabbench leaderboard"
    assert browser.execute_script("return window.pwned") is None, "the injected script ran"
    table = browser.find_element("css selector", "#dataset-iris table")
    headers = [th.text for th in table.find_elements("css selector", "thead th")]
    assert headers[:3] == ["rank", "vs leader", "model"]
    model = headers.index("model")
    assert column_texts(browser, table, model) == [
        "b-model",
        EVIL,
        "a-model",  # 0.70, tied on the mean with the next: by name
        "pixel + resnet18 (pretrained)",
        "pixel + resnet18 (scratch)",
    ]  # shown as the literal text, in rank order

    table.find_elements("css selector", "thead th")[model].click()  # sort by name, A to Z
    assert column_texts(browser, table, model) == sorted(
        column_texts(browser, table, model), key=str.lower
    )
    assert column_texts(browser, table, model)[0] == EVIL  # "<" sorts before letters
    header = table.find_elements("css selector", "thead th")[model]
    assert header.get_attribute("aria-sort") == "ascending"
    header.click()  # and back, Z to A
    assert header.get_attribute("aria-sort") == "descending"
    assert column_texts(browser, table, model)[0] == "pixel + resnet18 (scratch)"

    seeds = headers.index("runs")
    table.find_elements("css selector", "thead th")[seeds].click()  # numbers sort as numbers
    assert [int(v) for v in column_texts(browser, table, seeds)] == [1, 2, 2, 2, 3]

    assert browser.find_element("css selector", "#across-datasets table").is_displayed()
    assert len(browser.find_elements("css selector", ".plots svg")) == 3  # 2 bars + 1 heatmap
    assert browser.execute_script("return window.pwned") is None
    screenshot = tmp_path / "page.png"
    browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
