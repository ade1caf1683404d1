"""Headless Chromium for the report tests: one run gives a screenshot, the rendered DOM and a
net log, from which the page's own network requests are read."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
    "--no-first-run", "--disable-component-update", "--disable-sync",
)
BROWSER_INITIATED = "not an origin"  # Chromium's own traffic (time sync, updates) has no initiator


@dataclass(frozen=True)
class Rendered:
    png: Path
    dom: str
    requests: list[str]  # URLs the page asked for (initiated by the document)
    browser_requests: list[str]  # URLs Chromium itself asked for (not the page's doing)


def render(page: Path, out_dir: Path, *, size: tuple[int, int] = (1280, 2400), timeout: float = 90) -> Rendered:
    png, netlog = out_dir / "screenshot.png", out_dir / "netlog.json"
    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-", dir=out_dir))
    try:
        proc = subprocess.run(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", f"--log-net-log={netlog}",
             f"--screenshot={png}", f"--window-size={size[0]},{size[1]}", "--dump-dom", page.resolve().as_uri()],
            capture_output=True, text=True, timeout=timeout, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0 and png.exists(), f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}"
    page_urls, browser_urls = requests_in(netlog)
    return Rendered(png, proc.stdout, page_urls, browser_urls)


def requests_in(netlog: Path) -> tuple[list[str], list[str]]:
    """(page-initiated URLs, browser-initiated URLs) of every URL request the net log records."""
    text = netlog.read_text(encoding="utf-8").rstrip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:  # a log cut short lacks its closing brackets
        data = json.loads(text.rstrip(",") + "]}")
    names = {v: k for k, v in data["constants"]["logEventTypes"].items()}
    page: list[str] = []
    browser: list[str] = []
    for event in data["events"]:
        params = event.get("params") or {}
        if names.get(event["type"]) == "URL_REQUEST_START_JOB" and "url" in params:
            (browser if params.get("initiator") == BROWSER_INITIATED else page).append(params["url"])
    return page, browser
