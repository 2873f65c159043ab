#!/usr/bin/env python3
"""A small HTTP/1.1 proxy in front of a real registry, misbehaving in one chosen way, for pfhost's
registry tests. Listens on 127.0.0.1 (port 0: the kernel picks; the port is printed on stdout).

    registry_proxy.py UPSTREAM_PORT MODE

MODE:
  pass            forward everything
  drop-after-patch  forward the first PATCH, then close the client's connection without the answer
                  (the registry has the chunk; the client must ask where the upload stands)
  cut-patch       read half of the second PATCH's body, then close the connection (nothing of it forwarded;
                  the first chunk arrived, so the client can go on from the registry's offset)
  stall-blobs     serve half of every blob over 1 MiB, then hold the connection open without a byte more
  lie-manifest    add a space to every manifest served (still JSON, no longer the digest asked for)
  huge-size       claim 2**62 bytes for the first layer (or manifest, of an index) of every manifest served
  short-size      claim one byte less than it has for the first layer (or manifest, of an index) of every manifest served
  busy:N          answer the first N requests with 503 and Retry-After: 0 (nothing forwarded)
  corrupt-blobs   flip the first byte of every blob body served by GET .../blobs/sha256:...
  huge-manifest   answer every GET of a manifest with 5 MiB (over the 4 MiB limit)
  redirect-loop   answer every GET of a blob with a redirect to itself
  redirect-file   answer every GET of a blob with a redirect to file:///etc/passwd
  huge-token      as bearer:USER:PASS, but the token service answers 2 MiB
  trickle-manifests  send every manifest body one byte a second
  silent-manifests  answer no GET of a manifest at all (hold the connection open, send nothing)
  elsewhere:USER:PASS  as bearer:USER:PASS, but every upload's Location points at a second listener on
                  127.0.0.2 (another origin), which forwards like pass but answers 400 DENIED to any request
                  carrying an Authorization header (credentials sent to a host that is not the registry)
  bearer:USER:PASS  demand a Bearer token (WWW-Authenticate: Bearer realm=http://.../token), given by
                  GET /token to Basic USER:PASS; requests with the token are forwarded
Every request line is logged on stderr. Stops when stdin closes (the test ends).
"""
import base64
import json
import http.client
import http.server
import sys
import threading
import time
import urllib.parse

