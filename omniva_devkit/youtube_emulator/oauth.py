"""The two OAuth 2.0 endpoints an installed app uses, and the bearer-token check.

``GET /o/oauth2/auth`` consents at once and redirects to the loopback
``redirect_uri`` with a code; ``POST /token`` serves the ``authorization_code``
grant (with PKCE) and the ``refresh_token`` grant; ``POST /revoke`` revokes a refresh
token (with the access tokens issued from it) or an access token, as Google's does. So google-auth-oauthlib's flow
and google-auth's token refresh run over real HTTP. With ``strict`` only access
tokens issued here that have not expired are accepted; otherwise any bearer token is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from urllib.parse import urlencode, urlsplit

from omniva_devkit.youtube_emulator.errors import ApiError, OAuthError
from omniva_devkit.youtube_emulator.store import Store

#: The OAuth client the emulator knows by default (``YouTubeEmulator.client_secrets()`` writes it out).
DEFAULT_CLIENT_ID = "omniva-emulator.apps.googleusercontent.com"
DEFAULT_CLIENT_SECRET = "omniva-emulator-client-secret"
#: The fixed token Omniva's emulator mode sends (``omniva_resources.youtube.EMULATOR_TOKEN``).
#: The emulator issues it to no one else, never expires it, and real YouTube never sees it.
DEV_TOKEN = "omniva-emulator"


class OAuthServer:
    """Authorization codes, access and refresh tokens (kept in the store, so they survive a restart)."""

    def __init__(
        self,
        store: Store,
        clients: dict[str, str],
        token_ttl_s: int,
        strict: bool = True,
        dev_token: str | None = DEV_TOKEN,
    ) -> None:
        self.store = store
        self.clients = clients
        self.token_ttl_s = token_ttl_s
        self.strict = strict
        self.dev_token = dev_token
        self.token_grants: list[str] = []  # grant_type of every successful /token call
        self._issued_from: dict[str, str] = {}  # access token -> its refresh token (this run's)

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working (401) until refreshed."""
        with self.store.lock:
            self.store.access_tokens = {t: 0.0 for t in self.store.access_tokens}
            self.store.save()

    def authorize(self, query: dict[str, str]) -> str:
        """Consent at once: the redirect (with a code) the user's browser would get."""
        client_id = query.get("client_id", "")
        redirect_uri = query.get("redirect_uri", "")
        if client_id not in self.clients:
            raise ApiError(401, "The OAuth client was not found.", "invalid_client")
        host = urlsplit(redirect_uri).hostname
        if urlsplit(redirect_uri).scheme != "http" or host not in ("localhost", "127.0.0.1", "::1"):
            raise ApiError(
                400, "redirect_uri must be a loopback address for installed apps.", "redirect_uri_mismatch"
            )
        if query.get("response_type") != "code":
            raise ApiError(400, "response_type must be 'code'.", "unsupported_response_type")
        code = "4/" + secrets.token_urlsafe(24)
        with self.store.lock:
            self.store.codes[code] = {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scope": query.get("scope", ""),
                "challenge": query.get("code_challenge"),
                "method": query.get("code_challenge_method", "plain"),
            }
        sep = "&" if "?" in redirect_uri else "?"
        return f"{redirect_uri}{sep}{urlencode({'state': query.get('state', ''), 'code': code, 'scope': query.get('scope', '')})}"

    def revoke(self, form: dict[str, str]) -> None:
        """Google's ``/revoke``: a refresh token takes the access tokens issued from it along;
        an unknown token is ``invalid_token`` (400)."""
        token = form.get("token", "")
        with self.store.lock:
            if token in self.store.refresh_tokens:
                del self.store.refresh_tokens[token]
                for access in [a for a, r in self._issued_from.items() if r == token]:
                    self.store.access_tokens.pop(access, None)
                    del self._issued_from[access]
                self.store.revoked.append("refresh_token")
            elif token in self.store.access_tokens:
                del self.store.access_tokens[token]
                self.store.revoked.append("access_token")
            else:
                raise OAuthError(400, "invalid_token", "Token expired or revoked")
            self.store.save()

    def _issue(self, client_id: str, scope: str, refresh_token: str | None) -> dict:
        token = "ya29.emu-" + secrets.token_urlsafe(24)
        self.store.access_tokens[token] = time.time() + self.token_ttl_s
        out = {
            "access_token": token,
            "expires_in": self.token_ttl_s,
            "token_type": "Bearer",
            "scope": scope,
        }
        if refresh_token is None:
            refresh_token = "1//emu-" + secrets.token_urlsafe(32)
            self.store.refresh_tokens[refresh_token] = {"client_id": client_id, "scope": scope}
            out["refresh_token"] = refresh_token
        self._issued_from[token] = refresh_token
        self.store.save()
        return out

    def token(self, form: dict[str, str]) -> dict:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if self.clients.get(client_id) != secret:
            raise OAuthError(401, "invalid_client", "The OAuth client was not found.")
        grant = form.get("grant_type")
        with self.store.lock:
            if grant == "authorization_code":
                pending = self.store.codes.pop(form.get("code", ""), None)
                if pending is None or pending["client_id"] != client_id:
                    raise OAuthError(400, "invalid_grant", "Malformed auth code.")
                if form.get("redirect_uri") != pending["redirect_uri"]:
                    raise OAuthError(400, "redirect_uri_mismatch", "Bad Request")
                if pending["challenge"]:
                    verifier = form.get("code_verifier", "")
                    if pending["method"] == "S256":
                        digest = hashlib.sha256(verifier.encode()).digest()
                        computed = base64.urlsafe_b64encode(digest).decode().rstrip("=")
                    else:
                        computed = verifier
                    if computed != pending["challenge"]:
                        raise OAuthError(400, "invalid_grant", "Invalid code verifier.")
                out = self._issue(client_id, pending["scope"], None)
            elif grant == "refresh_token":
                known = self.store.refresh_tokens.get(form.get("refresh_token", ""))
                if known is None or known["client_id"] != client_id:
                    raise OAuthError(400, "invalid_grant", "Token has been expired or revoked.")
                out = self._issue(client_id, known["scope"], form.get("refresh_token"))
            else:
                raise OAuthError(400, "unsupported_grant_type", f"Invalid grant_type: {grant}")
            self.token_grants.append(grant)
            return out

    def token_is_valid(self, token: str) -> bool:
        if not self.strict:
            return bool(token)
        if self.dev_token and hmac.compare_digest(token.encode(), self.dev_token.encode()):
            return True
        with self.store.lock:
            return self.store.access_tokens.get(token, 0.0) > time.time()
