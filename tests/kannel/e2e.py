#!/usr/bin/env python3
"""Helpers for tests/kannel/run-e2e.sh (standard library only).

  e2e.py ports N                 print N free TCP ports on 127.0.0.1
  e2e.py wait-port PORT SECS     wait until 127.0.0.1:PORT accepts connections
  e2e.py wait-kannel URL SECS    wait until bearerbox's status says the fake SMSC is online
                                 and an smsbox is connected
  e2e.py relay ...               HTTP relay between Kannel and Tocsin (see Relay)
  e2e.py drive ...               send the messages through fakesmsc, wait, check, report
  e2e.py broadcast ...           community broadcasts: 1,000 subscribers, STOP, test and live
                                 broadcasts, tocsin serve killed (SIGKILL) mid-broadcast

The relay sits where Kannel's get-url and dlr-url point, and where Tocsin's sendsms_url
points. It forwards every request unchanged (/cgi-bin/sendsms to Kannel, the rest to
Tocsin) and logs it. For one sender (--fail-sender) it forwards the request — so Tocsin
stores the message — and then answers Kannel 500 instead of Tocsin's 200, --fail-times
times per Kannel message id: the answer "got lost", and smsbox's http-request-retry sends
the same request (same %I) again. That is how a gateway re-delivers a message. Kannel's
answers to sendsms are held --sendsms-delay seconds, like a slow link.
"""

import argparse
import http.client
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

# --------------------------------------------------------------------------------------
# small commands


def cmd_ports(a):
    socks = []
    for _ in range(a.n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    print(" ".join(str(s.getsockname()[1]) for s in socks))
    for s in socks:
        s.close()


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def cmd_wait_port(a):
    end = time.time() + a.secs
    while time.time() < end:
        if port_open(a.port):
            return 0
        time.sleep(0.2)
    print(f"port 127.0.0.1:{a.port} did not open within {a.secs}s", file=sys.stderr)
    return 1


def cmd_wait_kannel(a):
    end = time.time() + a.secs
    last = ""
    while time.time() < end:
        try:
            with urllib.request.urlopen(a.url, timeout=2) as r:
                last = r.read().decode("utf-8", "replace")
            # "    fake[fake]    FAKE:PORT (online 1s, ..." and "    smsbox:(none), IP ... (on-line 0d ...)"
            smsc_online = re.search(r"^\s*fake\[fake\]\s+FAKE:\d+ \(online", last, re.M)
            box = re.search(r"^\s*smsbox:.*\(on-line", last, re.M)
            if smsc_online and box:
                return 0
        except OSError:
            pass
        time.sleep(0.3)
    print(f"Kannel not ready within {a.secs}s; last status:\n{last}", file=sys.stderr)
    return 1


# --------------------------------------------------------------------------------------
# relay


class Relay(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, upstream, sendsms_upstream, sendsms_delay, fail_sender, fail_times, log):
        super().__init__(addr, RelayHandler)
        u = urllib.parse.urlsplit(upstream)
        self.up_host, self.up_port = u.hostname, u.port
        k = urllib.parse.urlsplit(sendsms_upstream or upstream)
        self.kannel_host, self.kannel_port = k.hostname, k.port
        self.sendsms_delay = sendsms_delay
        self.fail_sender = fail_sender
        self.fail_times = fail_times
        self.failed = {}
        self.lock = threading.Lock()
        self.log = open(log, "a", buffering=1)


class RelayHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def relay(self):
        srv = self.server
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "x-kannel-charset")}
        up_status, up_body, err = 0, b"", None
        path, _, query = self.path.partition("?")
        to_kannel = path == "/cgi-bin/sendsms"
        host, port = (srv.kannel_host, srv.kannel_port) if to_kannel else (srv.up_host, srv.up_port)
        try:
            c = http.client.HTTPConnection(host, port, timeout=30)
            c.request(self.command, self.path, body=body, headers=headers)
            r = c.getresponse()
            up_status, up_body = r.status, r.read()
            c.close()
        except OSError as e:
            err = str(e)
        answer, out = (up_status or 502), up_body
        if to_kannel and srv.sendsms_delay:
            # Kannel has accepted the message (and may already have called the dlr-url);
            # its answer reaches Tocsin a little later, as over a slow link.
            time.sleep(srv.sendsms_delay)
        q = dict(urllib.parse.parse_qsl(query, keep_blank_values=True, encoding="latin-1"))
        if path == "/sms/kannel" and srv.fail_sender and q.get("sender") == srv.fail_sender:
            with srv.lock:
                k = q.get("id", "")
                if srv.failed.get(k, 0) < srv.fail_times and 200 <= up_status < 300:
                    srv.failed[k] = srv.failed.get(k, 0) + 1
                    answer, out = 500, b"relay: answer lost on purpose\n"
        entry = {
            "t": round(time.time(), 3),
            "method": self.command,
            "path": path,
            "query": query,
            "upstream_status": up_status,
            "upstream_body": up_body[:300].decode("utf-8", "replace"),
            "error": err,
            "answered": answer,
        }
        srv.log.write(json.dumps(entry) + "\n")
        self.send_response(answer)
        self.send_header("Content-Length", str(len(out)))
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(out)

    do_GET = relay
    do_POST = relay


