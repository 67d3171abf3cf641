"""The playground's files: served at ``/`` and ``/playground/`` unless turned off (the page runs in tests/web)."""

from __future__ import annotations

from click.testing import CliRunner
from fastapi.testclient import TestClient

from openlisten.api.app import create_app
from openlisten.cli import _settings, main
from openlisten.config import Settings


def test_the_page_and_its_assets_are_served() -> None:
    http = TestClient(create_app(Settings(no_auth=True)))
    page = http.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<title>OpenListen playground</title>" in page.text
    for asset, kind in (("app.js", "text/javascript"), ("style.css", "text/css")):
        assert f'href="playground/{asset}"' in page.text or f'src="playground/{asset}"' in page.text
        response = http.get(f"/playground/{asset}")
        assert response.status_code == 200 and response.headers["content-type"].startswith(kind)


def test_no_playground_turns_it_off() -> None:
    http = TestClient(create_app(Settings(no_auth=True, playground=False)))
    for path in ("/", "/playground/app.js"):
        response = http.get(path)
        assert response.status_code == 404
        assert response.json()["err_code"] == "NOT_FOUND"  # the API's own 404, in Deepgram's shape


def test_other_paths_keep_the_apis_404() -> None:
    response = TestClient(create_app(Settings(no_auth=True))).get("/v2/listen")
    assert response.status_code == 404 and response.json()["err_code"] == "NOT_FOUND"


def test_serve_has_a_no_playground_flag() -> None:
    assert _settings(no_playground=True).playground is False
    assert _settings(no_playground=False).playground is True
    assert "--no-playground" in CliRunner().invoke(main, ["serve", "--help"]).output
