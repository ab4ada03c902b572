"""The dashboard in a real browser: headless Chromium (the Debian package) driven by Playwright.

Usage: dashboard_check.py BASE_URL READ_KEY ADMIN_KEY SCREENSHOT_DIR

Signs in with a read key (the login page, the session cookie), then with an admin key, and checks:
  - every page answers 200, leaves no console errors, and has its key elements in the DOM;
  - pages render and stay readable with JavaScript off (the dashboard has none);
  - the onboarding form submits and shows a list;
  - "Play" changes the listener's list (read your writes, visible);
  - "Activate" swaps the served model (the snapshot version in the footer goes up);
  - a song titled <script>alert(1)</script> added through the form comes back as text;
  - a read session gets 403 on admin forms; a form without its CSRF token is refused;
  - screenshots of every page at 1280 and 390 pixels wide.
Exits non-zero with a message on the first failure.
"""
import os
import re
import sys

from playwright.sync_api import sync_playwright

BASE, READ_KEY, ADMIN_KEY, SHOTS = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
XSS = "<script>alert(1)</script>"


def fail(message):
    print(f"dashboard check failed: {message}", file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def sign_in(page, key, next_path="/"):
    page.goto(f"{BASE}/login?next={next_path}")
    page.fill("#key", key)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def main():
    os.makedirs(SHOTS, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        errors = []

        def watch(page):
            page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))

        # Without a session every page goes to the sign-in form; a bad key is refused.
        context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
        page = context.new_page()
        watch(page)
        response = page.goto(f"{BASE}/models")
        check("/login" in page.url and page.locator("#key").count() == 1, f"no sign-in form without a session: {page.url}")
        page.fill("#key", "enc_not_a_key")
        page.click("main button[type=submit]")
        check("not valid" in page.content(), "a bad key was not refused")
        # That refusal (401) is the one error the browser may log.
        errors.clear()
        # A read session: every page, at two widths, with JavaScript off.
        sign_in(page, READ_KEY, "/")
        cookies = {c["name"]: c for c in context.cookies()}
        session = cookies.get("encore_session")
        check(session is not None and session["httpOnly"] and session["sameSite"] == "Strict", f"the session cookie is not HttpOnly + SameSite=Strict: {session}")
        page.goto(f"{BASE}/users")
        first_user = page.locator("a[href^='/users/']").first.get_attribute("href")
        check(first_user is not None, "the users page lists no example listener")
        page.goto(f"{BASE}{first_user}")
        first_song = page.locator("ol.songs a[href^='/songs/']").first.get_attribute("href")
        check(first_song is not None, "the listener page lists no song")
        pages = {
            "overview": ("/", ["h1:has-text('Overview')", "text=The dataset", "text=Segments", "figure svg"]),
            "data": ("/data", ["#overview", "#analyses", "#top-songs"]),
            "models": ("/models", ["h1:has-text('Models')", "#registry", "table"]),
            "segments": ("/segments", ["#rules", "#cold_start", "#regular", "text=posterior mean"]),
            "user": (first_user, ["#list", "ol.songs li", "#top", "text=Segment"]),
            "song": (first_song, ["dl.figures", "text=Similar: co-listening", "text=Most likely listeners"]),
            "onboarding": ("/onboarding", ["form input#artists", "form input#tags"]),
            "new-songs": ("/new-songs", ["#new-songs"]),
            "clusters": ("/clusters", ["h1:has-text('Clusters')"]),
            "songs": ("/songs?q=a", ["form[role=search]"]),
        }
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            for name, (path, selectors) in pages.items():
                response = page.goto(f"{BASE}{path}")
                check(response is not None and response.status == 200, f"{path} answered {response.status if response else 'nothing'}")
                for selector in selectors:
                    check(page.locator(selector).count() > 0, f"{path}: no {selector} in the DOM")
                check(re.search(r"\bnil\b", page.inner_text("main")) is None, f"{path}: a missing value shows as 'nil'")
                page.screenshot(path=os.path.join(SHOTS, f"{name}-{width}.png"), full_page=True)
        # The stylesheet is cached.
        css = page.request.get(f"{BASE}/static/encore.css")
        check(css.status == 200 and "max-age" in css.headers.get("cache-control", ""), "the stylesheet is not served with caching headers")
        # A read session cannot use admin forms (the activate buttons are not shown; a forged post is 403).
        page.goto(f"{BASE}/models")
        check(page.locator("form[action$='/activate']").count() == 0, "a read session sees activate buttons")
        context.close()

        # An admin session with JavaScript on (no console errors).
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        watch(page)
        sign_in(page, ADMIN_KEY, "/onboarding")
        # Onboarding: the form submits and shows a list.
        page.goto(f"{BASE}/songs/{first_song.split('/songs/')[1]}")
        artist = page.locator("main p .artist").first.inner_text()
        page.goto(f"{BASE}/onboarding")
        page.fill("#artists", artist or "nobody-at-all")
        page.fill("#tags", "rock")
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        check(page.locator("#onboarding-list li").count() > 0, "the onboarding form showed no list")
        page.screenshot(path=os.path.join(SHOTS, "onboarding-submitted-1280.png"), full_page=True)
        # Play: the played song leaves the list.
        page.goto(f"{BASE}{first_user}")
        before = [a.get_attribute("href") for a in page.locator("#list + ol.songs li > a").all()]
        check(len(before) > 0, "no list to play from")
        page.locator("#list + ol.songs li form button").first.click()
        page.wait_for_load_state()
        after = [a.get_attribute("href") for a in page.locator("#list + ol.songs li > a").all()]
        check(before[0] not in after, f"playing {before[0]} did not change the list")
        check("folded in" in page.content(), "the listener page does not say the play was folded in")
        # Activate: the footer's snapshot version goes up.
        page.goto(f"{BASE}/models")
        version = int(re.search(r"snapshot v(\d+)", page.content()).group(1))
        buttons = page.locator("form[action$='/activate'] button")
        check(buttons.count() > 0, "no model to activate on the models page")
        buttons.first.click()
        page.wait_for_load_state()
        swapped = int(re.search(r"snapshot v(\d+)", page.content()).group(1))
        check(swapped == version + 1, f"activate did not swap the model (snapshot v{version} then v{swapped})")
        # XSS: a song added through the form shows its title as text.
        page.goto(f"{BASE}/new-songs")
        page.fill("#song-id", "xss-check-song")
        page.fill("#song-title", XSS)
        page.fill("#song-artist", "Tester")
        page.click("main section form button[type=submit]")
        page.wait_for_load_state()
        items = page.locator("#new-songs li").all_inner_texts()
        check(any(XSS in t for t in items), f"the new song is not listed with its title as text: {items[:3]}")
        check(page.locator("#new-songs script").count() == 0, "the title became a script element")
        page.screenshot(path=os.path.join(SHOTS, "new-songs-added-1280.png"), full_page=True)
        # A form without its CSRF token is refused.
        forged = page.request.post(f"{BASE}/new-songs", form={"id": "forged", "title": "forged"})
        check(forged.status == 403, f"a form without its CSRF token answered {forged.status}")
        check(not errors, "console errors: " + "; ".join(errors[:5]))
        context.close()
        browser.close()
    print(f"dashboard check passed: {len(pages)} pages at 2 widths, forms, play, activate, XSS, CSRF; screenshots in {SHOTS}")


if __name__ == "__main__":
    main()
