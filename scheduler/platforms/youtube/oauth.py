"""Google's OAuth 2.0 for the YouTube Data API (web server apps): access tokens live 1 hour; a
refresh token comes only with `access_type=offline` (and, for a consent given before, again only
with `prompt=consent`); it is not single-use and states no end, but Google ends it when the
account revokes the app, after 6 months unused, or after 7 days for an app still in "Testing"
publishing status: a channel whose Google app is still in Testing says `api: {oauth_app: testing}`,
and its refresh token ends 7 days after the connection (renewals do not extend it: `check` and
`status` print the day the channel stops, the admins are warned 7 and 1 days ahead). PKCE is
supported; the client authenticates in the form."""

from scheduler.platforms.oauth import OAuthSpec

DAY = 86400.0

OAUTH = OAuthSpec(
    authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
    token_url="https://oauth2.googleapis.com/token",
    # upload videos; captions.insert, videos.list (processing, figures) and channels.list (check) need force-ssl
    scopes=("https://www.googleapis.com/auth/youtube.upload", "https://www.googleapis.com/auth/youtube.force-ssl"),
    access_lifetime=3600,
    client_auth="body",
    authorize_params={"access_type": "offline", "prompt": "consent"},
    # Google's "Using OAuth 2.0": a refresh token of an app in Testing publishing status expires in 7 days
    refresh_lifetime_by_api={"oauth_app": {"testing": 7 * DAY}},
    note="access tokens live 1 hour; refresh tokens renew them (7 days only while the Google app is in Testing status)",
)
