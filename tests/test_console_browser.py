"""The console in a real browser: Debian's Chromium, headless, driven by Playwright.

A person's session, in order: open the console, make calls with the openai SDK and watch
them appear without a reload, expand one and read what was answered, load a scenario file
with the button, see the rule answer and its use counted, look at the account, the files,
the coverage report, advance the virtual clock, and reset. Then 10,000 journal entries:
the page still shows one page of them and walks to the next.

Without Chromium the test fails, never skips: `.ci/run` installs Debian's `chromium`.
The screenshot it takes is the README's (`MOCKSHOT_CONSOLE_SCREENSHOT=docs/console.png`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import openai
import pytest

from mockshot import ServedMock, Settings
from mockshot.state.journal import JournalEntry

from .conftest import KEY

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
WEATHER = [{"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}]


def chromium() -> str:
    found = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        pytest.fail("the console's browser test needs Debian's chromium "
                    "(apt-get install chromium; .ci/run installs it)")
    return found


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=chromium(), args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser):
    opened = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" and
              "status of 400" not in m.text else None)  # the broken scenario's 400 is wanted
    opened.on("dialog", lambda dialog: dialog.accept())  # the reset button asks first
    opened.errors = errors
    yield opened
    opened.close()


@pytest.fixture
def served():
    with ServedMock(Settings(port=0, clock="virtual", log_level="warning",
                             journal_size=10_000)) as running:
        yield running


def sdk(served) -> openai.OpenAI:
    return openai.OpenAI(api_key=KEY, base_url=f"{served.url}/v1", max_retries=0)


def rows(page) -> int:
    return page.locator("#journal-rows tr.call").count()


def open_entry(page, entry_id: int):
    page.click(f"#journal-rows tr.call[data-id='{entry_id}']")
    detail = page.locator(f"#journal-rows tr.detail[data-for='{entry_id}']")
    detail.locator("[data-testid=summary]").wait_for()
    return detail


def test_a_session_in_the_console(served, page, tmp_path):
    page.goto(f"{served.url}/_mockshot/")
    page.wait_for_selector("#live:not(.off)")
    assert page.inner_text("#journal-rows") == "No calls yet."
    client = sdk(served)

    said = client.chat.completions.create(model="kimi-k2.6", messages=[
        {"role": "user", "content": "What should I read next?"}])
    page.wait_for_function("document.querySelectorAll('#journal-rows tr.call').length === 1")
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in
                       client.chat.completions.create(model="kimi-k2.6", stream=True, messages=[
                           {"role": "user", "content": "Tell me a story"}]) if chunk.choices)
    page.wait_for_function("document.querySelectorAll('#journal-rows tr.call').length === 2")
    assert page.locator("#journal-rows tr.call").first.get_attribute("data-id") == "2"

    first = open_entry(page, 1)
    assert "What should I read next?" in first.locator("[data-testid=request]").inner_text()
    assert said.choices[0].message.content in first.locator("[data-testid=summary]").inner_text()
    story = open_entry(page, 2)
    assert streamed in story.locator("[data-testid=summary]").inner_text()
    frames = story.locator("[data-testid=frames] tbody tr").count()
    assert frames > 3 and "replay seed" in story.inner_text()

    broken = tmp_path / "broken.yaml"
    broken.write_text("scenario: broken\nrules:\n  - name: x\n    reply: {finish_reason: 7}\n")
    page.set_input_files("#scenario-file", str(broken))
    page.wait_for_selector("#notice.bad:not([hidden])")
    assert "invalid scenario" in page.inner_text("#notice")  # and nothing was added:
    assert httpx.get(f"{served.url}/_mockshot/rules").json()["data"] == []
    page.set_input_files("#scenario-file", str(ROOT / "scenarios" / "tool-call-loop.yaml"))
    page.wait_for_selector("#notice:not(.bad):not([hidden])")
    assert "Loaded scenario file" in page.inner_text("#notice")
    called = client.chat.completions.create(model="kimi-k2.6", tools=WEATHER, messages=[
        {"role": "user", "content": "Weather in Paris?"}])
    assert called.choices[0].message.tool_calls[0].function.name == "get_weather"
    page.wait_for_function("document.querySelectorAll('#journal-rows tr.call').length === 3")
    assert "call-get-weather" in page.locator("#journal-rows tr.call").first.inner_text()
    for entry_id in (1, 2):  # a second click folds an entry away
        page.click(f"#journal-rows tr.call[data-id='{entry_id}']")
    assert page.locator("#journal-rows tr.detail").count() == 0
    tool = open_entry(page, 3)
    assert 'get_weather({"city": "Paris", "unit": "celsius"})' in tool.inner_text()
    assert "call-get-weather (its use 1" in tool.inner_text()
    page.screenshot(path=str(screenshot_path(tmp_path)), full_page=False)

    page.click("#tabs button[data-tab=rules]")
    page.wait_for_selector("#rule-rows tr[data-testid=rule]")
    rule = page.locator("#rule-rows tr", has_text="call-get-weather")
    assert rule.locator("td").nth(3).inner_text() == "1"  # used once
    assert page.locator("[data-testid=scenario-state]").first.inner_text() == "started"

    uploaded = client.files.create(file=("notes.txt", b"Meeting notes."), purpose="file-extract")
    balance = httpx.get(f"{served.url}/v1/users/me/balance",
                        headers={"Authorization": f"Bearer {KEY}"}).json()["data"]
    page.click("#tabs button[data-tab=accounts]")
    page.wait_for_selector("[data-testid=account]")
    shown = page.inner_text("[data-testid=account] [data-testid=available]")
    assert shown == f"${balance['available_balance']:.4f}"
    page.click("#tabs button[data-tab=resources]")
    page.wait_for_selector("[data-testid=files]")
    assert uploaded.id in page.inner_text("[data-testid=files]")

    page.click("#tabs button[data-tab=coverage]")
    frame = page.frame_locator("#coverage-frame")
    assert "/v1/chat/completions" in frame.locator("body").inner_text()

    before = page.inner_text("#clock")
    page.fill("#advance-seconds", "3600")
    page.click("#advance")
    page.wait_for_function(f"document.querySelector('#clock').textContent !== {before!r}")

    page.click("#tabs button[data-tab=journal]")
    page.wait_for_selector("#journal-rows tr.call")
    page.click("#reset")
    page.wait_for_function("document.querySelector('#journal-rows').innerText === 'No calls yet.'")
    assert page.errors == []


def screenshot_path(tmp_path: Path) -> Path:
    wanted = os.environ.get("MOCKSHOT_CONSOLE_SCREENSHOT")
    return Path(wanted) if wanted else tmp_path / "console.png"


def test_ten_thousand_entries_page_without_freezing(served, page):
    store = served.mock.store
    for index in range(10_000):
        store.sync(store.settle(JournalEntry("POST /v1/chat/completions", KEY,
                                             429 if index % 7 == 0 else 200, float(index),
                                             1.0, index, model="kimi-k2.6")))
    page.goto(f"{served.url}/_mockshot/")
    page.wait_for_selector("#journal-rows tr.call")
    assert rows(page) == 50
    assert page.inner_text("[data-testid=total]").startswith("10000 call(s)")
    page.click("#journal-pager [data-testid=older]")
    page.wait_for_selector("#journal-rows tr.call[data-id='9950']")
    assert rows(page) == 50
    page.fill("#filters input[name=status]", "429")
    page.wait_for_function("document.querySelector('[data-testid=total]')"
                           ".textContent.startsWith('1429 call(s)')")
    statuses = page.locator("#journal-rows [data-testid=status]").all_inner_texts()
    assert set(statuses) == {"429"} and len(statuses) == 50
    assert page.errors == []
