#!/usr/bin/env python3
"""HTTP server for the download tests: serves files from a directory and misbehaves on request.

Usage: http_test_server.py ROOT LOG [CERT KEY]
Prints the port it listens on (127.0.0.1, chosen by the system) and appends one line per
request to LOG: "<path?query> <Range header or ->". With CERT and KEY (PEM) it speaks HTTPS.

  /files/NAME                   ROOT/NAME, with Range support (206, 416)
  /redirect?to=URL              302 to URL
  query fail=CODE&times=N       the first N requests for this URL answer CODE
        retry_after=S           ... with "Retry-After: S"
  query truncate=N              the first request announces the full length, sends N bytes
                                and closes the connection
  query norange=1               Range headers are ignored (200 with the whole file)
  query stall=1                 headers announcing the body, then nothing (until the client
                                gives up, or 60 s)
  query trickle=N               the body at N bytes a second, one byte at a time
  /token?service=S&scope=SCOPE  a registry bearer token (Docker token authentication) when
                                KSX_TOKEN_KEY and KSX_TOKEN_CERT name a PEM key and its
                                certificate: a JWT signed with RS256 with the certificate in
                                x5c, issuer "ksx-test-issuer", audience S, granting the scope's
                                actions. With KSX_TOKEN_USER=user:password only requests with
                                that Basic authorization get one (401 otherwise). Logged as
                                "/token?... <Authorization user or ->".
"""
import base64
import json
import subprocess
import time
import http.server
import os
import ssl
import sys
import threading
import urllib.parse

ROOT, LOG = sys.argv[1], sys.argv[2]
seen = {}
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_token(self, query):
        user = "-"
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user = base64.b64decode(auth[6:]).decode()
        with lock:
            with open(LOG, "a") as log:
                log.write(f"{self.path} {user.split(':')[0]}\n")
        required = os.environ.get("KSX_TOKEN_USER")
        if required and user != required:
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        access = []
        scopes = query.get("scope", "")
        for scope in scopes.split(" ") if scopes else []:
            kind, name, actions = scope.split(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        claims = {"iss": "ksx-test-issuer", "sub": user.split(":")[0] if user != "-" else "",
                  "aud": query.get("service", ""), "exp": now + 600, "nbf": now - 60,
                  "iat": now, "jti": str(time.time_ns()), "access": access}
        with open(os.environ["KSX_TOKEN_CERT"]) as f:
            pem = f.read()
        der = base64.b64decode("".join(l for l in pem.splitlines() if not l.startswith("-----")))
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}

        def b64(data):
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", os.environ["KSX_TOKEN_KEY"]],
            input=signing_input.encode(), capture_output=True, check=True).stdout
        body = json.dumps({"token": signing_input + "." + b64(signature),
                           "expires_in": 600}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/token":
            self.send_token(query)
            return
        with lock:
            count = seen.get(self.path, 0) + 1
            seen[self.path] = count
            with open(LOG, "a") as log:
                log.write(f"{self.path} {self.headers.get('Range', '-')}\n")

        if "fail" in query and count <= int(query.get("times", "1")):
            self.send_response(int(query["fail"]))
            if "retry_after" in query:
                self.send_header("Retry-After", query["retry_after"])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if url.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", query["to"])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        name = url.path.removeprefix("/files/")
        path = os.path.join(ROOT, name)
        if not url.path.startswith("/files/") or "/" in name or not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, "rb") as f:
            data = f.read()

        start = 0
        requested = self.headers.get("Range")
        if requested and "norange" not in query:
            start = int(requested.removeprefix("bytes=").split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if "stall" in query:
            self.wfile.flush()
            for _ in range(600):
                time.sleep(0.1)
            self.close_connection = True
            return
        if "trickle" in query:
            self.wfile.flush()
            pause = 1.0 / float(query["trickle"])
            try:
                for i in range(len(body)):
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(pause)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
            return
        if "truncate" in query and count == 1:
            self.wfile.write(body[: int(query["truncate"])])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
if len(sys.argv) > 4:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[3], sys.argv[4])
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
