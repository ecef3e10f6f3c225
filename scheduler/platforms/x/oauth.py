"""X's OAuth 2.0 (authorization code with PKCE), as its documentation gives it: access tokens
live 2 hours; only the `offline.access` scope brings a refresh token, and each refresh token is
single-use (a renewal answers a new pair and the old refresh token dies)."""

from scheduler.platforms.oauth import OAuthSpec

OAUTH = OAuthSpec(
    authorize_url="https://x.com/i/oauth2/authorize",
    token_url="https://api.x.com/2/oauth2/token",
    # post and upload, read the account (check, figures), and a refresh token
    scopes=("tweet.read", "tweet.write", "users.read", "media.write", "offline.access"),
    access_lifetime=2 * 3600,
    rotating=True,
    client_auth="basic",  # a confidential client (the console's app); public clients send client_id in the body
    note="access tokens live 2 hours; single-use refresh tokens renew them",
)
