"""The Chromium that tests marked `browser` drive (a pytest plugin, see tests/conftest.py).

Found once per run by scripts/chromium.py, the same search `make test` uses. Without one,
browser tests are skipped and the summary says so in one line; with CI=true they fail.
`SUPPORTAPP_CHROMIUM=none` pretends there is no browser, to try that path.
"""
import os

import pytest

from scripts.chromium import (
    HOW_TO_GET_ONE,
    LAUNCH_ARGS,
    SETTING,
    ChromiumSettingError,
    find_chromium,
)

NO_BROWSER = f"no Chromium found ({HOW_TO_GET_ONE})"
_found = pytest.StashKey[tuple]()


def _chromium(config):
    """(path, None, False), or (None, why not, whether that is a mistake to fail on); looked
    up on first use and kept for the run."""
    if _found not in config.stash:
        try:
            path = find_chromium()
        except ChromiumSettingError as exc:
            config.stash[_found] = (None, str(exc), True)
        else:
            forced = os.environ.get(SETTING, "").strip().lower() == "none"
            why = "no Chromium found (SUPPORTAPP_CHROMIUM=none)" if forced else NO_BROWSER
            config.stash[_found] = (path, None if path else why, False)
    return config.stash[_found]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before any fixture of a browser test: skip it without Chromium, or fail it with CI=true."""
    if item.get_closest_marker("browser") is None:
        return
    path, why, mistake = _chromium(item.config)
    if path:
        return
    if mistake or os.environ.get("CI") == "true":
        pytest.fail(f"browser test cannot run: {why}" + ("" if mistake else "; CI=true needs it"),
                    pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="module")
def browser(request):
    """A headless Chromium shared by a test module's tests (mark them `browser`); each test
    opens its own context (`browser.new_context()`), so none sees another's cookies."""
    from playwright.sync_api import sync_playwright

    path, why, _ = _chromium(request.config)
    assert path, f"mark the test `browser` so that it is skipped without Chromium ({why})"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=LAUNCH_ARGS)
        yield launched
        launched.close()


# What a desktop Chrome says: headless Chromium says "HeadlessChrome", which the beacon
# rightly drops as a bot.
DESKTOP_CHROME = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/156.0.0.0 Safari/537.36")


@pytest.fixture
def page(browser):
    """A fresh page (its own context, so its own cookies) in US English, as a desktop
    Chrome, failing any wait after 15 s."""
    context = browser.new_context(locale="en-US", user_agent=DESKTOP_CHROME)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def pytest_terminal_summary(terminalreporter, config):
    """One line saying why the browser tests did not run, when they were skipped for that."""
    if _found not in config.stash or config.stash[_found][0]:
        return
    why = config.stash[_found][1]
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "browser" in r.keywords]
    if skipped:
        terminalreporter.write_line(f"browser tests skipped ({len(skipped)}): {why}",
                                    yellow=True, bold=True)
