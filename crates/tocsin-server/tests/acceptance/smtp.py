"""A real SMTP server for the acceptance tests (aiosmtpd): listens on 127.0.0.1 at any free
port, prints `PORT <n>`, and writes each message it accepts to OUTDIR as N.json:
{"rcpt": [...], "subject": decoded subject, "body": decoded text, "raw": the message as sent}.

usage: smtp.py OUTDIR
"""
import asyncio
import email
import email.policy
import json
import os
import sys

from aiosmtpd.smtp import SMTP


class Handler:
    def __init__(self, outdir):
        self.outdir, self.n = outdir, 0

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        part = msg.get_body(preferencelist=("plain", "html"))
        body = (part.get_content() if part is not None else "").replace("\r\n", "\n")
        self.n += 1
        path = os.path.join(self.outdir, "%06d.json" % self.n)
        with open(path + ".tmp", "w") as f:
            json.dump({"rcpt": envelope.rcpt_tos, "subject": str(msg["subject"] or ""),
                       "body": body, "raw": raw.decode("utf-8", "replace")}, f)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 OK"


async def main():
    handler = Handler(sys.argv[1])
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(lambda: SMTP(handler), "127.0.0.1", 0)
    print("PORT %d" % srv.sockets[0].getsockname()[1], flush=True)
    await srv.serve_forever()


asyncio.run(main())
