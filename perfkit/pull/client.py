"""The Reports API (2021-06-30) through Amazon's own SDK (``amzn-sp-api``), patiently.

Every call is retried on a throttled (429) or failing (5xx, connection) answer, waiting longer
each time (from ``backoff_seconds``, doubling, at most ``max_backoff_seconds``, and never less
than the operation's rate from ``x-amzn-RateLimit-Limit`` allows); an access token Amazon calls
expired or invalid (403) is renewed once and the call made again. A restricted report's document
is asked for with a Restricted Data Token for that one document (Tokens API). Anything else is a
:class:`PullError` naming the operation and Amazon's own code and message, never a credential.
"""
from __future__ import annotations

import http.client
import json
import logging
import random
import re
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from datetime import datetime

from perfkit.core.encodings import charset
from perfkit.core.errors import PerfkitError
from perfkit.pull.agency import Credentials
from perfkit.pull.lwa import AccessTokens, LwaRefused, LwaUnavailable


class PullError(PerfkitError):
    """Amazon refused or failed a call after the retries: one line, no credentials. ``status``:
    the HTTP status Amazon gave last (None for a network failure or a model mismatch)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class DocumentTooBig(PullError):
    """A report document over ``[pull] max_document_mb`` (downloaded, or once unpacked)."""


_CHUNK = 1 << 20  # read and unpack a document a megabyte at a time


def _limit(settings: dict) -> int:
    return int(float(settings["max_document_mb"]) * 1024 * 1024)


def _too_big(document: str, settings: dict, unpacked: bool) -> DocumentTooBig:
    mb = settings["max_document_mb"]
    return DocumentTooBig(f"{document}: more than {mb} MB{' once unpacked' if unpacked else ''} "
                          f"([pull] max_document_mb = {mb}); not kept: if the report really is that big, raise "
                          "max_document_mb in the config file's [pull]")


def gunzip(raw: bytes, limit: int) -> bytes | None:
    """A gzip stream (one member or several, as gzip.decompress reads) unpacked a megabyte at a
    time, so a small download that unpacks to gigabytes (a decompression bomb) stops at ``limit``:
    None then. zlib.error or EOFError for a damaged or cut stream."""
    out, data = bytearray(), raw
    while data[:2] == b"\x1f\x8b":
        unpack = zlib.decompressobj(16 + zlib.MAX_WBITS)
        chunk = b"-"
        while not unpack.eof and (data or chunk):
            chunk = unpack.decompress(data, _CHUNK)
            data = unpack.unconsumed_tail
            out += chunk
            if len(out) > limit:
                return None
        if not unpack.eof:
            raise EOFError("the stream ends before its end marker")
        data = unpack.unused_data
    return bytes(out)


class _UrlExpired(Exception):
    """The pre-signed document URL was refused (S3's 403 once its 5 minutes are over)."""


class _Lost(Exception):
    """A download that failed on the way (5xx, 429, a connection refused, reset or timed out, a
    body cut short): worth another try. Its argument says what happened, for the failure line."""


# Network trouble while a call is made or its answer read. http.client's IncompleteRead and
# BadStatusLine are not OSErrors (RemoteDisconnected and socket timeouts are).
_NETWORK = (OSError, http.client.HTTPException)


def _network(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {sent(str(exc))}" if str(exc) else type(exc).__name__


class LoginError(PullError):
    """Login with Amazon gave no access token: nothing else of the account can be pulled."""


def _sdk():
    """Amazon's SDK, imported on first use. Its modules call ``logging.basicConfig(INFO)`` when
    imported; the handler that adds to the root logger is taken off again, so a quiet cron log
    stays quiet (the SDK's own logger is silenced: this module reports every failure itself)."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    import spapi.api.reports_v2021_06_30.reports_api as reports_api
    import spapi.api.tokens_v2021_03_01.tokens_api as tokens_api
    from spapi.api_client import ApiClient
    from spapi.configuration import Configuration
    from spapi.models.reports_v2021_06_30.create_report_specification import CreateReportSpecification
    from spapi.models.tokens_v2021_03_01 import CreateRestrictedDataTokenRequest, RestrictedResource
    from spapi.rest import ApiException

    for handler in root.handlers[:]:
        if handler not in before:
            root.removeHandler(handler)
    root.setLevel(level)
    # Every SDK model and Configuration hangs a stream handler on the "spapi" and "urllib3" loggers
    # and resets their level; the loggers that write are silenced at the source instead.
    for name in ("spapi.auth.lwa_request", "spapi.rest", "urllib3.connectionpool", "urllib3.util.retry"):
        logging.getLogger(name).disabled = True
    return {"ReportsApi": reports_api.ReportsApi, "TokensApi": tokens_api.TokensApi, "ApiClient": ApiClient,
            "Configuration": Configuration, "ApiException": ApiException, "Spec": CreateReportSpecification,
            "RdtRequest": CreateRestrictedDataTokenRequest, "Resource": RestrictedResource}


class _FixedToken:
    """An access token the SDK's ApiClient sends as is (a Restricted Data Token)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_lwa_access_token(self) -> str:
        return self._token


_SHOWN = 200  # characters of an answer quoted in a failure line


def sent(body: bytes | str | None, secrets: tuple[str, ...] = ()) -> str:
    """What a server sent, for one line: whitespace runs as one space, control and format
    characters gone (a terminal must not read escapes from it), credentials hidden (before it is
    cut, so no half of one is left), at most 200 characters."""
    text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else str(body or "")
    text = without_secrets("".join(c for c in " ".join(text.split()) if c.isprintable()), secrets)
    return (text[:_SHOWN] + "…" if len(text) > _SHOWN else text) or "(nothing)"


def _amazon_error(exc, secrets: tuple[str, ...] = ()) -> str:
    """Amazon's ErrorList as ``Code: message (details)``; otherwise the reason and what came
    instead (a proxy's HTML error page, say)."""
    try:
        first = json.loads(exc.body or b"{}")["errors"][0]
        details = f" ({first['details']})" if first.get("details") else ""
        return f"{first.get('code', '')}: {first.get('message', '')}{details}"
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return f"{exc.reason or 'no reason given'}; it sent: {sent(exc.body, secrets)}"


# Login with Amazon's tokens (access "Atza|", refresh "Atzr|", restricted data "Atz.sprdt|") and
# client secrets ("amzn1.oa2-cs.v1."), wherever a server's message might echo one.
_TOKEN = re.compile(r"Atz[a-z.]*\|[^\s\"',;)]+|amzn1\.oa2-cs\.v\d+\.[^\s\"',;)]+")


def without_secrets(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with the account's own secrets and anything shaped like an LWA token hidden."""
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, "…")
    return _TOKEN.sub("…", text)


def _what_to_do(status: int) -> str:
    """What the user can do about a refusal Amazon will give again if asked again."""
    if status in (401, 403):
        return ("ask the seller to authorise the app again in Seller Central (Apps and Services > Manage Your "
                "Apps), with the role this report needs")
    if status == 404:
        return "Amazon does not know it; the next run asks afresh"
    return ("Amazon refused the request as made: not retried; check the account's marketplace in account.json "
            "and that Amazon offers this report there")


def _lwa_refused(exc: LwaRefused) -> str:
    """LWA's refusal as it gave it (its OAuth error code) and what fixes that one."""
    said = f"{exc.code}: {sent(exc.description)}" if exc.description else exc.code
    if exc.code == "invalid_grant":  # a refresh token revoked, expired (app re-authorised) or mistyped
        todo = ("the refresh token was revoked or is wrong: ask the seller to authorise the app again (Seller Central > "
                "Apps and Services > Manage Your Apps) and put the new refresh token in the config file")
    elif exc.code in ("invalid_client", "unauthorized_client"):
        todo = "check the app's client id and secret ([sp_api] in the config file, or PERFKIT_LWA_CLIENT_ID/SECRET)"
    else:
        todo = "check the refresh token, the client id and secret, and the token_url"
    return f"Login with Amazon refused the credentials ({said}); {todo}"


def _rate_wait(headers) -> float:
    """Seconds between calls that the operation's usage plan allows (0 when not stated)."""
    try:  # urllib3's headers are case-insensitive; a plain dict is searched by hand
        found = headers.get("x-amzn-RateLimit-Limit") if hasattr(headers, "get") else None
        if found is None and headers:
            found = next((v for k, v in dict(headers).items() if k.lower() == "x-amzn-ratelimit-limit"), None)
        rate = float(found or 0)
    except (TypeError, ValueError):
        return 0.0
    return 1.0 / rate if rate > 0 else 0.0


class ReportsClient:
    """One seller's Reports API: create a report, read its status, fetch its document."""

    def __init__(self, creds: Credentials, endpoint: str, token_url: str, settings: dict,
                 sleep: Callable[[float], None] = time.sleep, account: str = "",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._sdk = _sdk()
        self._creds, self._endpoint, self._token_url = creds, endpoint.rstrip("/"), token_url
        self._settings, self._sleep, self._clock = settings, sleep, clock
        self._account = account  # named in every failure line: the one a human must look at
        self._answer: bytes | str | None = None  # the body the SDK last read, quoted when it is not the model's
        self._client = self._api_client(self._token_cache())
        self.retries = 0  # throttled or failed calls retried, for the run's summary

    def _for(self) -> str:
        return f" for {self._account}" if self._account else ""

    def _document(self, document_id: str) -> str:
        return f"{self._account}'s report document {document_id}" if self._account else f"report document {document_id}"

    def _token_cache(self):
        # perfkit's own LWA exchange (pull/lwa.py: the SDK's has no timeout); this class does the waiting.
        return AccessTokens(self._creds, self._token_url, self._timeout()[1])

    def _api_client(self, tokens):
        config = self._sdk["Configuration"]()
        for logger in config.logger.values():  # its stream handler off again (see _sdk)
            logger.removeHandler(config.logger_stream_handler)
        config.host = self._endpoint
        # The SDK's ApiClient asks for a token as it is made: it is made with a placeholder and
        # given the real source after, so the first exchange happens inside _call (retried there).
        config.access_token_cache = _FixedToken("")
        client = self._sdk["ApiClient"](configuration=config)
        config.access_token_cache = tokens
        # urllib3 would retry a GET three times at once on a dropped connection, and a POST not at
        # all: off, so every call waits by this class's backoff and the failure names the real cause.
        client.rest_client.pool_manager.connection_pool_kw["retries"] = False
        deserialize = client.deserialize

        def remembered(response, response_type):  # the raw answer kept, to quote one the model refuses
            self._answer = getattr(response, "data", None)
            return deserialize(response, response_type)
        client.deserialize = remembered
        return client

    def _wait(self, attempt: int, floor: float = 0.0) -> None:
        base = float(self._settings["backoff_seconds"]) * 2 ** attempt
        wait = min(float(self._settings["max_backoff_seconds"]), max(base, floor))
        self.retries += 1
        self._sleep(wait * (1 + random.random() * 0.1))

    def _call(self, what: str, fn: Callable[[], object], renew: Callable[[], None] | None = None):
        """``fn()`` with backoff on 429/5xx and one token renewal on 401 or 403 (the model lists
        both for a token that is expired, revoked or malformed). ``renew`` gets the new token
        (by default a new LWA access token; a restricted call's is a new Restricted Data Token)."""
        ApiException = self._sdk["ApiException"]
        attempts, renewed, lwa_failures = int(self._settings["max_attempts"]), False, 0
        last, what = "", what + self._for()
        for attempt in range(max(attempts, 1)):
            # no wait after the last attempt: nothing follows it but the failure line
            pause = self._wait if attempt + 1 < attempts else (lambda *_: None)
            self._answer = None
            try:
                return fn()
            except ApiException as exc:
                if not exc.status and self._answer is not None:  # the SDK could not read a date in the answer
                    raise self._not_the_model(what, exc.reason) from None
                if not exc.status:  # no HTTP answer at all (the SDK's SSLError): the network's trouble
                    last = sent(exc.reason)
                    pause(attempt)
                    continue
                last = f"{exc.status} {_amazon_error(exc, self._creds.secrets())}"
                if exc.status in (401, 403) and not renewed:
                    renewed = True  # Amazon says the token expired (or was revoked): get a new one, once
                    if renew is not None:
                        renew()
                    else:
                        self._client.configuration.access_token_cache = self._token_cache()
                    continue
                if exc.status == 429 or (exc.status or 0) >= 500:
                    pause(attempt, _rate_wait(exc.headers) if exc.status == 429 else 0.0)
                    continue
                raise PullError(f"{what}: Amazon answered {last}; {_what_to_do(exc.status or 0)}", exc.status) from None
            except LwaRefused as exc:  # LWA will refuse the same credentials again: not asked twice
                raise LoginError(without_secrets(_lwa_refused(exc), self._creds.secrets())) from None
            except LwaUnavailable as exc:  # no answer, throttled or failing: two more tries, then stop
                lwa_failures += 1
                if lwa_failures >= 3:
                    raise LoginError(f"Login with Amazon could not be reached or gave no token (last: "
                                     f"{without_secrets(sent(exc.args[0]), self._creds.secrets())}); check the "
                                     "token_url and this machine's network; the next run tries again") from None
                pause(attempt)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                # The SDK's models refuse an answer that is not Amazon's model (a required field
                # missing, not JSON at all: a proxy's page with a 200): not retried, quoted. With no
                # answer read, the error is not Amazon's: a traceback under --debug, as any bug.
                if self._answer is None:
                    raise
                raise self._not_the_model(what, str(exc) if isinstance(exc, ValueError)
                                          else "not the object the model describes") from None
            except _NETWORK as exc:  # connection refused, reset, cut, timed out: Amazon's side or the network's
                last = _network(exc)
                pause(attempt)
            except Exception as exc:  # urllib3's MaxRetryError and kin are not OSErrors
                if type(exc).__module__.startswith("urllib3"):
                    last = _network(exc)
                    pause(attempt)
                    continue
                raise
        raise PullError(f"{what}: gave up after {attempts} attempts (last: "
                        f"{without_secrets(last, self._creds.secrets())}); the next run resumes")

    def _not_the_model(self, what: str, why: str) -> PullError:
        body = sent(self._answer, self._creds.secrets())
        # the SDK names the field by its Python name (`report_id`): said as the model does, reportId
        why = re.sub(r"`([a-z]+(?:_[a-z]+)+)`", lambda m: re.sub(r"_([a-z])", lambda c: c[1].upper(), m[1]), sent(why))
        return PullError(f"{what}: Amazon's answer does not follow the Reports API model ({why}); it sent: "
                         f"{body}; the next run tries again")

    def _timeout(self) -> tuple[float, float]:
        """(connect, read) seconds. A pair, as the SDK ignores a single number that is not an
        int (60.0 from the config meant no timeout at all: a silent server hung the run)."""
        seconds = float(self._settings["timeout_seconds"])
        return seconds, seconds

    def create(self, report_type: str, marketplace_id: str, start: datetime | None, end: datetime | None,
               label: str | None = None) -> str:
        """A new report's id; ``label`` names it in a failure (the report type and its month)."""
        spec = self._sdk["Spec"](report_type=report_type, marketplace_ids=[marketplace_id],
                                 data_start_time=start, data_end_time=end)
        api = self._sdk["ReportsApi"](self._client)
        out = self._call(f"createReport {label or report_type}",
                         lambda: api.create_report(spec, _request_timeout=self._timeout()))
        return str(out.report_id)

    def status(self, report_id: str) -> tuple[str, str | None]:
        """The report's processingStatus and reportDocumentId (None until there is one)."""
        api = self._sdk["ReportsApi"](self._client)
        out = self._call(f"getReport {report_id}", lambda: api.get_report(report_id, _request_timeout=self._timeout()))
        return str(out.processing_status), out.report_document_id

    def document(self, document_id: str, restricted: bool) -> tuple[bytes, str | None]:
        """The document's bytes (gunzipped when Amazon compressed them) and its declared charset."""
        client, renew = self._client, None
        if restricted:
            client = self._api_client(_FixedToken(self._restricted_token(document_id)))
            renew = self._new_rdt(client, document_id)
        api = self._sdk["ReportsApi"](client)
        attempts, refused, lost = max(int(self._settings["max_attempts"]), 1), 0, 0
        doc, issued = None, 0.0
        while True:
            # A pre-signed URL lasts document_url_seconds (5 minutes): one refused, or old enough to
            # have expired while the backoff waited, is asked for anew.
            if doc is None or self._clock() - issued >= float(self._settings["document_url_seconds"]):
                doc = self._call(f"getReportDocument {document_id}",
                                 lambda: api.get_report_document(document_id, _request_timeout=self._timeout()), renew)
                issued = self._clock()
            try:
                raw, charset = self._download(doc.url, document_id)
                break
            except _UrlExpired as exc:
                refused, code, doc = refused + 1, exc.args[0], None
                if refused >= 3:
                    raise PullError(f"{self._document(document_id)}: its download was refused ({code}) 3 times, each "
                                    "with a new URL from Amazon; the next run tries again", code) from None
            except _Lost as exc:
                lost += 1
                if lost >= attempts:
                    raise PullError(f"{self._document(document_id)}: the download failed {attempts} times (last: "
                                    f"{exc.args[0]}); the next run downloads it again") from None
                self._wait(lost - 1)
        # GZIP as Amazon declares it, or a gzip stream sent without the declaration
        if (doc.compression_algorithm or "").upper() == "GZIP" or raw[:2] == b"\x1f\x8b":
            try:
                if raw and raw[:2] != b"\x1f\x8b":
                    raise EOFError("not a gzip stream")
                unpacked = gunzip(raw, _limit(self._settings))
            except (zlib.error, EOFError) as exc:
                raise PullError(f"{self._document(document_id)}: Amazon said GZIP but it does not unpack ({exc}); "
                                "the next run downloads it again") from None
            if unpacked is None:
                raise _too_big(self._document(document_id), self._settings, unpacked=True)
            raw = unpacked
        return raw, charset

    def _new_rdt(self, client, document_id: str) -> Callable[[], None]:
        """A refused Restricted Data Token (it lasts an hour) replaced by a new one."""
        def renew() -> None:
            client.configuration.access_token_cache = _FixedToken(self._restricted_token(document_id))
        return renew

    def _restricted_token(self, document_id: str) -> str:
        path = f"/reports/2021-06-30/documents/{document_id}"
        body = self._sdk["RdtRequest"](restricted_resources=[self._sdk["Resource"](method="GET", path=path)])
        api = self._sdk["TokensApi"](self._client)
        out = self._call("createRestrictedDataToken",
                         lambda: api.create_restricted_data_token(body, _request_timeout=self._timeout()))
        return str(out.restricted_data_token)

    def _read(self, resp, document_id: str) -> bytes:
        """The answer's bytes, a megabyte at a time, refused past max_document_mb."""
        limit, out = _limit(self._settings), bytearray()
        while chunk := resp.read(_CHUNK):
            out += chunk
            if len(out) > limit:
                raise _too_big(self._document(document_id), self._settings, unpacked=False)
        # http.client ends a read early without a word when the connection closes before the
        # Content-Length it announced (a chunked body cut short raises IncompleteRead itself).
        declared = resp.headers.get("Content-Length")
        if declared and declared.strip().isdigit() and len(out) < int(declared):
            raise http.client.IncompleteRead(bytes(out), int(declared) - len(out))
        return bytes(out)

    def _download(self, url: str, document_id: str) -> tuple[bytes, str | None]:
        """One download of the pre-signed document URL (no token): _Lost on 5xx, 429 and network
        errors, the body cut short included, which :meth:`document` retries with backoff. Only an
        https URL is opened (http too when the API itself is plain http, a local test server):
        urllib would read a ``file://`` URL from this machine's disk."""
        allowed = ("https", "http") if self._endpoint.startswith("http://") else ("https",)
        scheme = url.partition(":")[0].lower()
        if scheme not in allowed:
            raise PullError(f"{self._document(document_id)}: Amazon's document URL starts {scheme or '(none)'}://, "
                            "not https://; not downloaded (check the endpoint in the config file)")
        try:
            with urllib.request.urlopen(url, timeout=self._timeout()[1]) as resp:
                # perfkit's own reading of Content-Type: an empty "charset=" is no charset
                return self._read(resp, document_id), charset(resp.headers.get("Content-Type"))
        except urllib.error.HTTPError as exc:
            if exc.code < 500 and exc.code != 429:
                raise _UrlExpired(exc.code) from None
            raise _Lost(f"{exc.code} {sent(exc.reason)}") from None
        except http.client.IncompleteRead as exc:  # its own str() would quote every byte received
            raise _Lost(f"IncompleteRead: the connection closed {exc.expected} bytes short, after "
                        f"{len(exc.partial)}") from None
        except _NETWORK as exc:
            raise _Lost(_network(exc)) from None
