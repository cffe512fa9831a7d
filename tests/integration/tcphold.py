#!/usr/bin/env python3
"""tcphold - hold TCP connections to a DNS server open, for the tests of
TCP fairness and descriptor exhaustion (tests/integration/*.sh,
bench/tcp-fairness.sh).  Hermetic: it connects where it is told, nothing
else.

  tcphold.py -s ADDR -p PORT [-b SRC] [-n N] [-m MODE] [-q NAME/TYPE]
      [-T TIMEOUT_MS] [-L LIFETIME_S] [-x]

Opens N (default 1) connections to ADDR port PORT, one after the other,
from the local address SRC (any port) if given, and holds them until
SIGTERM or SIGINT, or until LIFETIME_S (default 120) seconds have passed.
What each connection does once connected (MODE):

  idle      nothing
  stalled   sends a length prefix announcing 100 bytes and 10 of them: a
            message that never completes
  query     sends a query for NAME/TYPE (default ipv4only.arpa/A; a "#"
            in NAME becomes the connection's number), reads its reply,
            then holds the connection, idle
  confirm   like query, but the next connection is opened only once the
            reply came, or TIMEOUT_MS (default 2000) passed; with -x, a
            connection without a reply by then is closed and no more are
            opened (the server has taken all it can)
  burst     opens all N connections at once, each sends its query as
            soon as it is connected; reports each reply with the time
            from the start of its connect(), and after TIMEOUT_MS the
            connections without one; then exits

Output, one line per event, flushed at once (I counts from 0):

  connected I         connect() succeeded
  failed I ERROR      connect() failed
  answered I RCODE    a reply came on connection I (RCODE a number);
                      burst: "answered I RCODE MS"
  unanswered I        confirm, burst: no reply within TIMEOUT_MS
  closed I            the server closed connection I (EOF or reset)
  opened N            N connections were tried, and no more will be
  done                exiting
"""

import argparse
import errno
import os
import random
import selectors
import signal
import socket
import struct
import sys
import time

TYPES = {"A": 1, "NS": 2, "SOA": 6, "PTR": 12, "TXT": 16, "AAAA": 28}


def say(*words):
    sys.stdout.write(" ".join(str(w) for w in words) + "\n")
    sys.stdout.flush()


def query_wire(spec):
    name, _, qtype = spec.partition("/")
    qtype = qtype.upper() or "A"
    if qtype not in TYPES:
        raise SystemExit("tcphold: unknown type %s" % qtype)
    wire = struct.pack("!HHHHHH", random.randrange(65536), 0x0100, 1, 0,
                       0, 0)
    for label in name.rstrip(".").split("."):
        wire += bytes([len(label)]) + label.encode("ascii")
    wire += b"\0" + struct.pack("!HH", TYPES[qtype], 1)
    return struct.pack("!H", len(wire)) + wire


class Conn:
    def __init__(self, index, sock):
        self.index = index
        self.sock = sock
        self.buf = b""
        self.replies = 0
        self.closed = False
        self.start = time.monotonic()
        self.sent = False


