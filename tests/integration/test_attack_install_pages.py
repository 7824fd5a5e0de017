"""Attack review of the installer's pages (handlers/install_pages.py), through the real app:
the redirect back from Slack is anyone's to craft as a link to the bot's own address. Its
page reflects no markup and no text of the link's (a phishing line on our page), and sends
the browser nowhere else."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

import pytest

from sandbox.webapi import SlackWebApiStub
from tests.integration.test_oauth_install import NoRedirect, oauth_bot  # noqa: F401 (fixture)


def _failure(url: str, **query: str) -> tuple[int, str, str]:
    opener = urllib.request.build_opener(NoRedirect)
    try:
        response = opener.open(
            f"{url}/slack/oauth_redirect?{urllib.parse.urlencode(query)}", timeout=10
        )
        return response.status, response.read().decode(), response.headers.get("Location", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), exc.headers.get("Location", "")


@pytest.mark.parametrize(
    "error",
    [
        '<script>alert(1)</script>"><img src=x onerror=alert(1)>',
        "Ditt konto är låst. Ring 08-123 45 67 eller gå till https://evil.example",
    ],
)
def test_a_crafted_error_is_not_shown_on_the_page(
    oauth_bot: tuple[str, object],  # noqa: F811 (the fixture)
    slack: SlackWebApiStub,
    error: str,
) -> None:
    url, _runtime = oauth_bot
    _status, page, location = _failure(url, error=error, state="x")
    assert "Installationen blev inte klar" in page
    assert "<script" not in page  # (escaped before too)
    assert "alert(1)" not in page  # not even as text
    assert "evil.example" not in page and "Ring 08" not in page and "låst" not in page
    assert "(unknown_error)" in page
    assert not location  # nowhere else
    assert 'href="/slack/install"' in page


def test_slacks_own_errors_are_still_named(
    oauth_bot: tuple[str, object],  # noqa: F811 (the fixture)
    slack: SlackWebApiStub,
) -> None:
    _status, page, _location = _failure(oauth_bot[0], error="access_denied")
    assert "(access_denied)" in page
    _status, page, _location = _failure(oauth_bot[0], code="c", state="forged")
    assert "(invalid_browser)" in page or "(invalid_state)" in page
