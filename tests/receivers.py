"""Local stand-ins for the services an alert goes to, on 127.0.0.1, started by the tests:
an SMTP server (the protocol's few commands, enough for a client that sends one message) and an
HTTPS server with a self-signed certificate (made by openssl), for Apprise plugins that speak
only HTTPS. Each keeps what it received; nothing reaches the internet."""
from __future__ import annotations

import email
import email.policy
import json
import shutil
import socketserver
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _Smtp(socketserver.StreamRequestHandler):
    got: list[dict]

    def _say(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        self._say("220 127.0.0.1 test SMTP")
        sender, rcpts = None, []
        while line := self.rfile.readline():
            cmd = line.decode("utf-8", "replace").strip()
            verb = cmd.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self._say("250 127.0.0.1")
            elif verb == "MAIL":
                sender = cmd.split(":", 1)[1].strip(" <>")
                self._say("250 OK")
            elif verb == "RCPT":
                rcpts.append(cmd.split(":", 1)[1].strip(" <>"))
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 end with .")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                self.got.append({"from": sender, "to": rcpts,
                                 "message": email.message_from_bytes(data, policy=email.policy.default)})
                self._say("250 queued")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:  # RSET, NOOP
                self._say("250 OK")


def smtp_server() -> tuple[socketserver.ThreadingTCPServer, list[dict]]:
    got: list[dict] = []
    handler = type("Smtp", (_Smtp,), {"got": got})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, got


def json_server(status: int = 200) -> tuple[ThreadingHTTPServer, list[dict]]:
    """A plain HTTP receiver of JSON posts (Apprise's json:// webhook), answering ``status``."""
    got: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            got.append({"path": self.path, "json": json.loads(body), "size": len(body)})
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler), got


def https_server(tmp: Path) -> tuple[ThreadingHTTPServer, list[dict]] | None:
    """An HTTPS receiver with a fresh self-signed certificate (None without openssl)."""
    if not shutil.which("openssl"):
        return None
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    server, got = json_server(202)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, got


def send_to_teams(tmp: Path, alert) -> tuple[list[str], list[dict]]:
    """``alert`` sent to Teams Workflows at a local HTTPS receiver (Apprise's plugin takes the flow's
    host from the URL and speaks only HTTPS; ``?verify=no`` for the self-signed certificate): the
    failures and what the receiver got. Skips the test without openssl."""
    import pytest

    from perfkit.report.alerts import send

    started = https_server(tmp)
    if started is None:
        pytest.skip("openssl is needed to make the receiver's certificate")
    server, got = started
    try:
        failures = send(alert, [f"workflows://127.0.0.1:{server.server_address[1]}/WF1/SIG1/?verify=no"])
    finally:
        server.shutdown()
    return failures, got


# What each service's robot webhook answers a message it accepted (its published docs): Slack's
# incoming webhook a plain "ok"; Feishu and Lark {"code": 0, ...}; DingTalk and WeCom {"errcode": 0, ...}.
ACCEPTED = {
    "hooks.slack.com": (200, "text/html", b"ok"),
    "open.feishu.cn": (200, "application/json", b'{"code": 0, "msg": "success", "data": {}}'),
    "open.larksuite.com": (200, "application/json", b'{"code": 0, "msg": "success", "data": {}}'),
}
OTHER = (200, "application/json", b'{"errcode": 0, "errmsg": "ok"}')


def intercepting_proxy(tmp: Path, refuse: dict[str, tuple[int, str, bytes]] | None = None
                       ) -> tuple[socketserver.ThreadingTCPServer, list[dict]] | None:
    """An HTTPS proxy that answers every CONNECT itself: it never opens a connection onwards, ends
    the tunnel's TLS with a self-signed certificate (the client must not verify it: Apprise's
    ``?verify=no``) and keeps each request (the host the client asked for, path, JSON body). For
    plugins with the service's host built in (DingTalk, Feishu, WeCom, Slack), routed here through
    ``HTTPS_PROXY``. Each service gets its own accepted answer (``ACCEPTED``); a request whose path
    holds a key of ``refuse`` gets that answer instead (status, content type, body). None without openssl."""
    if not shutil.which("openssl"):
        return None
    cert, key = tmp / "proxy-cert.pem", tmp / "proxy-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=proxy",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    got: list[dict] = []

    class Tunnel(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            first = self.rfile.readline().decode("latin-1").split()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            if len(first) < 2 or first[0] != "CONNECT":
                self.wfile.write(b"HTTP/1.1 405 only CONNECT\r\nContent-Length: 0\r\n\r\n")
                return
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            with context.wrap_socket(self.connection, server_side=True) as tls:
                f = tls.makefile("rb")
                method, path, _ = f.readline().decode("latin-1").split(" ", 2)
                headers = {}
                while (line := f.readline().decode("latin-1")) not in ("\r\n", "\n", ""):
                    k, _, v = line.partition(":")
                    headers[k.strip().lower()] = v.strip()
                body = f.read(int(headers.get("content-length") or 0))
                got.append({"tunnel": first[1], "method": method, "path": path, "json": json.loads(body or b"null")})
                host = first[1].rsplit(":", 1)[0]
                status, ctype, answer = next((a for k, a in (refuse or {}).items() if k in path),
                                             ACCEPTED.get(host, OTHER))
                tls.sendall(f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nConnection: close\r\n"
                            f"Content-Length: {len(answer)}\r\n\r\n".encode() + answer)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Tunnel)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, got