class Holder:
    def __init__(self, args):
        self.args = args
        self.sel = selectors.DefaultSelector()
        self.conns = []
        self.stop = False
        self.deadline = time.monotonic() + args.lifetime
        family = socket.AF_INET6 if ":" in args.server else socket.AF_INET
        self.family = family

    def connect(self, index):
        s = socket.socket(self.family, socket.SOCK_STREAM)
        try:
            if self.args.bind:
                s.bind((self.args.bind, 0))
            s.settimeout(5)
            s.connect((self.args.server, self.args.port))
        except OSError as e:
            s.close()
            say("failed", index, errno.errorcode.get(e.errno, e.errno))
            return None
        s.setblocking(False)
        c = Conn(index, s)
        self.conns.append(c)
        self.sel.register(s, selectors.EVENT_READ, c)
        say("connected", index)
        mode = self.args.mode
        try:
            if mode == "stalled":
                s.send(struct.pack("!H", 100) + bytes(10))
            elif mode in ("query", "confirm"):
                s.send(query_wire(self.args.query.replace("#", str(index))))
        except OSError:
            self.close(c)
        return c

    def close(self, c):
        if c.closed:
            return
        c.closed = True
        self.sel.unregister(c.sock)
        c.sock.close()
        say("closed", c.index)

    def readable(self, c):
        try:
            data = c.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close(c)
            return
        c.buf += data
        while len(c.buf) >= 2:
            n = struct.unpack("!H", c.buf[:2])[0]
            if len(c.buf) < 2 + n:
                break
            msg, c.buf = c.buf[2:2 + n], c.buf[2 + n:]
            c.replies += 1
            rcode = msg[3] & 0x0f if len(msg) > 3 else -1
            if self.args.mode == "burst":
                say("answered", c.index, rcode,
                    int((time.monotonic() - c.start) * 1000))
            else:
                say("answered", c.index, rcode)

    def pump(self, until, done=None):
        """Handle events until the monotonic time until, or done()."""
        while not self.stop and (done is None or not done()):
            left = min(until, self.deadline) - time.monotonic()
            if left <= 0:
                break
            for key, _ in self.sel.select(min(left, 0.2)):
                self.readable(key.data)

    def burst(self):
        """Every connection at once, each query as soon as it can go."""
        for i in range(self.args.count):
            s = socket.socket(self.family, socket.SOCK_STREAM)
            s.setblocking(False)
            if self.args.bind:
                s.bind((self.args.bind, 0))
            c = Conn(i, s)
            err = s.connect_ex((self.args.server, self.args.port))
            if err not in (0, errno.EINPROGRESS):
                s.close()
                say("failed", i, errno.errorcode.get(err, err))
                continue
            self.conns.append(c)
            self.sel.register(s, selectors.EVENT_WRITE, c)
        say("opened", self.args.count)
        end = time.monotonic() + self.args.timeout / 1000.0
        while not self.stop and time.monotonic() < end:
            if all(c.replies or c.closed for c in self.conns):
                break
            left = end - time.monotonic()
            for key, ev in self.sel.select(max(0, min(left, 0.2))):
                c = key.data
                if c.sent:
                    self.readable(c)
                    continue
                err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    say("failed", c.index, errno.errorcode.get(err, err))
                    c.closed = True
                    self.sel.unregister(c.sock)
                    c.sock.close()
                    continue
                say("connected", c.index)
                c.sent = True
                q = self.args.query.replace("#", str(c.index))
                try:
                    c.sock.send(query_wire(q))
                except OSError:
                    self.close(c)
                    continue
                self.sel.modify(c.sock, selectors.EVENT_READ, c)
        for c in self.conns:
            if not c.replies and not c.closed:
                say("unanswered", c.index)
        say("done")

    def run(self):
        if self.args.mode == "burst":
            self.burst()
            return
        tried = 0
        for i in range(self.args.count):
            if self.stop or time.monotonic() >= self.deadline:
                break
            tried += 1
            c = self.connect(i)
            if c is not None and self.args.mode == "confirm":
                wait = time.monotonic() + self.args.timeout / 1000.0
                self.pump(wait, lambda: c.replies > 0 or c.closed)
                if c.replies == 0 and not c.closed:
                    say("unanswered", i)
                    if self.args.stop:
                        self.close(c)
                        break
            elif i % 64 == 63:
                self.pump(time.monotonic())
        say("opened", tried)
        self.pump(self.deadline)
        say("done")


def main():
    p = argparse.ArgumentParser(description="hold TCP connections open")
    p.add_argument("-s", dest="server", required=True)
    p.add_argument("-p", dest="port", type=int, required=True)
    p.add_argument("-b", dest="bind")
    p.add_argument("-n", dest="count", type=int, default=1)
    p.add_argument("-m", dest="mode", default="idle",
                   choices=("idle", "stalled", "query", "confirm",
                            "burst"))
    p.add_argument("-q", dest="query", default="ipv4only.arpa/A")
    p.add_argument("-T", dest="timeout", type=int, default=2000)
    p.add_argument("-L", dest="lifetime", type=float, default=120)
    p.add_argument("-x", dest="stop", action="store_true")
    args = p.parse_args()
    h = Holder(args)

    def stop(signum, frame):
        h.stop = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    h.run()
    os._exit(0)


if __name__ == "__main__":
    main()