def cmd_relay(a):
    srv = Relay(("127.0.0.1", a.port), a.upstream, a.sendsms_upstream, a.sendsms_delay, a.fail_sender, a.fail_times, a.log)
    srv.serve_forever()


# --------------------------------------------------------------------------------------
# the messages

SHORTCODE = "1413"  # where monitors send reports; also the sender of the acknowledgements

# Senders (invented numbers). The same person may reach Kannel in several forms.
A = "+23672418305"  # English, Central African Republic
B = "+23675093162"  # French
C = "+255754301928"  # Swahili, Tanzania
D = "+249912837465"  # Arabic, Sudan
E = "+23670651847"  # Arabic; the message Kannel re-delivers

LABEL = {A: "A", B: "B", C: "C", D: "D", E: "E"}

LONG_FR = (
    "ATTAQUE Bria: des hommes armés sont entrés dans le quartier Gobolo à l'aube, "
    "ils ont brûlé douze maisons près du marché et enlevé deux enfants. Les familles "
    "ont fui vers la mission catholique."
)

# (key, sender as Kannel delivers it, E.164, fakesmsc type, text, language)
MESSAGES = [
    ("en-1", A, A, "text", "ATTACK Bria: armed men burned 12 houses near the market this morning", "en"),
    ("fr-1", B, B, "text", "ATTAQUE à Bria, 5 morts près du marché central", "fr"),
    ("sw-1", C, C, "text", "SHAMBULIO Bangui watu 5 wameuawa usiku wa jana", "sw"),
    ("ar-1", D, D, "ucs2", "هجوم في الخرطوم، قتل ثلاثة أشخاص", "ar"),
    ("fr-2", B, B, "ucs2", "MENACE Bangui 🔥 « les hommes armés reviendront »", "fr"),
    ("en-2", "23672418305", A, "text", "RUMOUR: rebels coming to Kaga-Bandoro tomorrow", "en"),
    ("sw-2", "00255754301928", C, "data", "UPORAJI Bria maduka yameporwa na nyumba zimechomwa", "sw"),
    ("ar-2", D, D, "ucs2", "تهديد Bria ١٢ رجلا مسلحا قرب السوق", "ar"),
    ("fr-long", B, B, "concat", LONG_FR, "fr"),
    ("ar-redelivered", E, E, "ucs2", "نزوح: مئات العائلات فرت من نيالا", "ar"),
]
REDELIVERED = "ar-redelivered"


def q(b):
    return urllib.parse.quote(b, safe="")


