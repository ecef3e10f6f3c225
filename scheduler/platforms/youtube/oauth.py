"""Google's OAuth 2.0 for the YouTube Data API (web server apps): access tokens live 1 hour; a
refresh token comes only with `access_type=offline` (and, for a consent given before, again only
with `prompt=consent`); it is not single-use and states no end, but Google ends it when the
account revokes the app, after 6 months unused, or after 7 days for an app still in "Testing"
publishing status. PKCE is supported; the client authenticates in the form."""

from scheduler.platforms.oauth import OAuthSpec

OAUTH = OAuthSpec(
    authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
    token_url="https://oauth2.googleapis.com/token",
    # upload videos; captions.insert, videos.list (processing, figures) and channels.list (check) need force-ssl
    scopes=("https://www.googleapis.com/auth/youtube.upload", "https://www.googleapis.com/auth/youtube.force-ssl"),
    access_lifetime=3600,
    client_auth="body",
    authorize_params={"access_type": "offline", "prompt": "consent"},
    note="access tokens live 1 hour; refresh tokens renew them (7 days only while the Google app is in Testing status)",
)