UPSTREAM = int(sys.argv[1])
MODE = sys.argv[2]
STATE = {"patched": False, "patches": 0, "requests": 0}
LOCK = threading.Lock()
TOKEN = "pfhost-test-token"


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        sys.stderr.write("%s\n" % (format % args))

    def body(self, limit=None):
        length = int(self.headers.get("Content-Length") or 0)
        if limit is not None:
            return self.rfile.read(min(length, limit))
        return self.rfile.read(length) if length else b""

    def first_patch(self):
        if self.command != "PATCH":
            return False
        with LOCK:
            if STATE["patched"]:
                return False
            STATE["patched"] = True
            return True

    def nth_patch(self):
        if self.command != "PATCH":
            return 0
        with LOCK:
            STATE["patches"] += 1
            return STATE["patches"]

    def handle_any(self):
        port = self.server.server_address[1]
        elsewhere = self.server is not SERVER
        if elsewhere and self.headers.get("Authorization"):
            self.body()
            return self.reply(400, b'{"errors":[{"code":"DENIED","message":"credentials sent to another host"}]}',
                              head=self.command == "HEAD")
        if (MODE.startswith("bearer:") or MODE.startswith("elsewhere:") or MODE.startswith("huge-token:")) and not elsewhere:
            user, password = MODE.split(":", 2)[1:]
            if self.path.startswith("/token") and MODE.startswith("huge-token:"):
                return self.reply(200, b'{"token":"' + b"x" * (2 << 20) + b'"}')
            if self.path.startswith("/token"):
                expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}')
                return self.reply(200, ('{"token":"%s"}' % TOKEN).encode())
            if self.headers.get("Authorization") != "Bearer " + TOKEN:
                self.body()
                challenge = f'Bearer realm="http://127.0.0.1:{port}/token",service="test",scope="repository:x:pull"'
                return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"token needed"}]}',
                                  [("WWW-Authenticate", challenge)], head=self.command == "HEAD")
        if MODE.startswith("busy:"):
            with LOCK:
                STATE["requests"] += 1
                busy = STATE["requests"] <= int(MODE.split(":")[1])
            if busy:
                self.body()
                return self.reply(503, b'{"errors":[{"code":"UNAVAILABLE","message":"busy"}]}', [("Retry-After", "0")],
                                  head=self.command == "HEAD")
        if MODE == "cut-patch" and self.nth_patch() == 2:
            self.body(limit=int(self.headers.get("Content-Length") or 0) // 2)
            self.close_connection = True
            self.connection.shutdown(2)
            return
        payload = self.body()
        if MODE == "huge-manifest" and self.command == "GET" and "/manifests/" in self.path:
            return self.reply(200, b'{"x":"' + b" " * (5 << 20) + b'"}', [("Content-Type", "application/vnd.oci.image.manifest.v1+json")])
        if MODE in ("redirect-loop", "redirect-file") and self.command == "GET" and "/blobs/sha256:" in self.path:
            target = self.path if MODE == "redirect-loop" else "file:///etc/passwd"
            return self.reply(307, b"", [("Location", target)])
        if MODE == "silent-manifests" and self.command == "GET" and "/manifests/" in self.path:
            time.sleep(3600)
            return
        upstream = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("content-length", "connection")}
        headers["Content-Length"] = str(len(payload))
        upstream.request(self.command, self.path, body=payload if self.command not in ("GET", "HEAD") else None,
                         headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        upstream.close()
        if MODE == "drop-after-patch" and self.first_patch():
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if (MODE == "stall-blobs" and self.command == "GET" and "/blobs/sha256:" in self.path
                and answer.status == 200 and len(data) > 1 << 20):
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            time.sleep(3600)
            return
        if self.command == "GET" and "/manifests/" in self.path and answer.status == 200:
            if MODE == "trickle-manifests":
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                for byte in data:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(1)
                return
            if MODE == "lie-manifest":
                data = data + b" "
            elif MODE == "huge-size":
                document = json.loads(data)
                # A snapshot index (store format 2) lists manifests, a manifest layers.
                document["layers" if "layers" in document else "manifests"][0]["size"] = 2 ** 62
                data = json.dumps(document).encode()
            elif MODE == "short-size":
                document = json.loads(data)
                document["layers" if "layers" in document else "manifests"][0]["size"] -= 1
                data = json.dumps(document).encode()
        if (MODE == "corrupt-blobs" and self.command == "GET" and "/blobs/sha256:" in self.path
                and answer.status == 200 and data):
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        extra = [(k, v) for k, v in answer.getheaders() if k.lower() not in ("content-length", "connection", "transfer-encoding")]
        if MODE.startswith("elsewhere:") and (elsewhere or "/blobs/uploads/" in self.path):
            other = "http://127.0.0.2:%d" % OTHER.server_address[1]
            # The registry's Location may be absolute (on this proxy's host) or a path: point it at the other listener.
            def moved(v):
                parts = urllib.parse.urlsplit(v)
                return other + parts.path + ("?" + parts.query if parts.query else "")
            extra = [(k, moved(v) if k.lower() == "location" else v) for k, v in extra]
        self.reply(answer.status, data, extra, head=self.command == "HEAD",
                   length=answer.getheader("Content-Length") if self.command == "HEAD" else None)

    def reply(self, status, data, headers=(), head=False, length=None):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", length if length is not None else str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)

    do_GET = do_HEAD = do_PUT = do_PATCH = do_POST = do_DELETE = handle_any


SERVER = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
OTHER = http.server.ThreadingHTTPServer(("127.0.0.2", 0), Proxy) if MODE.startswith("elsewhere:") else None
for server in (SERVER, OTHER):
    if server:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
print(SERVER.server_address[1], flush=True)
sys.stdin.read()
