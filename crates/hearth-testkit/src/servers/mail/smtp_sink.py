#!/usr/bin/env python3
"""SMTP sink for tests: accepts every message and stores it.

Usage: smtp_sink.py <port> <outdir> [--auth USER:PASS]

Listens on 127.0.0.1:<port>. Each message is written atomically (tmp + rename)
as <outdir>/<seq>-<ts>.eml (raw DATA bytes, CRLF line endings as received) plus
<outdir>/<same>.json with the envelope {"mail_from", "rcpt_tos", "auth_user"}.
Writes the .json first, then the .eml, so "an .eml exists" means both are there.
Prints "READY <port>" on stdout once listening and "SAVED <path>.eml" per
message. Stop with SIGTERM/SIGINT.
With --auth, AUTH PLAIN/LOGIN is offered (without TLS) and required before MAIL.
Needs: pip install aiosmtpd  (or apt-get install python3-aiosmtpd).
"""
import argparse
import itertools
import json
import logging
import os
import signal
import threading
import time
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class SaveHandler:
    def __init__(self, outdir):
        self.outdir = outdir
        self.seq = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        name = "%06d-%d" % (next(self.seq), time.time_ns())
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "auth_user": getattr(session, "auth_data", None).login.decode()
            if isinstance(getattr(session, "auth_data", None), LoginPassword)
            else None,
        }
        self._write(name + ".json", json.dumps(meta).encode())
        self._write(name + ".eml", envelope.original_content or envelope.content)
        print("SAVED %s" % os.path.join(self.outdir, name + ".eml"), flush=True)
        return "250 OK"

    def _write(self, fname, data):
        tmp = os.path.join(self.outdir, "." + fname + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.outdir, fname))


def make_authenticator(user, password):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data)
    return authenticator


def main():
    warnings.filterwarnings("ignore")  # AUTH-without-TLS warning etc.
    logging.getLogger("mail.log").setLevel(logging.ERROR)  # same, via logging
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("outdir")
    ap.add_argument("--auth", help="USER:PASS; require AUTH (no TLS)")
    ap.add_argument("--host", default="127.0.0.1")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    kw = {}
    if a.auth:
        user, _, password = a.auth.partition(":")
        kw = dict(authenticator=make_authenticator(user, password),
                  auth_required=True, auth_require_tls=False)
    ctl = Controller(SaveHandler(a.outdir), hostname=a.host, port=a.port,
                     enable_SMTPUTF8=True, **kw)
    ctl.start()  # returns once the server answers a probe connection
    print("READY %d" % a.port, flush=True)
    stop = threading.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: stop.set())
    stop.wait()
    ctl.stop()


if __name__ == "__main__":
    main()
