"""A screenshot of the console against a running service, for the docs (docs/console.png).

  .build/python-browser/bin/python scripts/lib/console_screenshot.py BASE_URL OPS_TOKEN OUT.png [SECONDS]

Signs in with the token, waits SECONDS (default 20) for the city to move, clicks the busiest ride it
can find (one with an accepted driver, so its candidates show) and saves a 1280x720 screenshot.
"""
import shutil
import sys
import time

from playwright.sync_api import sync_playwright

base, token, out = sys.argv[1:4]
wait = float(sys.argv[4]) if len(sys.argv) > 4 else 20

with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), headless=True,
                                         args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(base + "/console")
    page.fill("#token", token)
    page.click("#signin button[type=submit]")
    time.sleep(wait)
    ride = page.evaluate(
        """() => { for (const [id, r] of window.consoleState.rides)
             if (r.status === 'accepted') return { id, lat: r.plat, lon: r.plon };
           return null; }"""
    )
    if ride:
        page.evaluate("([lat, lon]) => window.consoleState.focus(lat, lon, 0.5)", [ride["lat"], ride["lon"]])
        time.sleep(0.2)
        box = page.locator("#map").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        time.sleep(1)
        # Back to a view of the city around the chosen ride, its candidates drawn.
        page.evaluate("([lat, lon]) => window.consoleState.focus(lat, lon, 8)", [ride["lat"], ride["lon"]])
        page.mouse.move(5, 5)
    time.sleep(1.5)
    page.screenshot(path=out)
    print(f"saved {out}" + (f" with ride {ride['id']} selected" if ride else ""))
    browser.close()
