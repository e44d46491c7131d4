"""chat_server's chat page in a real browser: Debian's headless Chromium driven by Selenium
(python3-selenium, chromium-driver), with TCP clients in the same room.

    test_chat_browser.py --list
    test_chat_browser.py --chat-server BIN --run SCENARIO
    test_chat_browser.py --chat-server BIN --screenshot docs/images/chat-web.png

--screenshot redoes the documentation's picture: a phone-sized page mid-conversation. Run it
with Debian's /usr/bin/python3 (the one that sees python3-selenium). Exit code: 0 passed,
1 failed, 77 skipped (no browser installed). Every wait is bounded."""

import argparse
import os
import shutil
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from samples_support import (BIN, SKIP, WAIT, Failure, LineClient, Scope, Skipped,  # noqa: E402
                             check, linked_pattern, start_server, stop_server)

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
RECONNECT_LIMIT = 20.0  # The page must be back this long after the server is.


def start_chat(scope, *args, web="127.0.0.1:0"):
    server, address = start_server(scope, "chat_server", "--web", web, *args)
    url = server.expect(r"^web on (http://127\.0\.0\.1:(\d+)/)$")
    return server, address, url.group(1), int(url.group(2))


class Browser:
    """One headless Chromium with one or more pages (tabs) of the chat."""

    def __init__(self, scope):
        try:
            from selenium import webdriver
            from selenium.webdriver.chrome.service import Service
        except ImportError:
            raise Skipped("python3-selenium is not installed (scripts/setup installs it)")
        driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
        if not os.path.exists(driver_path) or not shutil.which("chromium"):
            raise Skipped("chromium or chromium-driver is not installed (scripts/setup installs them)")
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium")
        # Headless as root (the test machines) needs these three.
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--disable-gpu", "--no-first-run", "--disable-extensions"):
            options.add_argument(argument)
        self.profile = scope.temp_dir()
        options.add_argument("--user-data-dir=" + self.profile)
        self.driver = webdriver.Chrome(service=Service(driver_path), options=options)
        self.driver.set_page_load_timeout(WAIT)
        self.driver.set_script_timeout(WAIT)
        scope.browsers.append(self)
        self.pages = []

    def open(self, url, phone=False):
        """A new page (tab) of `url`; returns its Page."""
        if self.pages:
            self.driver.switch_to.new_window("tab")
        handle = self.driver.current_window_handle
        if phone:
            self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
        self.driver.get(url)
        page = Page(self, handle)
        self.pages.append(page)
        return page

    def quit(self):
        try:
            self.driver.quit()
        except Exception:  # noqa: BLE001 - the browser may already be gone
            pass


