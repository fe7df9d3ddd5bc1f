"""A local Selling Partner API, on 127.0.0.1, that speaks the Reports API 2021-06-30 as Amazon's
published model (amzn/selling-partner-api-models, models/reports-api-model/reports_2021-06-30.json)
describes it, plus the LWA token endpoint and the Tokens API's createRestrictedDataToken.

- ``POST /auth/o2/token`` (form: grant_type=refresh_token, refresh_token, client_id,
  client_secret) -> ``{"access_token", "token_type": "bearer", "expires_in", "refresh_token"}``;
  wrong credentials -> 400 ``{"error": "invalid_grant", "error_description"}``.
- ``POST /reports/2021-06-30/reports`` (CreateReportSpecification) -> 202 ``{"reportId"}``.
- ``GET /reports/2021-06-30/reports/{reportId}`` -> 200 Report (processingStatus IN_QUEUE,
  IN_PROGRESS, DONE, CANCELLED or FATAL; reportDocumentId when DONE, or FATAL with an error
  document).
- ``GET /reports/2021-06-30/documents/{reportDocumentId}`` -> 200 ReportDocument ``{"reportDocumentId",
  "url", "compressionAlgorithm"?}``; a restricted report type's document needs an RDT.
- ``POST /tokens/2021-03-01/restrictedDataToken`` -> ``{"restrictedDataToken", "expiresIn"}``.
- The document itself at ``url``: a pre-signed download, no access token, with its Content-Type
  charset.
- Errors are ErrorList ``{"errors": [{"code", "message", "details"}]}``; a throttled call is 429
  (with ``x-amzn-RateLimit-Limit``, or without: the model lists only x-amzn-RequestId for 429);
  an expired token is 403 Unauthorized (or 401, which the model also lists).
- ``script``: answers a test sets for an operation (``"createReport"``, or
  ``"createReport:REPORT_TYPE"`` for one type), given before anything else, one per call.
- ``expired_downloads``: pre-signed URLs that answer 403 as S3 does once one has expired.
- ``cut_downloads``: report type ("" for any) -> downloads that promise the whole document in
  Content-Length, send half of it and close the connection (a connection lost mid-body).
- ``drop``: operation (or ``"operation:REPORT_TYPE"``) -> calls whose connection is closed without
  any answer (a proxy or load balancer dropping it: the client sees RemoteDisconnected).
- ``stall``: operation -> calls answered only after ``stall_seconds`` of silence (a client with a
  shorter read timeout has hung up by then); for ``"download"`` the headers and half the body come first, then the silence.
- ``script``, ``stall`` and ``drop`` also take ``"token"``: LWA's endpoint answering as a test
  says (a 200 without an access_token, a 429), never answering in time, or closing the connection.
- ``extra_fields``: every JSON object a success carries has fields the model does not define (a
  later version of Amazon's API adds some): a client must ignore them.
- A scripted body may be bytes, with its own ``Content-Type`` in the headers (an HTML error page
  from a proxy, a 200 that is not JSON).

A test says what each report type does (``Plan``) and reads back every request made (``calls``).
"""
from __future__ import annotations

import gzip
import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

CLIENT_ID = "amzn1.application-oa2-client.test"
CLIENT_SECRET = "amzn1.oa2-cs.v1.secret-not-to-print"
RESTRICTED = {"GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING"}


@dataclass
class Plan:
    """What one report type does: the statuses getReport walks through (the last one stays), the
    document's content for the requested range, whether it is gzip-compressed, its charset."""

    statuses: list[str] = field(default_factory=lambda: ["DONE"])
    content: Callable[[str | None, str | None], bytes] = lambda start, end: b""
    gzip: bool = False
    charset: str | None = "UTF-8"   # None: no charset in the Content-Type
    error_document: bytes = b'{"errorDetails": "The report could not be generated."}'


