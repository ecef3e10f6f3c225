"""Channels that stay connected: the token vault (`vault.py`, key in `keys.py`), credentials
resolved vault first (`credentials.py`), connecting with the platform's OAuth flow
(`connect.py`), renewal before expiry by the daemon (`renew.py`) and the warnings where renewal
is impossible (`expiry.py`). Generic: each platform's rules are its `OAuthSpec`
(`scheduler/platforms/<name>/oauth.py`)."""