class Page:
    def __init__(self, browser, handle):
        self.browser = browser
        self.handle = handle

    @property
    def driver(self):
        self.browser.driver.switch_to.window(self.handle)
        return self.browser.driver

    def script(self, code, *args):
        return self.driver.execute_script(code, *args)

    def items(self):
        """The message list: [(class, text), ...]."""
        return [tuple(item) for item in self.script(
            "return Array.from(document.querySelectorAll('#messages li'))"
            ".map(li => [li.className, li.textContent]);")]

    def status(self):
        return self.script("return document.getElementById('status').textContent;")

    def wait_for(self, predicate, what, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise Failure("page: no %s within %.1f s; status %r, messages %r"
                              % (what, timeout, self.status(), self.items()[-8:]))
            time.sleep(0.05)

    def wait_for_item(self, kind, text, timeout=WAIT):
        self.wait_for(lambda: (kind, text) in self.items(), "%s %r" % (kind, text), timeout)

    def name(self, timeout=WAIT):
        """The page's name in the room (IP:PORT), once it is online."""
        status = self.wait_for(
            lambda: self.status().startswith("online as ") and self.status(), "connection",
            timeout)
        return status[len("online as "):]

    def send(self, text):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
        field = self.driver.find_element(By.ID, "input")
        field.send_keys(text + Keys.ENTER)  # Enter sends.
        self.wait_for(lambda: field.get_attribute("value") == "", "cleared input")


class BrowserScope(Scope):
    """A Scope that also quits the browsers it started (before killing the servers)."""

    def __init__(self):
        super().__init__()
        self.browsers = []

    def __exit__(self, *exc):
        for browser in self.browsers:
            browser.quit()
        return super().__exit__(*exc)


# ---- scenarios -------------------------------------------------------------------------------


def scenario_two_pages_and_a_tcp_client_chat_both_ways(scope):
    server, address, url, _ = start_chat(scope, "--max-connections", "3")
    tcp = LineClient(scope, address)
    server.expect(linked_pattern(tcp))
    browser = Browser(scope)
    alice = browser.open(url)
    alice_name = alice.name()
    bob = browser.open(url)
    bob_name = bob.name()
    alice.wait_for_item("event", bob_name + " joined")
    check(("event", "you joined as " + bob_name) in bob.items(), "bob was not told his name")

    tcp.send_line("hello browsers")
    alice.wait_for_item("line", "[%s] hello browsers" % tcp.name)
    bob.wait_for_item("line", "[%s] hello browsers" % tcp.name)
    alice.send("hello from alice")
    tcp.expect_line("[%s] hello from alice" % alice_name)
    bob.wait_for_item("line", "[%s] hello from alice" % alice_name)
    check(("mine", "[%s (you)] hello from alice" % alice_name) in alice.items(),
          "alice's page does not show her own line")
    bob.send("and from bob ✓")
    tcp.expect_line("[%s] and from bob ✓" % bob_name)
    alice.wait_for_item("line", "[%s] and from bob ✓" % bob_name)

    # Markup in a line is text: shown as sent, and no element is made from it.
    hostile = '<img src=x onerror="document.title=\'owned\'"><b>bold</b><script>x=1</script>'
    tcp.send_line(hostile)
    for page in (alice, bob):
        page.wait_for_item("line", "[%s] %s" % (tcp.name, hostile))
        made = page.script("return document.querySelectorAll("
                           "'#messages img, #messages b, #messages script').length;")
        check(made == 0, "markup in a line made %d elements" % made)
        check(page.script("return document.title;") == "coronet chat", "the title changed")

    # The room is full (3 members): a third page is refused and shows why.
    carol = browser.open(url)
    carol.wait_for_item("error", "error: server full (3 connections)")
    carol.wait_for(lambda: carol.status() == "room full, retrying…", "room full status")
    # It keeps trying (each try refused again) but says so once.
    time.sleep(2.5)
    refusals = [text for kind, text in carol.items() if kind == "error"]
    check(refusals == ["error: server full (3 connections)"], "refusals shown: %r" % refusals)
    check(carol.status() == "room full, retrying…", "status %r" % carol.status())

    # Leaving is shown: the TCP client exits.
    tcp_name = tcp.name
    tcp.send_line("exit")
    tcp.expect_end()
    for page in (alice, bob):
        page.wait_for_item("event", tcp_name + " left")
    stop_server(server, scope)


def scenario_the_page_reconnects_after_a_restart_on_the_same_port(scope):
    server, address, url, port = start_chat(scope)
    browser = Browser(scope)
    page = browser.open(url)
    first_name = page.name()
    server.signal(signal.SIGTERM)
    server.expect_exit(0)
    page.wait_for(lambda: "reconnecting" in page.status(), "reconnecting status")
    check(any(kind == "event" and "server stopped" in text for kind, text in page.items()),
          "the page did not say the server stopped: %r" % page.items()[-3:])
    # The same web port again; the page finds it by itself.
    server, address, _, _ = start_chat(scope, web="127.0.0.1:%d" % port)
    back = time.monotonic()
    second_name = page.name(timeout=RECONNECT_LIMIT)
    print("the page was back %.1f s after the server" % (time.monotonic() - back))
    check(second_name != first_name, "the same name after reconnecting: %s" % second_name)
    tcp = LineClient(scope, address)
    server.expect(linked_pattern(tcp))
    page.wait_for_item("event", tcp.name + " joined")
    tcp.send_line("welcome back")
    page.wait_for_item("line", "[%s] welcome back" % tcp.name)
    page.send("glad to be back")
    tcp.expect_line("[%s] glad to be back" % second_name)
    stop_server(server, scope)


def scenario_the_page_fits_a_390_px_phone_screen(scope):
    server, address, url, _ = start_chat(scope)
    browser = Browser(scope)
    page = browser.open(url, phone=True)
    check(page.script("return window.innerWidth;") == 390,
          "the page is %r px wide" % page.script("return window.innerWidth;"))
    page.name()
    tcp = LineClient(scope, address)
    server.expect(linked_pattern(tcp))
    # Long words, long lines, a long name: all must wrap, not widen the page.
    tcp.send_line("x" * 400)
    tcp.send_line("a very long line of chat " * 20)
    tcp.send_line("https://example.invalid/" + "path/" * 40)
    page.wait_for(lambda: len([i for i in page.items() if i[0] == "line"]) == 3, "three lines")
    page.send("y" * 300)
    widths = page.script(
        "return [document.scrollingElement.scrollWidth, window.innerWidth,"
        " document.getElementById('input').getBoundingClientRect().right];")
    check(widths[0] <= widths[1], "the page scrolls sideways: %d > %d" % (widths[0], widths[1]))
    check(widths[2] <= widths[1], "the input box reaches past the screen: %r" % widths)
    stop_server(server, scope)


def take_screenshot(scope, path):
    """The picture in docs/websocket.md: a phone-sized page in a conversation with two TCP
    members and another page."""
    server, address, url, _ = start_chat(scope, "--max-connections", "5")
    browser = Browser(scope)
    other = browser.open(url)
    other.name()
    page = browser.open(url, phone=True)
    page.name()
    ann, ben = LineClient(scope, address), LineClient(scope, address)
    server.expect(linked_pattern(ann))
    server.expect(linked_pattern(ben))
    ann.send_line("hi all, I'm on nc")
    time.sleep(0.1)
    ben.send_line("chat_client here. Who's on the web?")
    time.sleep(0.1)
    page.send("me, on a phone-sized page")
    other.send("and me in another tab")
    time.sleep(0.1)
    ann.send_line("markup stays text: <b>not bold</b> <script>alert(1)</script>")
    ben.send_line("exit")
    page.wait_for(lambda: len(page.items()) >= 9, "the conversation")
    time.sleep(0.3)
    check(page.driver.save_screenshot(path), "the screenshot was not saved")
    print("saved " + path)
    stop_server(server, scope)


SCENARIOS = {name[len("scenario_"):]: function
             for name, function in sorted(globals().items()) if name.startswith("scenario_")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print the scenario names")
    parser.add_argument("--run", choices=sorted(SCENARIOS), help="the scenario to run")
    parser.add_argument("--screenshot", metavar="PNG", help="save the documentation's picture")
    parser.add_argument("--chat-server", help="path of the built chat_server")
    args = parser.parse_args()
    if args.list:
        print("\n".join(SCENARIOS))
        return 0
    if not (args.run or args.screenshot) or not args.chat_server:
        parser.error("--run or --screenshot needs --chat-server")
    BIN.update(chat_server=args.chat_server)
    started = time.monotonic()
    name = args.run or "screenshot"
    try:
        with BrowserScope() as scope:
            if args.run:
                SCENARIOS[args.run](scope)
            else:
                take_screenshot(scope, os.path.abspath(args.screenshot))
    except Skipped as skipped:
        print("SKIPPED %s: %s" % (name, skipped))
        return SKIP
    except Failure as failure:
        print("FAILED %s: %s" % (name, failure))
        return 1
    print("passed %s in %.2f s" % (name, time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
