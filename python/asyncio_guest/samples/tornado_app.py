"""asyncio-guest sample with Tornado as host: a Tornado web UI, the workload in guest asyncio.

The host is a Tornado ``IOLoop`` serving a small web page on 127.0.0.1 (counter, progress
bars, latency, and Download / Cancel / Dialog / Quit buttons that POST to the host); it also
draws the same status screen as ``asyncio_app.py`` in the terminal.  The guest asyncio loop
runs the usual workload in ticks posted with ``IOLoop.add_callback``.  Tornado handlers run on
the host's asyncio loop, so they reach the guest through ``host.call_in_guest``.

Modal dialogs: a Tornado server has no nested loop to block in, so ``asyncio_guest.modal`` has
nothing to run; the "dialog" is a question the guest *awaits* (a guest future) while the page
shows it, and the counter keeps counting.

    python -m asyncio_guest.samples.tornado_app
    python -m asyncio_guest demo --host tornado
    then open the URL it prints; --demo --quit-after N runs unattended
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Optional

import tornado.web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from asyncio_guest.hosts.asyncio_host import run_as_guest
from asyncio_guest.hosts.tornado_host import TornadoHost
from asyncio_guest.samples.asyncio_app import TerminalApp, keyboard, schedule_demo

PAGE = """<!doctype html><meta charset=utf-8><title>asyncio-guest on Tornado</title>
<style>body{font:15px sans-serif;margin:2em}progress{width:24em;display:block}</style>
<h3 id=count>counter: 0</h3><progress id=cbar max=100></progress>
<p id=status></p><progress id=dbar max=1></progress><p>
<button onclick="post('download')">Download</button>
<button onclick="post('cancel')">Cancel</button>
<button onclick="post('dialog')">Open dialog</button>
<button onclick="post('quit')">Quit</button></p><p id=prompt></p><pre id=lat></pre>
<script>
function post(what, body){fetch('/'+what,{method:'POST',body:body||''})}
async function poll(){try{const s=await (await fetch('/state')).json();
 count.textContent='counter: '+s.count; cbar.value=s.count%100;
 status.textContent=s.status; dbar.max=s.total; dbar.value=s.received; lat.textContent=s.latency;
 prompt.innerHTML=s.prompt?s.prompt+' <button onclick="post(\\'answer\\',\\'yes\\')">Yes</button>'
  +'<button onclick="post(\\'answer\\',\\'no\\')">No</button>':'';}catch(e){}
 setTimeout(poll,200)}
poll()
</script>"""


class TornadoApp(TerminalApp):
    """The terminal view plus a web UI served by the Tornado host."""

    title = "asyncio-guest beside a Tornado IOLoop"

    def __init__(self, host: TornadoHost, **controller_kwargs: Any) -> None:
        super().__init__(host, **controller_kwargs)  # type: ignore[arg-type]
        app = self
        keys = {"download": "d", "cancel": "c", "dialog": "m", "quit": "q"}

        class Page(tornado.web.RequestHandler):
            def get(self) -> None:
                self.write(PAGE)

        class State(tornado.web.RequestHandler):
            def get(self) -> None:
                self.set_header("Content-Type", "application/json")
                self.write(json.dumps(app.state()))

        class Action(tornado.web.RequestHandler):
            def post(self, action: str) -> None:
                if action == "answer":
                    app.key("y" if self.request.body == b"yes" else "n")
                elif action in keys:
                    app.key(keys[action])
                else:
                    raise tornado.web.HTTPError(404)
                self.write("ok")

        self.web = tornado.web.Application([("/", Page), ("/state", State), (r"/(\w+)", Action)])
        sockets = bind_sockets(0, "127.0.0.1")
        self.server = HTTPServer(self.web)
        self.server.add_sockets(sockets)
        self.url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}/"

    def state(self) -> dict[str, object]:
        return {
            "count": self.count,
            "received": self.received,
            "total": self.total,
            "status": self.status,
            "latency": self.latency,
            "prompt": self.prompt or "",
        }

    def render(self) -> str:
        return super().render() + f"web UI: {self.url}\n"

    async def aclose(self) -> None:
        """Stop the web server (host side) and close its connections."""
        self.server.stop()
        await self.server.close_all_connections()


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", action="store_true", help="start a download and open the dialog")
    parser.add_argument("--quit-after", type=float, default=0, help="quit after N seconds")
    args = parser.parse_args(argv)
    host = TornadoHost()
    app: Optional[TornadoApp] = None

    async def run_all() -> None:
        nonlocal app
        # Built inside the running IOLoop: Tornado binds its server to the current loop.
        app = TornadoApp(host)
        schedule_demo(app, args.demo, args.quit_after)
        with keyboard(app.host_loop, app.key) as interactive:
            if not interactive and not args.quit_after:
                print(f"web UI at {app.url} (stdin is not a terminal; stop with Ctrl+C)")
            app.redraw()
            try:
                await run_as_guest(app.controller.main, host=host)
            finally:
                app.stop_redraw()
                await app.aclose()

    try:
        host.io_loop.run_sync(run_all)
    finally:
        host.close()
    assert app is not None
    print(f"guest finished cleanly; counter reached {app.controller.count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
