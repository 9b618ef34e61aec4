#!/usr/bin/env python3
"""A stand-in for the ODS ORD API on loopback: 200 with a small JSON body for any code.

Prints the port it listens on as its first line, then serves until killed or until --max-seconds.
--delay-ms adds a fixed wait to every answer, to show how a slow ODS shows through.
"""
import argparse
import http.server
import threading
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--max-seconds", type=float, default=3600.0)
    args = parser.parse_args()
    body = b'{"Organisation": {"Status": "Active"}}'

    class Handler(http.server.BaseHTTPRequestHandler):
        # Keep-alive, as the real ORD API offers: the service's HttpClient reuses connections.
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            if args.delay_ms:
                time.sleep(args.delay_ms / 1000)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    stop = threading.Timer(args.max_seconds, server.shutdown)
    stop.daemon = True
    stop.start()
    server.serve_forever()


if __name__ == "__main__":
    main()
