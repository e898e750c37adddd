"""The operators' console in a real browser (headless Chromium, driven by Playwright), for
scripts/console-test.

  console_test.py BASE_URL METRICS_URL AUTH_SECRET SERVER_PID ARTEFACT_DIR

Loads the console against a running service fed by the smoke load and fails (exit 1, with what went
wrong) unless: the page refuses a rider's token and signs in with an operator's; it draws every driver the service counts and shows
the numbers /metrics shows (within the panel's one-second sampling and the stream's throttle); a
clicked ride shows its candidates, as the ops API records them; the controls take keyboard focus; it
works at 1280x720 and on a touch tablet; it says "disconnected, retrying" once the service stops; and
no request goes to another host and no JavaScript or console error happens. Screenshots are kept in
ARTEFACT_DIR.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import sys
import time
import urllib.request

from playwright.sync_api import sync_playwright

base, metrics_url, secret, server_pid, artefacts = sys.argv[1:6]
os.makedirs(artefacts, exist_ok=True)
problems = []
recording = [True]


def mint(subject, role):
    """An HS256 token as `dispatch-server token` makes it."""
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    now = int(time.time())
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64(json.dumps({"sub": subject, "role": role, "iat": now, "exp": now + 3600}).encode())
    signature = b64(hmac.new(secret.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest())
    return f"{header}.{claims}.{signature}"


token = mint("console-test", "ops")
STATES = ["available", "offered", "en_route", "on_trip", "stale", "offline"]


def fail(message):
    print("console-test: " + message, file=sys.stderr)
    sys.exit(1)


def scrape():
    """The service's figures now: drivers by state and the ride and offer totals."""
    text = urllib.request.urlopen(metrics_url, timeout=5).read().decode()
    values = {}
    for line in text.splitlines():
        match = re.match(r'^(\w+)(?:\{([^}]*)\})? ([0-9.eE+-]+)$', line)
        if not match:
            continue
        name, labels, value = match.groups()
        values[(name, labels or "")] = float(value)
    figures = {"at": time.time()}
    for state in STATES:
        figures["drivers." + state] = int(values.get(("dispatch_drivers", f'status="{state}"'), 0))
    figures["totals.requested"] = int(values.get(("dispatch_ride_requests_total", ""), 0))
    for outcome in ["accepted", "declined", "expired", "withdrawn"]:
        figures["totals." + outcome] = int(values.get(("dispatch_offers_total", f'outcome="{outcome}"'), 0))
    figures["totals.unfulfilled"] = int(values.get(("dispatch_rides_total", 'final_state="unfulfilled"'), 0))
    return figures


