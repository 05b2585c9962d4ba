"""/_dev/mail in a real Chromium: an email's links are clickable, in its HTML part (a page of
their own, out of the sandbox) and in its text part, and the page breaks no CSP rule."""
import pytest

from supportapp.extensions import db
from supportapp.services.mail_worker import send_due_mail
from supportapp.services.outbox import queue_email
from tests.conftest import make_app
from tests.integration.conftest import serve

# A page, not data: one database is enough.
pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture
def dev_site(app, mail_server):
    """The app served in development on a loopback port, listing `mail_server`'s mail."""
    dev_app = make_app(app.config["SQLALCHEMY_DATABASE_URI"], SUPPORTAPP_ENV="development",
                       DEV_MAIL_DIR=str(mail_server.folder))
    url, server = serve(dev_app)
    yield url
    server.shutdown()
    server.server_close()


def test_links_in_both_parts_open(dev_site, page, note_template):
    """Opened from the list, a message's HTML button opens its page in a new tab, the link
    in its text part is followed, and no CSP violation is reported."""
    queue_email("note:1", "test", "reader@example.com", note_template, n=1,
                link=f"{dev_site}/support")
    db.session.commit()
    send_due_mail()
    # Tall enough that nothing needs scrolling: right after Playwright scrolls, headless
    # Chromium can hand a click below a sandboxed (out-of-process) frame to the frame.
    page.set_viewport_size({"width": 1280, "height": 2000})
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(f"{dev_site}/_dev/mail")
    page.get_by_role("link", name="Note 1").click()
    with page.context.expect_page() as opened:
        page.frame_locator("iframe.dev-mail__html").get_by_role("link", name="Open").click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url == f"{dev_site}/support"
    assert "Support" in tab.title()
    page.locator("pre.dev-mail__text a").click()
    page.wait_for_url(f"{dev_site}/support")
    assert violations == []
