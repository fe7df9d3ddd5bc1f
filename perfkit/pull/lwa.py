"""Login with Amazon: the seller's refresh token exchanged for an access token, with a timeout.

Amazon's SDK (``spapi.auth.lwa_request.AccessTokenCache``) posts with ``requests`` and no timeout:
a token endpoint that takes the connection and never answers hung the whole run (a cron job that
never ends, no line in the log). It also reports every HTTP refusal as ``server_error`` (it tests
``if e.response``, which is False for any 4xx/5xx answer), so a revoked refresh token could not be
told from an outage and was asked for three times. This source gives the SDK's ApiClient the same
``get_lwa_access_token()`` and says which it was: :class:`LwaRefused` (LWA's OAuth ``error`` code,
not worth asking again) or :class:`LwaUnavailable` (no answer, 429, 5xx, or an answer that is not
LWA's: worth another try after a wait).
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

from perfkit.pull.agency import Credentials


class LwaRefused(Exception):
    """LWA refused the exchange: ``code`` is its OAuth error (invalid_grant, invalid_client...)."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(code, description)
        self.code, self.description = code, description


class LwaUnavailable(Exception):
    """No token this time (its argument says why, with what came, whole: the failure line quotes
    it through ``client.sent``); another try may work."""


_MAX_ANSWER = 1 << 16  # an LWA answer is a few hundred bytes; a page larger than this is not LWA's


class AccessTokens:
    """Access tokens for one seller, each kept until shortly before LWA's ``expires_in``."""

    def __init__(self, creds: Credentials, token_url: str, timeout: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._creds, self._url, self._timeout, self._clock = creds, token_url, timeout, clock
        self._token: str | None = None
        self._expires = 0.0

    def get_lwa_access_token(self) -> str:
        """The access token, exchanged anew once the last one is (nearly) expired."""
        if self._token is None or self._clock() >= self._expires:
            self._token, lifetime = self._exchange()
            # Renewed a minute early (half the lifetime for a short-lived one) so a token never
            # expires between being read here and being checked at Amazon.
            self._expires = self._clock() + lifetime - min(60.0, lifetime / 2)
        return self._token

    def _exchange(self) -> tuple[str, float]:
        form = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": self._creds.refresh_token,
                                       "client_id": self._creds.client_id,
                                       "client_secret": self._creds.client_secret}).encode()
        request = urllib.request.Request(self._url, data=form, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as resp:
                status, body = resp.status, resp.read(_MAX_ANSWER)
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read(_MAX_ANSWER)
        except (OSError, ValueError) as exc:  # refused, reset, timed out, a URL that is no URL
            raise LwaUnavailable(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None
        answer = _json(body)
        if status == 200:
            token, lifetime = answer.get("access_token"), answer.get("expires_in", 3600)
            if not isinstance(token, str) or not token:
                raise LwaUnavailable(f"200 without an access_token; it sent: {_text(body)}")
            if isinstance(lifetime, bool) or not isinstance(lifetime, (int, float)) or lifetime <= 0:
                lifetime = 3600  # LWA's access tokens last an hour
            return token, float(lifetime)
        if status == 429 or status >= 500 or not isinstance(answer.get("error"), str):
            # Throttled, failing, or not LWA's OAuth answer (a proxy's page): worth another try.
            raise LwaUnavailable(f"{status}; it sent: {_text(body)}")
        raise LwaRefused(answer["error"], str(answer.get("error_description") or ""))


def _json(body: bytes) -> dict:
    try:
        answer = json.loads(body.decode("utf-8", "replace"))
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _text(body: bytes) -> str:
    """An answer as text; the failure line quotes it through :func:`perfkit.pull.client.sent`
    (one line, printable, credentials hidden, cut to length)."""
    return body.decode("utf-8", "replace").strip() or "(nothing)"
