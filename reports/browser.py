"""Headless Chromium over the DevTools protocol: screenshots of the study site, and its checks.

``Chromium`` starts Debian's ``chromium`` with ``--remote-debugging-port=0`` and a throw-away
profile, reads the port it chose from ``DevToolsActivePort`` and talks to it over a websocket
(``websocket-client``). ``visit`` loads one page and returns what a reader would hit: console
errors and uncaught exceptions, failed loads, images that did not decode, links, and the
``<math>`` elements with whether Chromium lays them out as MathML (computed ``display`` of
``block math``/``inline math``, which only a MathML-capable engine gives).

``check_site`` walks the site from ``index.html`` along its links and lists every problem.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO
from urllib.parse import unquote, urlparse

#: Names Debian and others give the browser, tried in order (``DLFS_CHROMIUM`` overrides).
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
VIEWPORT = (1400, 1400)

_PROBE = """JSON.stringify({
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  images: [...document.images].map(i => ({src: i.src, ok: i.complete && i.naturalWidth > 0})),
  maths: [...document.querySelectorAll('math')].map(m => ({
      display: getComputedStyle(m).display,
      width: m.getBoundingClientRect().width,
      mathml: m instanceof MathMLElement})),
  title: document.title
})"""


class BrowserError(Exception):
    """Chromium is missing, did not start, or did not answer."""


def find_chromium() -> str | None:
    """The Chromium executable: ``$DLFS_CHROMIUM`` or the first of ``CANDIDATES`` on the PATH."""
    override = os.environ.get("DLFS_CHROMIUM")
    if override:
        return shutil.which(override)
    return next((p for p in map(shutil.which, CANDIDATES) if p), None)


@dataclass
class PageVisit:
    """What loading one page showed."""

    url: str
    console_errors: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    maths: int = 0
    maths_rendered: int = 0
    title: str = ""


class Chromium:
    """A headless Chromium session (a context manager); one tab, reused for every page."""

    def __init__(self, executable: str | None = None, timeout: float = 30.0) -> None:
        found = executable or find_chromium()
        if found is None:
            raise BrowserError(f"no Chromium found (tried {', '.join(CANDIDATES)}): apt-get install chromium")
        self.executable = found
        self.timeout = timeout
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    def __enter__(self) -> Chromium:
        try:
            import websocket
        except ImportError as exc:
            raise BrowserError(
                "the websocket-client package is needed to drive Chromium: pip install websocket-client"
            ) from exc
        self._profile = tempfile.mkdtemp(prefix="dlfs-chromium-")
        args = [
            self.executable,
            "--headless=new",
            "--no-sandbox",  # root in a container has no user namespace for the sandbox
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
            "--remote-debugging-port=0",
            f"--user-data-dir={self._profile}",
            "about:blank",
        ]
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self._ws = websocket.create_connection(self._browser_url(), timeout=self.timeout, suppress_origin=True)
            target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
            self._session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                self._call(f"{domain}.enable", session=True)
            width, height = VIEWPORT
            params = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
            self._call("Emulation.setDeviceMetricsOverride", params, session=True)
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._close()

    def _close(self) -> None:
        ws = getattr(self, "_ws", None)
        if ws is not None:
            ws.close()
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        shutil.rmtree(self._profile, ignore_errors=True)

    def _browser_url(self) -> str:
        port_file = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise BrowserError(f"{self.executable} exited with code {self._proc.returncode} at start-up")
            lines = port_file.read_text().split() if port_file.exists() else []
            if len(lines) >= 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            time.sleep(0.05)
        raise BrowserError(f"{self.executable} did not open its DevTools port within {self.timeout:.0f} s")

    def _receive(self) -> dict[str, Any]:
        try:
            message: dict[str, Any] = json.loads(self._ws.recv())
        except Exception as exc:  # websocket timeouts and closed connections
            raise BrowserError(f"Chromium stopped answering: {type(exc).__name__}: {exc}") from exc
        return message

    def _call(self, method: str, params: dict[str, Any] | None = None, session: bool = False) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        self._ws.send(json.dumps(message))
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message', reply['error'])}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            if "method" in reply:
                self._events.append(reply)

    def _wait_for(self, method: str) -> None:
        deadline = time.monotonic() + self.timeout
        while not any(e["method"] == method for e in self._events):
            if time.monotonic() > deadline:
                raise BrowserError(f"no {method} within {self.timeout:.0f} s")
            message = self._receive()
            if "method" in message:
                self._events.append(message)

    def visit(self, page: Path) -> PageVisit:
        """Load ``page`` and report its console errors, failed loads, images, links and maths."""
        url = page.resolve().as_uri()
        self._events.clear()
        self._call("Page.navigate", {"url": url}, session=True)
        self._wait_for("Page.loadEventFired")
        probe = self._call("Runtime.evaluate", {"expression": _PROBE, "returnByValue": True}, session=True)
        found = json.loads(probe["result"]["value"])
        visit = PageVisit(url, title=found["title"], links=found["links"])
        visit.console_errors = list(_errors(self._events))
        visit.broken_images = [i["src"] for i in found["images"] if not i["ok"]]
        visit.maths = len(found["maths"])
        visit.maths_rendered = sum(
            1
            for m in found["maths"]
            if m["mathml"] and m["display"] in ("block math", "inline math") and m["width"] > 0
        )
        return visit

    def screenshot(self, page: Path, path: Path) -> Path:
        """A PNG of the top of ``page`` (the viewport, ``VIEWPORT`` pixels)."""
        self.visit(page)
        shot = self._call("Page.captureScreenshot", {"format": "png"}, session=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


def _errors(events: list[dict[str, Any]]) -> Iterator[str]:
    for e in events:
        p = e.get("params", {})
        if e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            yield "console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
        elif e["method"] == "Runtime.exceptionThrown":
            yield "exception: " + str(p.get("exceptionDetails", {}).get("text", ""))
        elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            yield f"log: {p['entry'].get('text', '')} {p['entry'].get('url', '')}".strip()
        elif e["method"] == "Network.loadingFailed" and not p.get("canceled"):
            yield f"load failed: {p.get('errorText', '')}"


def screenshot_targets(site: Path, pages: list[Path]) -> list[Path]:
    """The index and two component pages: LSTM and Dense when the report has them, else the first two."""
    preferred = [p for name in ("rnn.LSTM", "layers.Dense") for p in pages if p.stem == name]
    chosen = (preferred + [p for p in pages if p not in preferred])[:2]
    return [site / "index.html", *chosen]


def take_screenshots(out: Path, pages: list[Path], stream: TextIO) -> None:
    """``screenshots/index.png`` and two component pages (LSTM and Dense when present), if Chromium is installed."""
    if find_chromium() is None:
        print("report: chromium not found; no screenshots (apt-get install chromium)", file=stream)
        return
    shots = out / "screenshots"
    shots.mkdir(exist_ok=True)
    try:
        with Chromium() as browser:
            for page in screenshot_targets(out, pages):
                browser.screenshot(page, shots / f"{page.stem}.png")
    except BrowserError as exc:  # a report without pictures is still a report
        print(f"report: no screenshots: {exc}", file=stream)


@dataclass
class SiteCheck:
    """The outcome of ``check_site``: the pages visited and every problem found."""

    visited: dict[str, PageVisit] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _local_target(link: str, site: Path) -> tuple[Path | None, str]:
    """The file a ``file://`` link points to (``None`` for another scheme) and its fragment."""
    parsed = urlparse(link)
    if parsed.scheme != "file":
        return None, ""
    return Path(unquote(parsed.path)), parsed.fragment