def wait_until(page, expression, timeout=20):
    """Polls an expression in the page (Playwright's wait_for_function evaluates strings, which the
    console's Content-Security-Policy rightly forbids)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if page.evaluate(expression):
            return
        time.sleep(0.1)
    fail(f"timed out waiting for: {expression}")


def shown(page):
    """What the page shows and draws now."""
    return page.evaluate(
        """() => {
            const s = window.consoleState, panel = {};
            for (const e of document.querySelectorAll('[data-stat]')) panel[e.dataset.stat] = e.textContent;
            return { drawn: s.driversDrawn, byState: s.byState, panel, frames: s.frames, connected: s.connected,
                     errors: s.errors };
        }"""
    )


def sign_in(page):
    page.goto(base + "/")
    if not page.url.endswith("/console"):
        fail(f"/ did not lead to /console but to {page.url}")
    page.wait_for_selector("#signin[open]", timeout=10_000)
    page.fill("#token", token)
    page.click("#signin button[type=submit]")
    wait_until(page, "() => window.consoleState.connected && window.consoleState.frames >= 2", 20)


def watch(page, label):
    """Records every JavaScript error, console error and request to another host."""
    def note(text):
        if recording[0]:
            problems.append(f"{label}: {text}")
    page.on("console", lambda message: note(f"console {message.type}: {message.text}")
            if message.type == "error" else None)
    page.on("pageerror", lambda error: note(f"page error: {error}"))
    page.on("request", lambda request: note(f"request to another host: {request.url}")
            if not request.url.startswith(base) else None)


def matches_within(history, key, value, window=2.5):
    """Whether a figure equals what /metrics said at some scrape in the last `window` seconds."""
    newest = history[-1]["at"]
    return any(sample[key] == value for sample in history if newest - sample["at"] <= window)


with sync_playwright() as playwright:
    executable = shutil.which("chromium") or fail("no chromium on PATH")
    browser = playwright.chromium.launch(executable_path=executable, headless=True,
                                         args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
    page = browser.new_page(viewport={"width": 1280, "height": 720})

    # A token that is not an operator's is refused, and the page says so (the 403 it gets is expected:
    # Chromium reports a failed load on the console, so the watch starts after it).
    page.goto(base + "/console")
    page.wait_for_selector("#signin[open]", timeout=10_000)
    page.fill("#token", mint("rider-1", "rider"))
    page.click("#signin button[type=submit]")
    wait_until(page, "() => document.getElementById('signin-error').textContent.length > 0", 10)
    refusal = page.text_content("#signin-error")
    if "operator" not in refusal:
        fail(f"a rider's token was answered {refusal!r}")
    watch(page, "desktop")
    sign_in(page)

    # Wait for the smoke fleet to be on the map: the count the service reports, steady for 2 s.
    history = []
    steady_since, last_total = None, None
    deadline = time.time() + 60
    while time.time() < deadline:
        history.append(scrape())
        total = sum(history[-1]["drivers." + state] for state in STATES)
        if total > 0 and total == last_total:
            steady_since = steady_since or time.time()
            if time.time() - steady_since >= 2:
                break
        else:
            steady_since = None
        last_total = total
        time.sleep(0.25)
    else:
        fail("the service's driver count never held steady")

    # Drivers drawn and numbers shown against /metrics, while the load runs.
    agreed = None
    deadline = time.time() + 40
    while time.time() < deadline and agreed is None:
        history.append(scrape())
        now = shown(page)
        history.append(scrape())
        history = [sample for sample in history if history[-1]["at"] - sample["at"] <= 5]
        total_ok = any(sum(sample["drivers." + s] for s in STATES) == now["drawn"] for sample in history
                       if history[-1]["at"] - sample["at"] <= 2.5)
        drawn_by_state_ok = sum(now["byState"].values()) == now["drawn"]
        panel_ok = all(matches_within(history, "drivers." + s, int(now["panel"]["drivers." + s])) for s in STATES)
        counters_ok = all(matches_within(history, key, int(now["panel"][key]))
                          for key in ["totals.requested", "totals.accepted", "totals.declined"])
        # Only once rides flow (and drivers change state) is agreement worth anything.
        busy = int(now["panel"]["totals.accepted"]) > 0 and int(now["panel"]["drivers.available"]) < now["drawn"]
        if busy and total_ok and drawn_by_state_ok and panel_ok and counters_ok:
            agreed = now
        else:
            time.sleep(0.3)
    if agreed is None:
        fail(f"the page never agreed with /metrics: shown {shown(page)}, metrics {history[-1]}")
    print(f"console-test: {agreed['drawn']} drivers drawn, as /metrics counts them; panel {agreed['panel']}")

    # Click a ride that has been offered: its decision record lists the candidates. (A ride can end
    # between being found and being clicked; then another is tried.)
    box = page.locator("#map").bounding_box()
    ride, rows = None, None
    for attempt in range(5):
        deadline = time.time() + 30
        ride = None
        while ride is None and time.time() < deadline:
            ride = page.evaluate(
                """() => { for (const [id, r] of window.consoleState.rides)
                     if (['accepted', 'arrived', 'in_progress'].includes(r.status)) return { id, lat: r.plat, lon: r.plon };
                   return null; }"""
            )
            if ride is None:
                time.sleep(0.5)
        if ride is None:
            fail("no accepted ride appeared on the map")
        page.evaluate("([lat, lon]) => window.consoleState.focus(lat, lon, 0.5)", [ride["lat"], ride["lon"]])
        page.wait_for_timeout(100)
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        try:
            page.wait_for_selector("#selection-body table[data-testid=candidates] tr.chosen", timeout=5_000)
        except Exception:
            continue
        title = page.text_content("#selection-body h3")
        if ride["id"] not in title:
            fail(f"clicked ride {ride['id']}, the panel shows {title!r}")
        rows = page.eval_on_selector_all(
            "#selection-body table[data-testid=candidates]:first-of-type tr:not(:first-child)",
            "rows => rows.map(r => r.cells[1].textContent.replace(' (chosen)', ''))",
        )
        break
    if rows is None:
        fail("no clicked ride showed its candidates")
    request = urllib.request.Request(f"{base}/v1/ops/rides/{ride['id']}", headers={"Authorization": "Bearer " + token})
    decision = json.load(urllib.request.urlopen(request, timeout=5))
    expected = [c["driverId"] for c in decision["offers"][0]["candidates"]]
    if rows != expected:
        fail(f"the first offer's candidates shown {rows} are not those recorded {expected}")
    print(f"console-test: ride {ride['id']} shows {len(rows)} candidates, as recorded; chosen rank "
          f"{decision['offers'][0]['rank']}")
    page.evaluate("() => window.consoleState.focus(37.5665, 126.978, 12)")
    page.wait_for_timeout(700)
    page.screenshot(path=os.path.join(artefacts, "console.png"))

    # Keyboard: the controls take focus in order, and the map pans and zooms from the keys.
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    focused = []
    for _ in range(6):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("() => document.activeElement && document.activeElement.id"))
    for control in ["fit", "signout", "map"]:
        if control not in focused:
            fail(f"#{control} never took keyboard focus (Tab went through {focused})")
    page.focus("#map")
    before = page.evaluate("() => window.consoleState.view.metersPerPixel")
    page.keyboard.press("+")
    after = page.evaluate("() => window.consoleState.view.metersPerPixel")
    if not after < before:
        fail(f"'+' on the map did not zoom in ({before} -> {after} m/px)")

    # A tablet: touch, 1024x768; the map and the panel both show.
    tablet = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True, is_mobile=True)
    tablet_page = tablet.new_page()
    watch(tablet_page, "tablet")
    sign_in(tablet_page)
    for selector in ["#map", "#panel", "#legend"]:
        box = tablet_page.locator(selector).bounding_box()
        if not box or box["width"] < 100 or box["height"] < 40:
            fail(f"{selector} is not usable on a tablet: {box}")
    tablet_page.wait_for_timeout(500)
    tablet_page.screenshot(path=os.path.join(artefacts, "console-tablet.png"))
    tablet.close()

    # The service measures what the consoles cost it.
    text = urllib.request.urlopen(metrics_url, timeout=5).read().decode()
    for name in ["dispatch_console_cpu_seconds_total", "dispatch_console_bytes_total"]:
        found = re.search(rf"^{name} ([0-9.eE+-]+)$", text, re.M)
        if not found or float(found.group(1)) <= 0:
            fail(f"/metrics has no {name} after consoles were open")

    # The service stops: the page says it is disconnected and retrying. (Its reconnection attempts
    # then fail as network errors, which Chromium reports on the console: only what came before counts.)
    recording[0] = False
    os.kill(int(server_pid), signal.SIGTERM)
    wait_until(page, "() => document.getElementById('connection').dataset.state === 'retrying'", 20)
    status = page.text_content("#connection")
    if "disconnected, retrying" not in status:
        fail(f"the connection state reads {status!r}")
    page.screenshot(path=os.path.join(artefacts, "console-disconnected.png"))
    browser.close()

if problems:
    fail("errors in the page:\n  " + "\n  ".join(problems))
print(f"console-test: passed; screenshots in {artefacts}")
