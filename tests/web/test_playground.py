"""The playground page in headless Chromium: a file upload, an error, and live mode on a fake microphone.

Chromium's fake capture device plays a WAV of espeak-ng speech in a loop as the microphone
(``--use-file-for-fake-audio-capture``), so the page's whole path runs: getUserMedia, the PCM worklet,
the temporary-token grant and the WebSocket. Screenshots go to ``artifacts/`` (gitignored).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from openlisten.config import Settings
from tests.conftest import REPO, espeak_samples, wav_bytes, words_of
from tests.e2e.conftest import API_KEY, LiveServer, serve_in_thread

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = REPO / "artifacts"
#: Long enough without a pause that interims come (one per second of an utterance), then silence to end it.
LIVE_TEXT = "the quick brown fox jumps over the lazy dog and runs across the green field to the old red barn"
FILE_TEXT = "hello world this is a test of the playground"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs headless Chromium: apt-get install chromium chromium-driver (.ci/run installs them)",
    ),
]

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def _speech_wav(path: Path, text: str, lead_s: float, tail_s: float) -> Path:
    samples, rate = espeak_samples(text)
    lead, tail = np.zeros(int(rate * lead_s), np.int16), np.zeros(int(rate * tail_s), np.int16)
    path.write_bytes(wav_bytes(np.concatenate([lead, samples, tail]), rate))
    return path


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="playground-") as name:
        yield Path(name)


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    live_server, stop = serve_in_thread(Settings(api_keys=[API_KEY], cpu_threads=1))
    yield live_server
    stop()


@pytest.fixture(scope="module")
def browser(workdir: Path) -> Iterator[webdriver.Chrome]:
    microphone = _speech_wav(workdir / "microphone.wav", LIVE_TEXT, lead_s=0.5, tail_s=2.5)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={workdir / 'profile'}",
        "--window-size=1200,860",
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    yield driver
    driver.quit()


def _open(browser: webdriver.Chrome, server: LiveServer, key: str = API_KEY) -> None:
    browser.get(server.base_url + "/")
    field = browser.find_element(By.ID, "api-key")
    field.clear()
    field.send_keys(key + "\t")  # the change event stores it for the page


def _screenshot(browser: webdriver.Chrome, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    browser.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


def test_upload_shows_the_transcript_with_word_timings(
    browser: webdriver.Chrome, server: LiveServer, workdir: Path
) -> None:
    audio = _speech_wav(workdir / "hello.wav", FILE_TEXT, lead_s=0.3, tail_s=0.3)
    _open(browser, server)
    browser.find_element(By.ID, "file").send_keys(str(audio))
    wait = WebDriverWait(browser, 60)
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#transcript .word"))
    words = browser.find_elements(By.CSS_SELECTOR, "#transcript .word")
    assert {"hello", "world", "test", "playground"} <= set(words_of(" ".join(w.text for w in words)))
    assert re.fullmatch(r"\d+\.\d\d s – \d+\.\d\d s · confidence \d\.\d\d", words[0].get_attribute("title"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#words tbody tr")) == len(words)
    response = json.loads(browser.execute_script("return document.getElementById('json').textContent"))
    assert response["metadata"]["duration"] > 2
    assert "transcribed in" in browser.find_element(By.ID, "status").text
    assert not browser.find_element(By.ID, "error").is_displayed()
    _screenshot(browser, "playground-file.png")

    # An option the server refuses: its Deepgram error, shown as it is.
    model = browser.find_element(By.NAME, "model")
    model.clear()
    model.send_keys("no-such-model")
    browser.find_element(By.ID, "file").send_keys(str(audio))
    wait.until(lambda b: b.find_element(By.ID, "error").is_displayed())
    error = browser.find_element(By.ID, "error").text
    assert error.startswith("400 INVALID_QUERY_PARAMETER: "), error
    assert "no-such-model" in error


#: Records what the live area shows after every change: whether an interim or a final was on screen.
_WATCH_LIVE = """
window.seen = [];
new MutationObserver(() => {
  const text = (selector) => [...document.querySelectorAll(selector)].map((e) => e.textContent).join(" ").trim();
  window.seen.push({interim: text("#live .interim"), final: text("#live .final")});
}).observe(document.getElementById("live"), {subtree: true, childList: true, characterData: true});
"""


def test_live_mode_with_a_wrong_key_says_why(browser: webdriver.Chrome, server: LiveServer) -> None:
    _open(browser, server, key="wrong-key")
    browser.find_element(By.ID, "live-toggle").click()
    WebDriverWait(browser, 30).until(lambda b: b.find_element(By.ID, "live-state").text == "error")
    assert browser.find_element(By.ID, "error").text == "401 INVALID_AUTH: Invalid credentials."


def test_live_mode_streams_the_microphone(browser: webdriver.Chrome, server: LiveServer) -> None:
    _open(browser, server)
    browser.execute_script(_WATCH_LIVE)
    browser.find_element(By.ID, "live-toggle").click()
    state = browser.find_element(By.ID, "live-state")
    WebDriverWait(browser, 30).until(lambda b: state.text == "live")
    WebDriverWait(browser, 60).until(lambda b: "barn" in b.find_element(By.ID, "live").text.lower())
    _screenshot(browser, "playground-live.png")
    browser.find_element(By.ID, "live-toggle").click()
    WebDriverWait(browser, 30).until(lambda b: state.text == "closed")
    assert "of audio streamed" in browser.find_element(By.ID, "status").text
    assert not browser.find_element(By.ID, "error").is_displayed()

    seen = browser.execute_script("return window.seen")
    first_final = next(i for i, snapshot in enumerate(seen) if snapshot["final"])
    assert any(snapshot["interim"] for snapshot in seen[:first_final]), seen
    finals = words_of(browser.find_element(By.CSS_SELECTOR, "#live .final").text)
    assert {"quick", "lazy", "green", "field"} <= set(finals), finals


def test_live_turns_mode_shows_each_turn_closing(browser: webdriver.Chrome, server: LiveServer) -> None:
    """With "turns" the microphone goes to /v2/listen (Flux): each turn is set with what ended it."""
    _open(browser, server)
    browser.find_element(By.ID, "live-turns").click()
    browser.find_element(By.ID, "live-toggle").click()
    state = browser.find_element(By.ID, "live-state")
    WebDriverWait(browser, 30).until(lambda b: state.text == "live")
    ended = "#live .line[data-turn]"

    def whole_sentence(b: webdriver.Chrome) -> object:
        # The fake microphone loops its file, and the page may open it mid-sentence: wait for a turn that
        # holds the sentence's start, however many turns came before it.
        for line in b.find_elements(By.CSS_SELECTOR, ended):
            if {"quick", "brown", "fox"} <= set(words_of(line.find_element(By.CSS_SELECTOR, ".final").text)):
                return line
        return None

    turn = WebDriverWait(browser, 60).until(whole_sentence)
    _screenshot(browser, "playground-turns.png")
    label = turn.get_attribute("data-turn") or ""  # type: ignore[attr-defined]
    browser.find_element(By.ID, "live-toggle").click()
    WebDriverWait(browser, 30).until(lambda b: state.text == "closed")
    assert not browser.find_element(By.ID, "error").is_displayed()
    assert re.fullmatch(r"turn \d+ · (model|timeout|manual) · \d\.\d\d", label), label
    browser.find_element(By.ID, "live-turns").click()  # back to /v1/listen for the other tests