def check_site(site: Path, browser: Chromium) -> SiteCheck:
    """Visit every page reachable from ``site/index.html``; list console errors, broken links and images,
    pages without rendered maths that should have it, and component pages the index does not reach."""
    result = SiteCheck()
    site = site.resolve()
    queue = [site / "index.html"]
    while queue:
        page = queue.pop(0)
        if page.as_uri() in result.visited:
            continue
        visit = browser.visit(page)
        result.visited[page.as_uri()] = visit
        name = page.relative_to(site)
        result.problems += [f"{name}: {e}" for e in visit.console_errors]
        result.problems += [f"{name}: image does not load: {src}" for src in visit.broken_images]
        if visit.maths_rendered < visit.maths:
            result.problems += [f"{name}: {visit.maths - visit.maths_rendered} of {visit.maths} <math> not rendered"]
        if name.parts[0] == "components" and visit.maths == 0:
            result.problems.append(f"{name}: a component page without maths")
        for link in visit.links:
            target, fragment = _local_target(link, site)
            if target is None:
                result.problems.append(f"{name}: link leaves the site: {link}")
            elif not target.exists():
                result.problems.append(f"{name}: broken link: {link}")
            elif fragment and not re.search(rf'id="{re.escape(fragment)}"', target.read_text(encoding="utf-8")):
                result.problems.append(f"{name}: no #{fragment} in {target.name}")
            elif target.suffix == ".html" and target.is_relative_to(site):
                queue.append(target)
    unreached = sorted(
        str(p.relative_to(site)) for p in site.glob("components/*.html") if p.as_uri() not in result.visited
    )
    result.problems += [f"{p}: not reachable from index.html" for p in unreached]
    return result