@dataclass
class Stub:
    refresh_tokens: dict[str, str]            # refresh token -> seller
    plans: dict[str, Plan] = field(default_factory=dict)
    throttle: dict[str, int] = field(default_factory=dict)   # operation -> 429s still to answer
    fail_5xx: dict[str, int] = field(default_factory=dict)   # operation -> 503s still to answer
    script: dict[str, list[tuple[int, dict, dict]]] = field(default_factory=dict)  # op -> (status, body, headers)
    throttle_rate: str | None = "0.0167"     # x-amzn-RateLimit-Limit on a 429 (None: no such header)
    expired_status: int = 403                # what an expired access token gets (403 or 401)
    expired_downloads: int = 0               # downloads still to refuse as an expired pre-signed URL
    cut_downloads: dict[str, int] = field(default_factory=dict)  # report type -> downloads to cut in half
    drop: dict[str, int] = field(default_factory=dict)       # op -> connections still to close unanswered
    stall: dict[str, int] = field(default_factory=dict)      # op -> calls still to answer after a silence
    stall_seconds: float = 2.0
    document_url: str | None = None          # a URL getReportDocument gives instead of the stub's own
    token_lifetime: int = 3600
    extra_fields: bool = False               # unknown fields in every successful JSON answer
    expire_tokens_after: int | None = None   # API calls each access token serves before it "expires"
    calls: list[dict] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (operation, throttled|failed|denied|expired)
    reports: dict[str, dict] = field(default_factory=dict)
    documents: dict[str, tuple[bytes, Plan, str]] = field(default_factory=dict)
    tokens: dict[str, dict] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base: str = ""

    def operations(self, name: str) -> list[dict]:
        return [c for c in self.calls if c["operation"] == name]


def _error(code: str, message: str, details: str = "") -> dict:
    return {"errors": [{"code": code, "message": message, "details": details}]}


