"""Headless Chromium through the DevTools protocol: PDFs of the reports, screenshots and checks in tests.

``chromium --headless --print-to-pdf`` cannot number pages (Chromium ignores
CSS ``@page`` margin boxes), so the reports are printed with the protocol's
``Page.printToPDF`` and a footer template (``pageNumber``/``totalPages``).
The client is the few lines that need: start the Debian ``chromium`` with
``--remote-debugging-port=0``, read the port it chose from
``DevToolsActivePort``, speak JSON over one WebSocket (``websockets``), one
page per ``open``. ``offline=True`` cuts the page off the network (protocol
``Network.emulateNetworkConditions`` plus a host-resolver rule), and every
request the page attempts is kept in ``Page.requests``.

    with Browser() as b:
        pdf = b.print_pdf(Path("report.html").resolve().as_uri(), footer="第 <span class=pageNumber></span> 页")
        page = b.open(url, offline=True)
        png = page.screenshot(); page.evaluate("document.title")
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from msdw.errors import ConfigurationError

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--no-default-browser-check", "--hide-scrollbars",
         "--remote-debugging-port=0", "--remote-allow-origins=*"]
FOOTER_STYLE = ("font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;font-size:8px;width:100%;"
                "text-align:center;color:#555;")


def chromium_path() -> str:
    """The Chromium executable: ``$MSDW_CHROMIUM``, else ``chromium``/``chromium-browser`` on PATH."""
    found = os.environ.get("MSDW_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise ConfigurationError("headless Chromium not found: install the Debian package `chromium` "
                                 "(make system-deps) or set MSDW_CHROMIUM")
    return found


class BrowserError(RuntimeError):
    pass


class Browser:
    """One headless Chromium process and its DevTools connection (a context manager)."""

    def __init__(self, executable: str | None = None, timeout: float = 60.0) -> None:
        self.executable = executable or chromium_path()
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._proc: subprocess.Popen | None = None
        self._ws = None
        self._profile: str | None = None
        self._events: list[dict[str, Any]] = []

    # -- lifecycle --
    def __enter__(self) -> Browser:
        from websockets.sync.client import connect

        self._profile = tempfile.mkdtemp(prefix="msdw-chromium-")
        self._proc = subprocess.Popen([self.executable, *FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while not (port_file.exists() and len(port_file.read_text().split()) >= 2):
            if self._proc.poll() is not None:
                raise BrowserError(f"{self.executable} exited with code {self._proc.returncode} before DevTools started")
            if time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise BrowserError(f"{self.executable}: DevTools did not start within {self.timeout:.0f}s")
            time.sleep(0.05)
        port, path = port_file.read_text().split()[:2]
        self._ws = connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=self.timeout)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._ws is not None:
            try:
                self.send("Browser.close")
            except Exception:  # noqa: BLE001 - closing anyway
                pass
            self._ws.close()
            self._ws = None
        if self._proc is not None:
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
            self._proc = None
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    # -- protocol --
    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        """Send one command and wait for its answer (events seen meanwhile are kept for ``wait_event``)."""
        msg_id = next(self._ids)
        msg: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self._ws.send(json.dumps(msg))
        deadline = time.monotonic() + self.timeout
        while True:
            data = json.loads(self._ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if data.get("id") == msg_id:
                if "error" in data:
                    raise BrowserError(f"{method}: {data['error'].get('message')}")
                return data.get("result", {})
            if "method" in data:
                self._events.append(data)

    def wait_event(self, method: str, session: str | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while True:
            for i, e in enumerate(self._events):
                if e["method"] == method and (session is None or e.get("sessionId") == session):
                    return self._events.pop(i)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError(f"timed out waiting for {method}")
            self._events.append(json.loads(self._ws.recv(timeout=remaining)))

    # -- pages --
    def open(self, url: str, *, offline: bool = False, width: int = 1280, height: int = 900) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, target, session)
        self.send("Page.enable", session=session)
        self.send("Network.enable", session=session)
        if offline:
            self.send("Network.emulateNetworkConditions", {"offline": True, "latency": 0, "downloadThroughput": -1,
                                                           "uploadThroughput": -1}, session=session)
        self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1,
                                                         "mobile": False}, session=session)
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait_event("Page.loadEventFired", session)
        page.requests = [e["params"]["request"]["url"] for e in self._events
                         if e.get("sessionId") == session and e["method"] == "Network.requestWillBeSent"]
        page.failed = [e["params"].get("errorText", "") for e in self._events
                       if e.get("sessionId") == session and e["method"] == "Network.loadingFailed"]
        page.responses = [(e["params"]["response"]["url"], e["params"]["response"]["status"]) for e in self._events
                          if e.get("sessionId") == session and e["method"] == "Network.responseReceived"]
        self._events = [e for e in self._events if e.get("sessionId") != session]
        return page

    def print_pdf(self, url: str, *, footer: str = "", landscape: bool = False) -> bytes:
        """The page at ``url`` as an A4 PDF; ``footer`` is HTML (``<span class=pageNumber>`` etc. are filled in)."""
        page = self.open(url)
        try:
            return page.pdf(footer=footer, landscape=landscape)
        finally:
            page.close()


class Page:
    def __init__(self, browser: Browser, target: str, session: str) -> None:
        self.browser, self.target, self.session = browser, target, session
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.responses: list[tuple[str, int]] = []

    def _send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.browser.send(method, params, session=self.session)

    def evaluate(self, expression: str) -> Any:
        """A JavaScript expression's value (JSON-able) in the page."""
        res = self._send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in res:
            raise BrowserError(f"evaluate failed: {res['exceptionDetails'].get('text')}")
        return res["result"].get("value")

    def screenshot(self, full_page: bool = False) -> bytes:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        return base64.b64decode(self._send("Page.captureScreenshot", params)["data"])

    def pdf(self, *, footer: str = "", landscape: bool = False) -> bytes:
        params = {
            "printBackground": True, "preferCSSPageSize": True, "landscape": landscape,
            "paperWidth": 8.27, "paperHeight": 11.69,  # A4 in inches (the CSS @page size wins when set)
            "displayHeaderFooter": bool(footer),
            "headerTemplate": "<span></span>",
            "footerTemplate": f'<div style="{FOOTER_STYLE}">{footer}</div>' if footer else "<span></span>",
            "marginTop": 0.55, "marginBottom": 0.65, "marginLeft": 0.4, "marginRight": 0.4,
        }
        return base64.b64decode(self._send("Page.printToPDF", params)["data"])

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})
