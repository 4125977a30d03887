#!/usr/bin/python3
"""A backend that records every request it receives, byte for byte.

Standard library only.  For the request-smuggling tests (t/security/): httpd
proxies to it (ProxyPass), and the tests read back exactly what arrived on
the wire, so a header value carrying CR LF that split one request into two
shows up as two recorded requests.

    /usr/bin/python3 t/provider/backend.py --host 127.0.0.1 --port PORT \
        [--log F] [--exit-with-parent]

It prints "backend listening on http://HOST:PORT" once the socket is bound
(--port 0 picks a free port) and exits cleanly on SIGTERM/SIGINT.

It parses HTTP/1.x itself (no http.server), with keep-alive and pipelining:
every request line + header block that arrives on a connection is one
record, whatever its path, malformed or not.  Each record holds

    method, target, version      from the request line
    headers                      [[name, value], ...] in arrival order
    raw                          request line and header block, as received
    body                         the body read (Content-Length or chunked)
    connection, index            which connection, n-th request on it
    malformed                    true when the request line or a header
                                 line could not be parsed

Every recorded request is answered 200 with its record as JSON (a malformed
one 400, then the connection is closed).

Control (not recorded):
GET  /_control/requests   {"requests": [records, oldest first]}
POST /_control/reset      forgets every record
"""

import argparse
import itertools
import json
import os
import signal
import socket
import socketserver
import sys
import threading
import time

import lifeline

MAX_LINE = 65536
MAX_HEADERS = 200
MAX_BODY = 16 * 1024 * 1024


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        self.connections = itertools.count(1)

    def add(self, record):
        with self.lock:
            self.requests.append(record)

    def snapshot(self):
        with self.lock:
            return json.loads(json.dumps(self.requests))

    def reset(self):
        with self.lock:
            self.requests = []


def _read_chunked(rfile):
    chunks = []
    while True:
        line = rfile.readline(MAX_LINE)
        if not line:
            raise ValueError("connection closed inside a chunked body")
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while rfile.readline(MAX_LINE) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        chunks.append(rfile.read(size))
        rfile.readline(MAX_LINE)
        if sum(map(len, chunks)) > MAX_BODY:
            raise ValueError("chunked body too large")


class Handler(socketserver.StreamRequestHandler):
    timeout = 60  # idle keep-alive connections are dropped after this

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self):
        conn_id = next(self.server.recorder.connections)
        for index in itertools.count(1):
            try:
                if not self.one_request(conn_id, index):
                    return
            except (OSError, ValueError) as exc:
                self.server.log("%s connection %d: %s" % (self.client_address[0], conn_id, exc))
                return

    def one_request(self, conn_id, index):
        line = self.rfile.readline(MAX_LINE)
        while line in (b"\r\n", b"\n"):  # RFC 9112 §2.2: ignore empty lines before a request
            line = self.rfile.readline(MAX_LINE)
        if not line:
            return False
        header_lines = []
        while len(header_lines) <= MAX_HEADERS:
            h = self.rfile.readline(MAX_LINE)
            if h in (b"\r\n", b"\n", b""):
                break
            header_lines.append(h)
        raw = line + b"".join(header_lines) + b"\r\n"
        text = line.decode("latin-1").rstrip("\r\n")
        parts = text.split(" ")
        malformed = len(parts) != 3 or not parts[2].startswith("HTTP/1.")
        method, target, version = (parts + ["", "", ""])[:3] if not malformed else (text, "", "")
        headers = []
        for h in header_lines:
            name, sep, value = h.decode("latin-1").rstrip("\r\n").partition(":")
            if not sep or not name or name != name.strip():
                malformed = True
            headers.append([name, value.strip()])
        lower = {}
        for name, value in headers:
            lower.setdefault(name.lower(), value)
        body = b""
        if not malformed:
            if "chunked" in lower.get("transfer-encoding", "").lower():
                body = _read_chunked(self.rfile)
            else:
                length = int(lower.get("content-length") or 0)
                if length < 0 or length > MAX_BODY:
                    raise ValueError("Content-Length out of range")
                body = self.rfile.read(length) if length else b""
        keep_alive = not malformed and lower.get("connection", "").lower() != "close" and (
            version == "HTTP/1.1" or lower.get("connection", "").lower() == "keep-alive")
        if not malformed and target.startswith("/_control/"):
            self.control(method, target, keep_alive)
            return keep_alive
        record = {"method": method, "target": target, "version": version, "headers": headers,
                  "raw": raw.decode("latin-1"), "body": body.decode("latin-1"),
                  "connection": conn_id, "index": index, "malformed": malformed,
                  "time": time.time()}
        self.server.recorder.add(record)
        self.server.log('%s "%s" connection %d #%d%s' % (
            self.client_address[0], text[:200], conn_id, index, " MALFORMED" if malformed else ""))
        self.respond(400 if malformed else 200, record, keep_alive)
        return keep_alive

    def control(self, method, target, keep_alive):
        path = target.split("?", 1)[0]
        if (method, path) == ("GET", "/_control/requests"):
            return self.respond(200, {"requests": self.server.recorder.snapshot()}, keep_alive)
        if (method, path) == ("POST", "/_control/reset"):
            self.server.recorder.reset()
            return self.respond(200, {"reset": True}, keep_alive)
        return self.respond(404, {"error": "unknown control endpoint %s %s" % (method, path)},
                            keep_alive)

    def respond(self, status, obj, keep_alive):
        body = (json.dumps(obj, indent=1) + "\n").encode("utf-8")
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
        head = ("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n"
                % (status, reason, len(body), "" if keep_alive else "Connection: close\r\n"))
        self.wfile.write(head.encode("ascii") + body)
        self.wfile.flush()


class BackendServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, log_file=None):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)
        self.recorder = Recorder()
        self._log_lock = threading.Lock()
        self._log_file = log_file

    def log(self, line):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        with self._log_lock:
            out = self._log_file or sys.stderr
            out.write("%s backend %s\n" % (stamp, line))
            out.flush()

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        self.log("%s connection error: %s: %s" % (client_address[0], type(exc).__name__, exc))


def main(argv=None):
    ap = argparse.ArgumentParser(description="Recording HTTP backend for mod_oauthclient tests")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--log", help="log file (default: stderr)")
    ap.add_argument("--exit-with-parent", action="store_true",
                    help="stop when the process that started this one is gone")
    args = ap.parse_args(argv)
    log_file = open(args.log, "a", buffering=1) if args.log else None
    server = BackendServer((args.host, args.port), log_file)

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.exit_with_parent:
        lifeline.exit_with_parent(lambda: stop(None, None))
    host, port = server.server_address[:2]
    host_port = ("[%s]" % host if ":" in host else host) + ":%d" % port
    server.log("starting on http://%s (pid %d)" % (host_port, os.getpid()))
    print("backend listening on http://%s" % host_port, flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        server.log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
