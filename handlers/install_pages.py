"""The pages a person sees in the browser when installing the app (OAuth): after Slack sent
them back, what was done and the next step, in the deployment's language. Bolt's own pages
are English ("Thank you!", "Oops, Something Went Wrong!") and, on success, leave for Slack
at once, so the next step was never read."""

from __future__ import annotations

import html
from collections.abc import Sequence

from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.response import BoltResponse

from domain.i18n import Locale, Translator

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em;"
    "line-height:1.5}code{background:#f3f3f3;padding:0 .2em}"
)


def _page(t: Translator, title: str, paragraphs: Sequence[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="{t.locale}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def success_page(t: Translator, *, team_id: str | None, app_id: str | None) -> str:
    e = html.escape
    slack = f"slack://app?team={team_id}&id={app_id}" if team_id and app_id else "slack://open"
    web = f"https://app.slack.com/client/{team_id}" if team_id else "https://app.slack.com/"
    open_app, in_browser = t("Open Slack"), t("Slack in the browser")
    return _page(
        t,
        t("Samverkan is installed"),
        [
            e(
                t(
                    "Next step: invite Samverkan to the channel where the forum meets by "
                    "typing {command} in that channel. I will then explain there how to set "
                    "up the forum.",
                    command="/invite @Samverkan",
                )
            ).replace("/invite @Samverkan", "<code>/invite @Samverkan</code>"),
            f'<a href="{e(slack)}">{e(open_app)}</a> · '
            f'<a href="{e(web)}" target="_blank" rel="noopener">{e(in_browser)}</a>',
        ],
    )


# What a failed installation may say it was: bolt's own reasons and the errors Slack sends
# back to the redirect. The redirect's ``error`` is anyone's to write in a link to our page
# ("?error=Your account is locked, call …"): any other is shown as ``unknown_error``, never
# as written.
REASONS = frozenset(
    {
        "access_denied",
        "invalid_browser",
        "invalid_state",
        "missing_code",
        "invalid_code",
        "storage_error",
        "invalid_scope",
        "invalid_team_for_non_distributed_app",
        "unapproved_app",
        "org_login_required",
        "restricted_action",
        "team_added_to_org",
    }
)


def failure_page(t: Translator, *, reason: str, install_path: str) -> str:
    e = html.escape
    again = t("Try again")
    shown = reason if reason in REASONS else "unknown_error"
    return _page(
        t,
        t("The installation was not completed"),
        [
            e(t("Slack did not confirm the installation ({reason}).", reason=shown)),
            f'<a href="{e(install_path)}">{e(again)}</a>',
        ],
    )


class _Pages:
    """Bolt's callbacks with our pages: its own response's status and headers (the state
    cookie deleted), our page as the body."""

    def __init__(self, locale: Locale) -> None:
        self.t = Translator(locale)

    def success(self, args: SuccessArgs) -> BoltResponse:
        default = args.default.success(args)
        page = success_page(
            self.t, team_id=args.installation.team_id, app_id=args.installation.app_id
        )
        return BoltResponse(status=default.status, headers=default.headers, body=page)

    def failure(self, args: FailureArgs) -> BoltResponse:
        default = args.default.failure(args)
        page = failure_page(self.t, reason=args.reason, install_path=args.settings.install_path)
        return BoltResponse(status=default.status, headers=default.headers, body=page)


def callback_options(locale: Locale) -> CallbackOptions:
    """Bolt's callbacks with our pages (:class:`_Pages`)."""
    pages = _Pages(locale)
    return CallbackOptions(success=pages.success, failure=pages.failure)
