"""A token endpoint that answers a web page was reached: `tail` says what came back and
exits 5 (the answer is not the API's), not 4 with a hint to check the network."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from test_cli_process import flux  # same folder

from flux_tui.cli.output import EXIT_API

PAGE = b"<!DOCTYPE html><html><head><title>Sign in to the hotel Wi-Fi</title></head></html>"


class _Portal(BaseHTTPRequestHandler):
    """A captive portal: every request gets the same HTML page."""

    def _page(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    do_GET = do_POST = _page

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def portal() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Portal)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_web_page_from_the_token_endpoint_exits_5_and_shows_it(
    tmp_path: Path, portal: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[profiles.local]\nbase_url = "{portal}/realtime"\ntoken_url = "{portal}/oauth/token"\n'
        'company = "demo"\nclient_id = "flux-demo"\nclient_secret = "demo-secret"\n'
    )
    done = flux(tmp_path, "--config", str(config), "tail", "--profile", "local")
    assert done.returncode == EXIT_API, done.stderr
    assert "HTTP 200" in done.stderr and "<!DOCTYPE html>" in done.stderr
    assert "token_url" in done.stderr
    assert "check the network" not in done.stderr and "Traceback" not in done.stderr
    assert "demo-secret" not in done.stderr