class _Handler(BaseHTTPRequestHandler):
    stub: Stub

    def log_message(self, *args) -> None:  # quiet test output
        pass

    def _send(self, status: int, body: dict | bytes, ctype: str = "application/json", headers: dict | None = None,
              cut: bool = False) -> None:
        """``cut``: Content-Length says the whole body, half of it is sent, the connection closed."""
        if isinstance(body, dict) and self.stub.extra_fields and status < 300:
            body = {**body, "someFutureField": {"nested": [1, "x"]}, "x-amzn-note": None}
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = dict(headers or {})
        self.send_response(status)
        self.send_header("Content-Type", headers.pop("Content-Type", ctype))
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", secrets.token_hex(8))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data[:len(data) // 2] if cut else data)
        except (BrokenPipeError, ConnectionResetError):  # the client timed out and hung up (``stall``)
            self.close_connection = True
            return
        if cut:
            self.wfile.flush()
            self.close_connection = True

    def _stalled(self, operation: str) -> bool:
        with self.stub.lock:
            if self.stub.stall.get(operation, 0) <= 0:
                return False
            self.stub.stall[operation] -= 1
            self.stub.refused.append((operation, "stalled"))
        return True

    def _dropped(self, operation: str, report_type: str = "") -> bool:
        """Close the connection without a word when the test says so for ``operation``."""
        with self.stub.lock:
            key = next((k for k in (f"{operation}:{report_type}", operation) if self.stub.drop.get(k, 0) > 0), None)
            if key is None:
                return False
            self.stub.drop[key] -= 1
            self.stub.refused.append((operation, "dropped"))
        self.close_connection = True
        return True

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _record(self, operation: str, **extra) -> None:
        with self.stub.lock:
            self.stub.calls.append({"operation": operation, "path": self.path,
                                    "token": self.headers.get("x-amz-access-token"), **extra})

    def _gate(self, operation: str, restricted_ok: bool = False, report_type: str = "") -> str | None:
        """A dropped connection, a scripted answer, throttle, fail, or check the access token; None
        when the call may go on."""
        if self._dropped(operation, report_type):
            return "dropped"
        if self._stalled(operation):
            # Then the answer, as a slow server gives it: a client without a read timeout takes it.
            time.sleep(self.stub.stall_seconds)
        with self.stub.lock:
            queue = self.stub.script.get(f"{operation}:{report_type}") or self.stub.script.get(operation)
            scripted = queue.pop(0) if queue else None
        if scripted:
            status, body, headers = scripted
            self._send(status, body, headers=headers)
            with self.stub.lock:
                self.stub.refused.append((operation, f"scripted {status}"))
            return f"scripted {status}"
        answer = self._answer(operation, restricted_ok)
        if answer:
            with self.stub.lock:
                self.stub.refused.append((operation, answer))
        return answer

    def _answer(self, operation: str, restricted_ok: bool) -> str | None:
        st = self.stub
        with st.lock:
            if st.throttle.get(operation, 0) > 0:
                st.throttle[operation] -= 1
                self._send(429, _error("QuotaExceeded", "You exceeded your quota for the requested resource."),
                           headers={"x-amzn-RateLimit-Limit": st.throttle_rate} if st.throttle_rate else {})
                return "throttled"
            if st.fail_5xx.get(operation, 0) > 0:
                st.fail_5xx[operation] -= 1
                self._send(503, _error("ServiceUnavailable", "Service temporarily unavailable."))
                return "failed"
            token = st.tokens.get(self.headers.get("x-amz-access-token") or "")
            if token is None or (token["kind"] == "rdt" and not restricted_ok):
                self._send(403, _error("Unauthorized", "Access to requested resource is denied.",
                                       "The access token you provided is revoked, malformed or invalid."))
                return "denied"
            token["uses"] += 1
            if st.expire_tokens_after is not None and token["kind"] == "lwa" and token["uses"] > st.expire_tokens_after:
                self._send(st.expired_status, _error("Unauthorized", "Access to requested resource is denied.",
                                                     "The access token you provided has expired."))
                return "expired"
        return None

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        st = self.stub
        path = urllib.parse.urlparse(self.path).path
        body = self._body()
        if path == "/auth/o2/token":
            form = dict(urllib.parse.parse_qsl(body.decode()))
            self._record("token", form_keys=sorted(form))
            if self._dropped("token"):
                return
            if self._stalled("token"):  # then too late: the client hung up (or waits for ever)
                time.sleep(self.stub.stall_seconds)
            with st.lock:
                queue = st.script.get("token")
                scripted = queue.pop(0) if queue else None
            if scripted:
                self._send(scripted[0], scripted[1], headers=scripted[2])
                return
            if (form.get("grant_type") != "refresh_token" or form.get("client_id") != CLIENT_ID
                    or form.get("client_secret") != CLIENT_SECRET or form.get("refresh_token") not in st.refresh_tokens):
                self._send(400, {"error": "invalid_grant", "error_description": "The request has an invalid grant parameter : refresh_token"})
                return
            token = "Atza|" + secrets.token_hex(12)
            with st.lock:
                st.tokens[token] = {"kind": "lwa", "seller": st.refresh_tokens[form["refresh_token"]], "uses": 0}
            self._send(200, {"access_token": token, "refresh_token": form["refresh_token"], "token_type": "bearer",
                             "expires_in": st.token_lifetime})
            return
        if path == "/tokens/2021-03-01/restrictedDataToken":
            spec = json.loads(body or b"{}")
            self._record("createRestrictedDataToken", body=spec)
            if self._gate("createRestrictedDataToken"):
                return
            paths = [r.get("path") for r in spec.get("restrictedResources", [])]
            rdt = "Atz.sprdt|" + secrets.token_hex(12)
            with st.lock:
                st.tokens[rdt] = {"kind": "rdt", "paths": paths, "uses": 0}
            self._send(200, {"restrictedDataToken": rdt, "expiresIn": 3600})
            return
        if path == "/reports/2021-06-30/reports":
            spec = json.loads(body or b"{}")
            self._record("createReport", body=spec)
            if self._gate("createReport", report_type=spec.get("reportType", "")):
                return
            if not spec.get("reportType") or not spec.get("marketplaceIds"):
                self._send(400, _error("InvalidInput", "reportType and marketplaceIds are required."))
                return
            rid = str(50000 + len(st.operations("createReport")))  # never reused, even after a report is forgotten
            with st.lock:
                st.reports[rid] = {"spec": spec, "polls": 0}
            self._send(202, {"reportId": rid}, headers={"x-amzn-RateLimit-Limit": "0.0167"})
            return
        self._send(404, _error("NotFound", f"no such resource {path}"))

    def do_GET(self) -> None:  # noqa: N802
        st = self.stub
        path = urllib.parse.urlparse(self.path).path
        parts = path.strip("/").split("/")
        if parts[:1] == ["download"]:
            self._record("download", authorised=bool(self.headers.get("x-amz-access-token")), document_id=parts[1])
            if self._dropped("download", st.documents[parts[1]][2] if parts[1] in st.documents else ""):
                return
            with st.lock:
                expired, st.expired_downloads = st.expired_downloads > 0, max(st.expired_downloads - 1, 0)
            if expired:  # S3's answer to a pre-signed URL past its 5 minutes
                self._send(403, b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code>"
                                b"<Message>Request has expired</Message></Error>", ctype="application/xml")
                return
            data, plan, _ = st.documents[parts[1]]
            with st.lock:
                key = next((k for k in (st.documents[parts[1]][2], "") if st.cut_downloads.get(k, 0) > 0), None)
                cut = key is not None
                if cut:
                    st.cut_downloads[key] -= 1
                    st.refused.append(("download", "cut"))
            if self._stalled("download"):  # half the body, then silence past the client's timeout
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[:len(data) // 2])
                self.wfile.flush()
                time.sleep(st.stall_seconds)
                self.close_connection = True
                return
            self._send(200, data, ctype="text/plain" if plan.charset is None else f"text/plain; charset={plan.charset}",
                       cut=cut)
            return
        if parts[:3] == ["reports", "2021-06-30", "reports"] and len(parts) == 4:
            self._record("getReport", report_id=parts[3])
            known = st.reports.get(parts[3])
            if self._gate("getReport", report_type=known["spec"]["reportType"] if known else ""):
                return
            report = st.reports.get(parts[3])
            if report is None:
                self._send(404, _error("NotFound", "Report not found."))
                return
            spec = report["spec"]
            plan = st.plans.get(spec["reportType"], Plan())
            status = plan.statuses[min(report["polls"], len(plan.statuses) - 1)]
            report["polls"] += 1
            out = {"reportId": parts[3], "reportType": spec["reportType"], "processingStatus": status,
                   "createdTime": "2026-12-01T00:00:00Z", "marketplaceIds": spec["marketplaceIds"]}
            for k in ("dataStartTime", "dataEndTime"):
                if spec.get(k):
                    out[k] = spec[k]
            if status in ("DONE", "FATAL"):
                doc = "amzn1.tortuga.4." + parts[3]
                raw = plan.content(spec.get("dataStartTime"), spec.get("dataEndTime")) if status == "DONE" else plan.error_document
                data = gzip.compress(raw) if plan.gzip and status == "DONE" else raw
                with st.lock:
                    st.documents[doc] = (data, plan, spec["reportType"])
                out["reportDocumentId"] = doc
            self._send(200, out, headers={"x-amzn-RateLimit-Limit": "2.0"})
            return
        if parts[:3] == ["reports", "2021-06-30", "documents"] and len(parts) == 4:
            self._record("getReportDocument", document_id=parts[3])
            doc = st.documents.get(parts[3])
            restricted = doc is not None and doc[2] in RESTRICTED
            if self._gate("getReportDocument", restricted_ok=restricted, report_type=doc[2] if doc else ""):
                return
            if doc is None:
                self._send(404, _error("NotFound", "Document not found."))
                return
            token = st.tokens[self.headers["x-amz-access-token"]]
            if restricted and (token["kind"] != "rdt" or path not in token["paths"]):
                self._send(403, _error("Unauthorized", "Access to requested resource is denied.",
                                       "A restricted report type's document needs a Restricted Data Token for this path."))
                return
            out = {"reportDocumentId": parts[3], "url": st.document_url or f"{st.base}/download/{parts[3]}"}
            if doc[1].gzip and not doc[0].startswith(b"{\"errorDetails"):
                out["compressionAlgorithm"] = "GZIP"
            self._send(200, out)
            return
        self._send(404, _error("NotFound", f"no such resource {path}"))


def start(stub: Stub) -> tuple[ThreadingHTTPServer, str]:
    """Serve ``stub`` on a free port of 127.0.0.1; returns the server and its base URL."""
    handler = type("Handler", (_Handler,), {"stub": stub})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    stub.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, stub.base
