"""LinkedIn's 3-legged OAuth 2.0: access tokens live 60 days; refresh tokens (365 days, not
renewed by a refresh) are issued only to approved Marketing partners, so an ordinary app's
channel must be connected again before its 60 days end (the admins are warned). No PKCE for
confidential web apps."""

from scheduler.platforms.oauth import OAuthSpec

DAY = 86400.0

OAUTH = OAuthSpec(
    authorize_url="https://www.linkedin.com/oauth/v2/authorization",
    token_url="https://www.linkedin.com/oauth/v2/accessToken",
    # post as the organization, read its posts' figures
    scopes=("w_organization_social", "r_organization_social"),
    access_lifetime=60 * DAY,
    pkce=False,
    refresh_tokens=False,  # partners only; used when the answer carries one
    refresh_lifetime=365 * DAY,
    client_auth="body",
    note="access tokens live 60 days; refresh tokens (365 days) only for approved partner apps",
)
