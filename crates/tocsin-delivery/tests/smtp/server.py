"""A real SMTP server for the delivery tests (aiosmtpd): listens on 127.0.0.1 at the given
port (0: any free one), prints `PORT <n>`, and writes each message it accepts to OUTDIR.

usage: server.py OUTDIR accept|reject [PORT]
`reject` answers every DATA with a 550 whose text names the recipient, as real servers do.
"""
import asyncio
import os
import sys

from aiosmtpd.smtp import SMTP


class Handler:
    def __init__(self, outdir, mode):
        self.outdir, self.mode, self.n = outdir, mode, 0

    async def handle_DATA(self, server, session, envelope):
        if self.mode == "reject":
            return "550 5.7.1 Message refused by policy for " + ",".join(envelope.rcpt_tos)
        self.n += 1
        path = os.path.join(self.outdir, "%d.eml" % self.n)
        with open(path + ".tmp", "wb") as f:
            f.write(b"X-Rcpt-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 OK"


async def main():
    outdir, mode = sys.argv[1], sys.argv[2]
    port = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    handler = Handler(outdir, mode)
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(lambda: SMTP(handler), "127.0.0.1", port, reuse_address=True)
    print("PORT %d" % srv.sockets[0].getsockname()[1], flush=True)
    await srv.serve_forever()


asyncio.run(main())