def fakesmsc_lines(key, sender, kind, text):
    """The line(s) fakesmsc sends to bearerbox for one message."""
    if kind == "text":
        lines = [f"{sender} {SHORTCODE} text {text}"]
    elif kind == "data":  # 8-bit, coding=1, charset=8-BIT: here UTF-8 bytes
        lines = [f"{sender} {SHORTCODE} data {q(text.encode('utf-8'))}"]
    elif kind == "ucs2":  # coding=2, charset=UTF-16BE
        lines = [f"{sender} {SHORTCODE} ucs2 {q(text.encode('utf-16-be'))}"]
    elif kind == "concat":  # two 7-bit parts with a concatenation UDH; Kannel joins them
        cut = text.index(" ", len(text) // 2) + 1
        parts = [text[:cut], text[cut:]]
        lines = [
            f"{sender} {SHORTCODE} udh-text {q(bytes([5, 0, 3, 0x2A, len(parts), i + 1]))} {p}"
            for i, p in enumerate(parts)
        ]
    else:
        raise ValueError(kind)
    for ln in lines:
        # fakesmsc reads standard input with fgets(256): a longer line would be cut in two.
        assert len(ln.encode("utf-8")) < 250, (key, len(ln.encode("utf-8")))
    return lines


# --------------------------------------------------------------------------------------
# fakesmsc output: "Got message N: <from to type data>"

GOT = re.compile(rb"Got message \d+: <(.*)>\s*$")


def decode_bytes(b):
    # UCS-2 texts carry NUL high bytes (every acknowledgement has ASCII in it); 7-bit and
    # 8-bit texts never contain NUL.
    if b"\x00" in b and len(b) % 2 == 0:
        return b.decode("utf-16-be", "replace")
    return b.decode("utf-8", "replace")


def parse_mt(path):
    """MT messages fakesmsc received, concatenated parts joined: [(from, to, text, parts)]."""
    out, pending = [], {}
    try:
        raw = open(path, "rb").read()
    except FileNotFoundError:
        return out
    for line in raw.splitlines():
        m = GOT.search(line)
        if not m:
            continue
        fields = m.group(1).split(b" ", 3)
        if len(fields) < 4:
            out.append(("?", "?", "unparsable: " + m.group(1).decode("utf-8", "replace"), 1))
            continue
        frm, to, typ, rest = fields[0].decode(), fields[1].decode(), fields[2].decode(), fields[3]
        if typ == "text":
            out.append((frm, to, rest.decode("utf-8", "replace"), 1))
        elif typ == "data":
            out.append((frm, to, decode_bytes(urllib.parse.unquote_to_bytes(rest.replace(b"+", b" "))), 1))
        elif typ == "ucs-2":
            b = urllib.parse.unquote_to_bytes(rest.replace(b"+", b" "))
            out.append((frm, to, b.decode("utf-16-be", "replace"), 1))
        elif typ == "udh":
            udh_enc, _, rest2 = rest.partition(b" ")
            udh = urllib.parse.unquote_to_bytes(udh_enc)
            inner, _, data = rest2.partition(b" ")
            body = urllib.parse.unquote_to_bytes(data.replace(b"+", b" ")) if inner != b"text" else data
            ref, total, seq = None, 1, 1
            i = 1
            while i < len(udh):
                iei, ln = udh[i], udh[i + 1]
                v = udh[i + 2 : i + 2 + ln]
                if iei == 0 and ln == 3:
                    ref, total, seq = v[0], v[1], v[2]
                elif iei == 8 and ln == 4:
                    ref, total, seq = (v[0] << 8) | v[1], v[2], v[3]
                i += 2 + ln
            if ref is None:
                out.append((frm, to, decode_bytes(body), 1))
                continue
            k = (frm, to, ref, total)
            pending.setdefault(k, {})[seq] = body
            if len(pending[k]) == total:
                parts = pending.pop(k)
                joined = b"".join(parts[s] for s in sorted(parts))
                out.append((frm, to, decode_bytes(joined), total))
        else:
            out.append((frm, to, f"unknown type {typ}", 1))
    for (frm, to, ref, total), parts in pending.items():
        out.append((frm, to, f"INCOMPLETE concatenated message ({len(parts)}/{total} parts)", len(parts)))
    return out


def count_sent(path):
    try:
        raw = open(path, "rb").read()
    except FileNotFoundError:
        return 0
    return len(re.findall(rb"fakesmsc: sent message \d+", raw))


def read_relay(path):
    """The relay's log entries (a line still being written is left out)."""
    text = open(path, encoding="utf-8").read()
    return [json.loads(ln) for ln in text.split("\n")[:-1] if ln.strip()]


# --------------------------------------------------------------------------------------
# Tocsin's API

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def reference_code(report_id):
    """The acknowledgement's reference for a report (tocsin_sms::reference_code)."""
    bits = int(report_id.replace("-", ""), 16) & ((1 << 30) - 1)
    return "R-" + "".join(CROCKFORD[(bits >> (5 * i)) & 31] for i in reversed(range(6)))


class Api:
    def __init__(self, base, token):
        self.base, self.token = base.rstrip("/"), token

    def get(self, path):
        req = urllib.request.Request(self.base + path, headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)

    def reports(self):
        return self.get("/api/v1/reports?channel=sms&limit=500")["items"]

    def sources(self):
        return self.get("/api/v1/sources?limit=500")["items"]

    def messages(self, source_id):
        return self.get(f"/api/v1/sources/{source_id}/messages")["items"]


WATCH_PID = None  # tocsin serve: stop waiting as soon as it is gone


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def wait_until(what, secs, fn, interval=0.5):
    """Call fn until it returns a true value or secs pass; return its last value."""
    end = time.time() + secs
    v = None
    while True:
        if WATCH_PID and not alive(WATCH_PID):
            raise RuntimeError(f"tocsin serve (pid {WATCH_PID}) exited while waiting for {what}")
        try:
            v = fn()
        except Exception as e:  # the server may be briefly busy; keep the error for the report
            v = None
            print(f"  ({what}: {e})", file=sys.stderr)
        if v or time.time() >= end:
            return v
        time.sleep(interval)


# --------------------------------------------------------------------------------------
# the test


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {what}")
        else:
            self.failed += 1
            print(f"FAIL {what}" + (f"\n       {detail}" if detail else ""))
        sys.stdout.flush()
        return ok


LANG_MARK = {
    "en": lambda t: "Thank" in t,
    "fr": lambda t: "Merci" in t,
    "sw": lambda t: "Asante" in t,
    "ar": lambda t: sum(1 for ch in t if "\u0600" <= ch <= "\u06ff") >= 10,
}


def cmd_drive(a):
    global WATCH_PID
    WATCH_PID = a.tocsin_pid
    t0 = time.time()
    c = Checks()
    try:
        run_checks(a, c)
    except Exception as e:  # a crash or a dead server is one more failure, with the reason
        c.check(False, "the checks ran to the end", f"{type(e).__name__}: {e}")
    print(f"(checks took {time.time() - t0:.1f}s; {time.time() - (a.start or t0):.0f}s since the script started)")
    print(f"kannel e2e: {c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


def run_checks(a, c):
    api = Api(a.api, open(a.token_file).read().strip())
    by_key = {m[0]: m for m in MESSAGES}

    # 1. Inject every MO line through fakesmsc, one at a time. fakesmsc reads its standard
    # input with stdio behind select(): each write releases one line, so lines are written
    # apart and, until the end, an empty line (ignored by fakesmsc) every half second
    # releases anything still buffered.
    lines = [ln for (key, sender, _, kind, text, _) in MESSAGES for ln in fakesmsc_lines(key, sender, kind, text)]
    fifo = open(a.fifo, "w", encoding="utf-8", buffering=1)
    stop = threading.Event()

    def keepalive():
        while not stop.wait(0.5):
            try:
                fifo.write("\n")
                fifo.flush()
            except OSError:
                return

    for ln in lines:
        fifo.write(ln + "\n")
        fifo.flush()
        time.sleep(0.4)
    threading.Thread(target=keepalive, daemon=True).start()
    sent = wait_until("fakesmsc sent", 30, lambda: count_sent(a.fakesmsc_log) >= len(lines))
    c.check(sent, f"fakesmsc sent all {len(lines)} MO lines to bearerbox", f"sent {count_sent(a.fakesmsc_log)}")

    # 2. Wait until Tocsin has every report and fakesmsc has every acknowledgement.
    n = len(MESSAGES)
    wait_until("reports", 60, lambda: len(api.reports()) >= n)
    expected_acks = n
    wait_until("acks", 90, lambda: len(parse_mt(a.fakesmsc_log)) >= expected_acks)
    # Let late duplicates (a second report, a second acknowledgement) show up if any.
    time.sleep(a.settle)
    stop.set()

    reports = api.reports()
    mts = parse_mt(a.fakesmsc_log)
    relay = read_relay(a.relay_log)
    mo_requests = [r for r in relay if r["path"] == "/sms/kannel"]
    sendsms = [r for r in relay if r["path"] == "/cgi-bin/sendsms"]
    from_kannel = [r for r in relay if r["path"] != "/cgi-bin/sendsms"]

    # 3. Every message became exactly one report, byte-exact.
    c.check(len(reports) == n, f"{n} messages -> {n} SMS reports", f"got {len(reports)} reports")
    report_of = {}
    for key, _, e164, kind, text, lang in MESSAGES:
        same = [r for r in reports if r["text"] == text]
        if c.check(len(same) == 1, f"[{key}] exactly one report with the byte-exact text ({kind})",
                   f"{len(same)} reports match; near misses: "
                   + repr([r['text'] for r in reports if r['text'][:12] == text[:12] and r['text'] != text])):
            report_of[key] = same[0]
    for key, r in report_of.items():
        lang = by_key[key][5]
        c.check(r.get("language") == lang, f"[{key}] report language is {lang}", f"language={r.get('language')!r}")
        c.check(not any("provider" in k for k in r),
                f"[{key}] the report shows no gateway message id (Kannel's %I is kept only hashed)",
                repr(sorted(r)))

    # One source per person, whatever form Kannel gave the number in; distinct people differ.
    handle_of = {}
    for key, r in report_of.items():
        handle_of.setdefault(by_key[key][2], set()).add(r.get("source"))
    c.check(all(len(h) == 1 and None not in h for h in handle_of.values()),
            "each sender is one source (+236…, 236…, 00255… forms included)", repr(handle_of))
    handles = [next(iter(h)) for h in handle_of.values() if len(h) == 1]
    c.check(len(set(handles)) == len(handles), "different senders are different sources", repr(handle_of))
    c.check(all(not re.search(r"\d{8}", str(h)) for h in handles), "source handles carry no phone number", repr(handles))

    # 4. The re-delivered message: Kannel sent the same %I again after the lost answers.
    e_sender = by_key[REDELIVERED][1]
    e_reqs = [r for r in mo_requests
              if dict(urllib.parse.parse_qsl(r["query"], encoding="latin-1")).get("sender") == e_sender]
    ids = {dict(urllib.parse.parse_qsl(r["query"], encoding="latin-1")).get("id") for r in e_reqs}
    c.check(len(e_reqs) == 1 + a.fail_times and len(ids) == 1,
            f"[{REDELIVERED}] Kannel delivered it {1 + a.fail_times} times with one message id",
            f"{len(e_reqs)} requests, ids {ids}")
    c.check(all(200 <= r["upstream_status"] < 300 for r in e_reqs),
            f"[{REDELIVERED}] Tocsin answered 2xx to every delivery (duplicates included)",
            repr([(r["upstream_status"], r["upstream_body"]) for r in e_reqs]))
    c.check(sum(1 for r in reports if r["text"] == by_key[REDELIVERED][4]) == 1,
            f"[{REDELIVERED}] the re-deliveries created no second report")

    # Every request Kannel made reached Tocsin and was accepted.
    bad = [(r["path"], r["upstream_status"], r["upstream_body"], r["error"]) for r in from_kannel if not (200 <= r["upstream_status"] < 300)]
    c.check(not bad, f"Tocsin answered 2xx to all {len(from_kannel)} requests from Kannel", repr(bad[:5]))
    c.check(all(r["upstream_body"] == "" for r in mo_requests), "Tocsin's answers to Kannel are empty (no Kannel reply)",
            repr({r["upstream_body"] for r in mo_requests}))
    n_mo = len(mo_requests)
    c.check(n_mo == n + a.fail_times, f"Kannel made {n + a.fail_times} MO requests ({n} messages + {a.fail_times} retries)",
            f"{n_mo} requests")

    # 5. Every sender got exactly one acknowledgement per report, through Kannel, in the
    # language of the message, quoting that report's reference.
    c.check(len(sendsms) == n, f"Tocsin called Kannel's sendsms {n} times", f"{len(sendsms)} calls")
    c.check(all(r["upstream_status"] == 202 and r["upstream_body"].startswith("0:") for r in sendsms),
            "Kannel accepted every sendsms request", repr({(r["upstream_status"], r["upstream_body"].strip()) for r in sendsms}))
    params = [dict(urllib.parse.parse_qsl(r["query"])) for r in sendsms]
    c.check(all(p.get("charset") == "UTF-8" and p.get("coding") in ("0", "2") and p.get("from") == SHORTCODE
                and p.get("dlr-url", "").startswith(a.public_url + "/sms/kannel/dlr?") for p in params),
            "sendsms requests carry charset=UTF-8, coding 0|2, from, and a dlr-url to public_url",
            repr([{k: v for k, v in p.items() if k in ("charset", "coding", "from", "dlr-mask")} for p in params][:3]))
    c.check(len(mts) == n, f"fakesmsc received {n} acknowledgements in all", f"got {len(mts)}: {mts!r}")
    c.check(all(frm == SHORTCODE for frm, _, _, _ in mts), f"acknowledgements come from {SHORTCODE}",
            repr({frm for frm, _, _, _ in mts}))
    senders = sorted({m[2] for m in MESSAGES})
    c.check({to for _, to, _, _ in mts} <= set(senders), "no acknowledgement went to anyone else",
            repr({to for _, to, _, _ in mts} - set(senders)))
    for e164 in senders:
        mine = [k for k in report_of if by_key[k][2] == e164]
        got = [t for _, to, t, _ in mts if to == e164]
        c.check(len(got) == len(mine), f"sender {LABEL[e164]} received {len(mine)} acknowledgement(s), one per report",
                f"got {len(got)}: {got!r}")
    for key, r in report_of.items():
        e164, lang = by_key[key][2], by_key[key][5]
        ref = reference_code(r["id"])
        acks = [t for _, to, t, _ in mts if to == e164 and ref in t]
        if c.check(len(acks) == 1, f"[{key}] exactly one acknowledgement quoting {ref}", f"{len(acks)} found"):
            c.check(LANG_MARK[lang](acks[0]), f"[{key}] acknowledgement is in {lang}", repr(acks[0]))
            c.check("\ufffd" not in acks[0], f"[{key}] acknowledgement decodes cleanly", repr(acks[0]))

    # 6. Tocsin's outbox says so too: one message per report, each sent and delivered
    # (Kannel's dlr-url calls come back through the relay).
    def outbox():
        src = {s["handle"]: s["id"] for s in api.sources()}
        res = {}
        for key, r in report_of.items():
            sid = src.get(r.get("source"))
            if sid and sid not in res:
                res[sid] = api.messages(sid)
        return res

    def all_delivered():
        ob = outbox()
        msgs = [m for items in ob.values() for m in items]
        return ob if len(msgs) >= len(report_of) and all(m["status"] == "delivered" for m in msgs) else None

    ob = wait_until("outbox delivered", 20, all_delivered) or outbox()
    msgs = [m for items in ob.values() for m in items]
    for key, r in report_of.items():
        mine = [m for m in msgs if m.get("report_id") == r["id"]]
        c.check(len(mine) == 1, f"[{key}] one outbox message for the report", f"{len(mine)}: {mine!r}")
    dlr = [r for r in read_relay(a.relay_log) if r["path"] == "/sms/kannel/dlr"]
    c.check(len(dlr) >= n, "Kannel called the dlr-url for every acknowledgement", f"{len(dlr)} calls")
    st = {m["status"] for m in msgs}
    c.check(st == {"delivered"}, "every outbox message is delivered (Kannel DLR)",
            f"statuses {sorted(m['status'] for m in msgs)}, although Kannel called the dlr-url "
            f"{len(dlr)} times (status=1) and Tocsin answered {sorted({r['upstream_status'] for r in dlr})}")
    c.check(all(m.get("attempts") == 1 for m in msgs), "each acknowledgement was handed to Kannel once",
            repr([m.get("attempts") for m in msgs]))

    # 7. No phone number in Tocsin's log (TOCSIN_LOG=debug, stdout + stderr).
    log = open(a.tocsin_log, "rb").read()
    c.check(b"DEBUG" in log and len(log) > 1000, "Tocsin's debug log was captured", f"{len(log)} bytes")
    leaks = []
    for num in senders:
        digits = num.lstrip("+")
        for form in {digits, digits[-8:], digits[-9:]}:
            if form.encode() in log:
                leaks.append(form)
    c.check(not leaks, "no phone number appears in Tocsin's log", f"found {leaks}")
    # Nor a source's handle: with the log line's time it would tie the handle to a message
    # that telephone records tie to a number.
    shown = [h for h in handles if h and h.encode() in log]
    c.check(not shown, "no source handle appears in Tocsin's log", f"found {shown}")
    c.check(b"%2B2" not in log and b"%2b2" not in log, "no URL-encoded number in Tocsin's log")
    # password and inbound_secret from [sms.kannel] (the generated file has one of each)
    conf = open(a.config, encoding="utf-8").read()
    secrets = re.findall(r'^(?:password|inbound_secret)\s*=\s*"([^"]+)"', conf, re.M)
    c.check(len(secrets) == 2, "found the two secrets in Tocsin's configuration", repr(len(secrets)))
    c.check(not any(s and s.encode() in log for s in secrets),
            "neither the sendsms password nor the inbound secret appears in Tocsin's log")


# --------------------------------------------------------------------------------------
# community broadcasts (issue 17): run after `drive`, on the same Kannel and Tocsin

# Where the subscribers live: place names the gazetteer resolves, and the broadcast's circle
# around Bambari (the other places are far outside it).
PLACES = [("Bambari", "CAF"), ("Bangui", "CAF"), ("Bria", "CAF"), ("Goma", "COD")]
BAMBARI = {"circle": {"lat": 5.7617, "lon": 20.6672, "radius_km": 30}}
LANGS = ["en", "fr", "sw", "ar"]
TEST_PHONES = ["+23670990001", "+23670990002"]


def subscriber_phone(i):
    return f"+23677{i:06d}"


def texts(marker):
    return {
        "en": f"{marker} Armed men reported near Bambari. Stay indoors.",
        "fr": f"{marker} Hommes armés signalés près de Bambari. Restez chez vous.",
        "sw": f"{marker} Watu wenye silaha karibu na Bambari. Kaeni ndani.",
        "ar": f"{marker} مسلحون قرب بمباري. ابقوا في منازلكم.",
    }


def lang_of_text(t):
    if sum(1 for ch in t if "\u0600" <= ch <= "\u06ff") >= 5:
        return "ar"
    if "Hommes" in t:
        return "fr"
    if "Watu" in t:
        return "sw"
    if "Armed" in t:
        return "en"
    return "?"


class ApiW(Api):
    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as e:
            try:
                return e.code, json.load(e)
            except ValueError:
                return e.code, {}


def start_tocsin(a, log_mode="ab"):
    """(Re)start tocsin serve on the same address; its pid is written for run-e2e.sh."""
    log = open(a.tocsin_log, log_mode)
    env = dict(os.environ, NO_COLOR="1", TOCSIN_LOG="debug")
    p = subprocess.Popen([a.tocsin_bin, "--data-dir", a.data_dir, "--config", a.config, "serve",
                          "--listen", a.api.split("//", 1)[1]], stdout=log, stderr=log, env=env)
    open(a.pid_file, "w").write(str(p.pid))
    return p


def cmd_broadcast(a):
    global WATCH_PID
    WATCH_PID = a.tocsin_pid
    c = Checks()
    t0 = time.time()
    try:
        run_broadcast(a, c)
    except Exception as e:
        c.check(False, "the broadcast checks ran to the end", f"{type(e).__name__}: {e}")
    print(f"(broadcast checks took {time.time() - t0:.1f}s)")
    print(f"kannel broadcast e2e: {c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


def run_broadcast(a, c):
    global WATCH_PID
    analyst = ApiW(a.api, open(a.token_file).read().strip())
    coord = ApiW(a.api, open(a.coord_token_file).read().strip())
    admin = ApiW(a.api, open(a.admin_token_file).read().strip())
    answers = []  # every API answer, searched for numbers at the end

    # 1. 1,000 subscribers in four places and four languages, registered by staff.
    who = {}
    bad = []
    for i in range(a.subscribers):
        place, country = PLACES[i % 4]
        lang = LANGS[(i // 4) % 4]
        phone = subscriber_phone(i)
        st, v = coord.call("POST", "/api/v1/subscribers",
                           {"phone": phone, "place": place, "country": country, "language": lang})
        answers.append(v)
        if st != 201:
            bad.append((st, v))
        who[phone] = (place, lang)
    c.check(not bad, f"staff registered {a.subscribers} subscribers", repr(bad[:3]))
    in_area = {p for p, (pl, _) in who.items() if pl == "Bambari"}
    area_q = urllib.parse.quote(json.dumps(BAMBARI))
    st, v = analyst.call("GET", f"/api/v1/subscribers/counts?area={area_q}")
    answers.append(v)
    c.check(st == 200 and v.get("total") == len(in_area), f"{len(in_area)} subscribers counted around Bambari",
            f"{st} {v}")

    # 2. STOP by SMS through Kannel, before the broadcast.
    stopped = sorted(in_area)[0]
    fifo = open(a.fifo, "w", encoding="utf-8", buffering=1)
    fifo.write(f"{stopped} {SHORTCODE} text STOP\n")
    fifo.flush()
    for _ in range(4):
        time.sleep(0.5)
        fifo.write("\n")
        fifo.flush()
    n_after = wait_until("STOP honoured", 30, lambda: (lambda r: r[1].get("total") == len(in_area) - 1 and r)(
        analyst.call("GET", f"/api/v1/subscribers/counts?area={area_q}")))
    c.check(bool(n_after), "STOP by SMS removed the subscriber from the area's count")
    expected = in_area - {stopped}

    # 3. An unapproved broadcast sends nothing; nobody approves their own (an admin cannot
    # even write one).
    st, v = analyst.call("POST", "/api/v1/broadcasts",
                         {"mode": "live", "texts": texts("UNAPPROVED-E2E"), "area": BAMBARI})
    answers.append(v)
    c.check(st == 201 and v.get("recipients") == len(expected),
            f"a live broadcast to Bambari is written for {len(expected)} recipients", f"{st} {v}")
    st, v = analyst.call("POST", f"/api/v1/broadcasts/{v.get('id')}/approve")
    c.check(st == 403, "the author cannot approve their own broadcast", f"{st} {v}")
    st, v = admin.call("POST", "/api/v1/broadcasts", {"mode": "live", "texts": texts("ADMIN-E2E"), "area": BAMBARI})
    c.check(st == 403, "an admin cannot write (and so approve) a broadcast of their own", f"{st} {v}")

    # 4. A test broadcast reaches only the test phones.
    st, v = analyst.call("POST", "/api/v1/broadcasts", {"mode": "test", "texts": texts("TEST-E2E"), "area": BAMBARI})
    answers.append(v)
    tid = v.get("id")
    st, v = coord.call("POST", f"/api/v1/broadcasts/{tid}/approve")
    answers.append(v)
    c.check(st == 200, "another person approved the test broadcast", f"{st} {v}")
    wait_until("test broadcast sent", 60, lambda: analyst.call("GET", f"/api/v1/broadcasts/{tid}")[1].get("state") == "sent")
    time.sleep(2)
    test_mts = [(to, t) for _, to, t, _ in parse_mt(a.fakesmsc_log) if "TEST-E2E" in t]
    c.check(sorted(to for to, _ in test_mts) == sorted(TEST_PHONES),
            "the test broadcast reached the two test phones, once each, and nobody else",
            repr(sorted(to for to, _ in test_mts)))

    # 5. The live broadcast; tocsin serve is killed (SIGKILL) in the middle and restarted.
    st, v = analyst.call("POST", "/api/v1/broadcasts", {"mode": "live", "texts": texts("LIVE-E2E"), "area": BAMBARI})
    answers.append(v)
    lid = v.get("id")
    st, v = coord.call("POST", f"/api/v1/broadcasts/{lid}/approve")
    answers.append(v)
    c.check(st == 200 and v.get("recipients") == len(expected), "the live broadcast is approved by a second person",
            f"{st} {v}")
    def live_count():
        return sum(1 for _, _, t, _ in parse_mt(a.fakesmsc_log) if "LIVE-E2E" in t)
    got = wait_until("half the broadcast", 60, lambda: live_count() >= len(expected) // 3, interval=0.05)
    before = live_count()
    os.kill(a.tocsin_pid, 9)
    c.check(bool(got) and before < len(expected),
            f"tocsin serve killed with SIGKILL in the middle of the broadcast ({before} of {len(expected)} received)")
    time.sleep(1)
    p = start_tocsin(a)
    WATCH_PID = p.pid
    ok = wait_until("restarted", 60, lambda: analyst.call("GET", "/api/v1/broadcasts/stop")[0] == 200)
    c.check(bool(ok), "tocsin serve restarted on the same data")
    done = wait_until("live broadcast sent", 240,
                      lambda: analyst.call("GET", f"/api/v1/broadcasts/{lid}")[1].get("state") == "sent", interval=1)
    c.check(bool(done), "after the restart the broadcast finished")
    time.sleep(a.settle)
    live = [(to, t) for _, to, t, _ in parse_mt(a.fakesmsc_log) if "LIVE-E2E" in t]
    per = {}
    for to, t in live:
        per.setdefault(to, []).append(t)
    twice = {to: len(ts) for to, ts in per.items() if len(ts) > 1}
    c.check(not twice, "nobody received the live broadcast twice", repr(list(twice.items())[:5]))
    c.check(set(per) == expected, f"exactly the {len(expected)} active subscribers around Bambari received it",
            f"missing {len(expected - set(per))}, outside {len(set(per) - expected)}")
    c.check(stopped not in per, "the subscriber who sent STOP received nothing")
    wrong = [(to, who[to][1], lang_of_text(ts[0])) for to, ts in per.items() if to in who and lang_of_text(ts[0]) != who[to][1]]
    c.check(not wrong, "each subscriber received it in their language", repr(wrong[:5]))
    c.check(not any("UNAPPROVED-E2E" in t for _, _, t, _ in parse_mt(a.fakesmsc_log)),
            "the unapproved broadcast sent nothing")
    st, v = analyst.call("GET", f"/api/v1/broadcasts/{lid}")
    answers.append(v)
    cnt = v.get("counts", {})
    c.check(cnt.get("sent", 0) + cnt.get("delivered", 0) == len(expected) and cnt.get("queued") == 0,
            "the broadcast's counts add up (sent + delivered = recipients, none queued)", repr(cnt))
    st, v = analyst.call("GET", "/api/v1/broadcasts")
    answers.append(v)

    # 6. No subscriber number in Tocsin's log or in any API answer of the run.
    log = open(a.tocsin_log, "rb").read()
    text = json.dumps(answers)
    leaks = [p for p in list(who) + TEST_PHONES
             if p.lstrip("+").encode() in log or p.lstrip("+")[-8:].encode() in log or p.lstrip("+") in text]
    c.check(not leaks, "no subscriber or test number in Tocsin's log or in any API answer", repr(leaks[:5]))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("ports")
    s.add_argument("n", type=int)
    s = sub.add_parser("wait-port")
    s.add_argument("port", type=int)
    s.add_argument("secs", type=float)
    s = sub.add_parser("wait-kannel")
    s.add_argument("url")
    s.add_argument("secs", type=float)
    s = sub.add_parser("relay")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--upstream", required=True)
    s.add_argument("--sendsms-upstream", default="", help="Kannel's sendsms base URL (for /cgi-bin/sendsms)")
    s.add_argument("--sendsms-delay", type=float, default=0.0)
    s.add_argument("--fail-sender", default="")
    s.add_argument("--fail-times", type=int, default=2)
    s.add_argument("--log", required=True)
    s = sub.add_parser("drive")
    s.add_argument("--api", required=True)
    s.add_argument("--token-file", required=True)
    s.add_argument("--fifo", required=True)
    s.add_argument("--fakesmsc-log", required=True)
    s.add_argument("--relay-log", required=True)
    s.add_argument("--tocsin-log", required=True)
    s.add_argument("--config", required=True, help="Tocsin's TOML configuration")
    s.add_argument("--public-url", required=True, help="Tocsin's [sms] public_url (the relay)")
    s.add_argument("--fail-times", type=int, default=2)
    s.add_argument("--settle", type=float, default=3.0)
    s.add_argument("--start", type=float, default=0)
    s.add_argument("--tocsin-pid", type=int, default=0)
    s = sub.add_parser("broadcast")
    s.add_argument("--api", required=True)
    s.add_argument("--token-file", required=True)
    s.add_argument("--coord-token-file", required=True)
    s.add_argument("--admin-token-file", required=True)
    s.add_argument("--fifo", required=True)
    s.add_argument("--fakesmsc-log", required=True)
    s.add_argument("--tocsin-log", required=True)
    s.add_argument("--tocsin-pid", type=int, required=True)
    s.add_argument("--tocsin-bin", required=True)
    s.add_argument("--data-dir", required=True)
    s.add_argument("--config", required=True)
    s.add_argument("--pid-file", required=True)
    s.add_argument("--subscribers", type=int, default=1000)
    s.add_argument("--settle", type=float, default=5.0)
    s = sub.add_parser("fail-sender")
    a = p.parse_args()
    if a.cmd == "fail-sender":
        print(by_key_redelivered_sender())
        return 0
    return {
        "ports": cmd_ports,
        "wait-port": cmd_wait_port,
        "wait-kannel": cmd_wait_kannel,
        "relay": cmd_relay,
        "drive": cmd_drive,
        "broadcast": cmd_broadcast,
    }[a.cmd](a) or 0


def by_key_redelivered_sender():
    return next(m[1] for m in MESSAGES if m[0] == REDELIVERED)


if __name__ == "__main__":
    sys.exit(main())
