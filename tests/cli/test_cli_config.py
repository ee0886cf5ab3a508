"""Profiles and the config file: parsing, precedence, validation messages, writing."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest
import tomli_w

from flux_tui.base.errors import ConfigError
from flux_tui.config import (
    DEFAULT_TOKEN_URL,
    PRD_BASE_URL,
    STARTER,
    UiSettings,
    load_config,
    save_ui_setting,
    write_starter,
)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No real user config folder and no FLUX_* variables leak into these tests."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    for name in ("FLUX_TUI_CONFIG", "FLUX_PROFILE", "FLUX_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


GOOD = """
default_profile = "acme"

[profiles.acme]
company = "Acme"
client_id = "cid"
client_secret = "s3cret"
rate_limit = "10/10s"
page_limit = 500
start = "trim-horizon"

[profiles.local]
base_url = "http://127.0.0.1:8750/realtime"
token_url = "http://localhost:8750/oauth/token"
company = "demo"
client_id = "flux-demo"
client_secret_env = "LOCAL_SECRET"

[ui]
theme = "light"

[plugins.extra]
kept = 1
"""


def test_builtin_profiles_without_a_file(tmp_path: Path) -> None:
    config = load_config(env={})
    assert not config.exists
    prd = config.profile()
    assert prd.name == "prd" and prd.base_url == PRD_BASE_URL
    assert prd.token_url == DEFAULT_TOKEN_URL and prd.audience == "https://api.axil.ai"
    assert config.profile("dev").base_url == "https://dev-api.axil.ai/realtime"
    demo = config.profile("demo")
    assert demo.simulator and demo.company == "demo" and demo.resolve_secret() == "demo-secret"


def test_file_values_and_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD), env={})
    acme = config.profile()  # default_profile
    assert acme.name == "acme"
    assert acme.company == "acme"  # the API names companies in lower case
    assert acme.base_url == PRD_BASE_URL  # a profile of one's own starts from production
    assert (acme.rate_limit, acme.page_limit, acme.start) == ("10/10s", 500, "trim-horizon")
    assert acme.stream_url() == "https://api.axil.ai/realtime/acme"
    assert config.ui == {"theme": "light"}
    assert config.data["plugins"] == {"extra": {"kept": 1}}
    assert config.profile_names() == ["prd", "dev", "demo", "acme", "local"]


def test_secret_never_in_repr(tmp_path: Path) -> None:
    acme = load_config(write(tmp_path, GOOD), env={}).profile("acme")
    assert "s3cret" not in repr(acme) and "s3cret" not in str(acme)
    assert acme.masked()["client_secret"] == "***"


def test_precedence_file_env_option(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    env = {
        "FLUX_PROFILE": "acme",
        "FLUX_PAGE_LIMIT": "200",
        "FLUX_COMPANY": "envco",
        "FLUX_CLIENT_SECRET": "from-env",
    }
    profile = load_config(path, env=env).profile()
    assert (profile.page_limit, profile.company, profile.rate_limit) == (200, "envco", "10/10s")
    assert profile.resolve_secret() == "from-env"
    final = profile.with_overrides(page_limit=50, rate_limit=None, start="latest")
    assert (final.page_limit, final.start, final.company) == (50, "latest", "envco")
    # --profile beats FLUX_PROFILE, which beats default_profile
    assert load_config(path, env={"FLUX_PROFILE": "local"}).profile().name == "local"
    assert load_config(path, env={"FLUX_PROFILE": "local"}).profile("demo").name == "demo"


def test_env_credentials_do_not_reach_the_simulator() -> None:
    env = {"FLUX_CLIENT_SECRET": "prod", "FLUX_COMPANY": "acme", "FLUX_PAGE_LIMIT": "7"}
    demo = load_config(env=env).profile("demo")
    assert (demo.resolve_secret(), demo.company, demo.page_limit) == ("demo-secret", "demo", 7)


def test_config_location_from_env(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    assert load_config(env={"FLUX_TUI_CONFIG": str(path)}).path == path
    with pytest.raises(ConfigError, match="does not exist") as info:
        load_config(tmp_path / "missing.toml", env={})
    assert "missing.toml" in str(info.value)


@pytest.mark.parametrize(
    ("table", "key", "allowed"),
    [
        ('compnay = "x"', "compnay", "did you mean 'company'"),
        ("page_limit = 0", "page_limit", "from 1 to 10000"),
        ("page_limit = 10001", "page_limit", "from 1 to 10000"),
        ('page_limit = "lots"', "page_limit", "from 1 to 10000"),
        ('rate_limit = "fast"', "rate_limit", "CALLS/WINDOW"),
        ('start = "oldest"', "start", "latest, trim-horizon, an ISO-8601 time"),
        ('start = "trim_horizon"', "start", "did you mean 'trim-horizon'"),
        ('base_url = "ftp://x/realtime"', "base_url", "not a URL"),
        ('base_url = "http://api.axil.ai/realtime"', "base_url", "only allowed for a loopback"),
        ('token_url = "http://10.0.0.1/oauth/token"', "token_url", "only allowed for a loopback"),
        ('enterprise_url = "http://example.com/eo"', "enterprise_url", "loopback"),
        ('company = "acme corp"', "company", "letters, digits"),
        ("company = 7", "company", "must be a string"),
        ('simulator = "yes"', "simulator", "true or false"),
        ('client_secret = "a"\nclient_secret_env = "B"', "client_secret_env", "only one of"),
    ],
)
def test_wrong_values_name_file_profile_key_and_what_is_allowed(
    tmp_path: Path, table: str, key: str, allowed: str
) -> None:
    path = write(tmp_path, f"[profiles.site]\n{table}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert str(path) in message and "profile 'site'" in message and f"key {key!r}" in message
    assert allowed in message


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.5:9/realtime",
        "http://[::1]:9/realtime",
        "http://localhost:9/realtime",
        "https://example.com/r",
    ],
)
def test_loopback_http_and_https_are_accepted(tmp_path: Path, url: str) -> None:
    path = write(tmp_path, f'[profiles.site]\nbase_url = "{url}/"\n')
    assert load_config(path, env={}).profile("site").base_url == url  # trailing / dropped


def test_env_values_are_validated_and_named() -> None:
    env = {"FLUX_PAGE_LIMIT": "0"}
    with pytest.raises(ConfigError, match=r"environment, profile 'prd', key 'FLUX_PAGE_LIMIT'"):
        load_config(env=env).profile()
    env = {"FLUX_BASE_URL": "http://evil.example/realtime"}
    with pytest.raises(ConfigError, match="FLUX_BASE_URL.*loopback"):
        load_config(env=env).profile()


def test_option_values_are_validated_and_named() -> None:
    prd = load_config(env={}).profile()
    with pytest.raises(ConfigError, match="key '--page-limit'.*1 to 10000"):
        prd.with_overrides(page_limit=0)


def test_unknown_profile_suggests(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD), env={})
    with pytest.raises(ConfigError, match=r"no profile named 'acmee' \(did you mean 'acme'\?\)"):
        config.profile("acmee")


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[profiles.a]\ncompany = "x"\nbroken = \n')
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(path) in str(info.value) and "line 3" in str(info.value)


def test_bad_document_shape(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="profile 'a'"):
        load_config(write(tmp_path, "[profiles]\na = 1\n"), env={})
    with pytest.raises(ConfigError, match="key 'default_profile'"):
        load_config(write(tmp_path, "default_profile = 3\n"), env={})


def test_missing_credentials_are_named(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[profiles.a]\ncompany = 'x'\n"), env={})
    with pytest.raises(ConfigError, match="key 'client_id'"):
        config.profile("a").require_credentials()
    with pytest.raises(ConfigError, match="key 'company'"):
        config.profile("prd").require_credentials()


def test_secret_from_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    local = load_config(write(tmp_path, GOOD), env={}).profile("local")
    monkeypatch.delenv("LOCAL_SECRET", raising=False)
    with pytest.raises(ConfigError, match="LOCAL_SECRET is not set"):
        local.resolve_secret()
    monkeypatch.setenv("LOCAL_SECRET", "from-var")
    assert local.resolve_secret() == "from-var"


def test_secret_from_command(tmp_path: Path) -> None:
    py = sys.executable
    text = tomli_w.dumps(
        {
            "profiles": {
                "ok": {"client_secret_command": f"{py} -c \"print('  cmd-secret ')\""},
                "bad": {"client_secret_command": f"{py} -c \"print('leak'); exit(3)\""},
            }
        }
    )
    config = load_config(write(tmp_path, text), env={})
    assert config.profile("ok").resolve_secret() == "cmd-secret"
    with pytest.raises(ConfigError) as info:
        config.profile("bad").resolve_secret()
    message = str(info.value)
    assert "profile 'bad'" in message and "key 'client_secret_command'" in message
    assert "status 3" in message and "leak" not in message


def test_starter_file_is_private_valid_and_not_overwritten(tmp_path: Path) -> None:
    path = write_starter(tmp_path / "sub" / "config.toml")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == STARTER
    assert load_config(path, env={}).profile().name == "prd"
    path.write_text("# mine\n")
    with pytest.raises(ConfigError, match="already exists"):
        write_starter(path)
    assert path.read_text() == "# mine\n"
    write_starter(path, force=True)
    assert path.read_text() == STARTER and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_save_ui_setting_keeps_other_content(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    save_ui_setting(path, "theme", "dark")
    save_ui_setting(path, "keys.quit", "ctrl+q")
    config = load_config(path, env={})
    assert config.ui == {"theme": "dark", "keys": {"quit": "ctrl+q"}}
    assert config.profile("acme").resolve_secret() == "s3cret"
    assert config.data["plugins"] == {"extra": {"kept": 1}}
    fresh = tmp_path / "new" / "config.toml"
    save_ui_setting(fresh, "theme", "light")
    assert load_config(fresh, env={}).ui == {"theme": "light"}
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


def test_config_written_with_the_one_private_writer_leaves_a_chosen_folder_alone(
    tmp_path: Path,
) -> None:
    # --config ./x.toml: the current folder must not become 0700; a new folder is private
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    path = write_starter(shared / "config.toml")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    save_ui_setting(path, "theme", "dark")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in shared.iterdir()] == ["config.toml"]  # no temporary file left
    fresh = write_starter(tmp_path / "new" / "deeper" / "config.toml")
    assert stat.S_IMODE(fresh.parent.stat().st_mode) == 0o700


def test_ui_settings_are_typed_and_a_wrong_value_is_named(tmp_path: Path) -> None:
    path = tmp_path / "ui.toml"
    path.write_text('[ui]\ntheme = "light"\nlow_bandwidth = true\nlater = 1\n'
                    '[ui.keys]\nquit = "ctrl+q"\n')
    settings = load_config(path, env={}).ui_settings()
    assert (settings.theme, settings.low_bandwidth) == ("light", True)
    assert settings.keys == {"quit": "ctrl+q"}  # and a key it does not know is left alone
    bare = tmp_path / "bare.toml"
    bare.write_text('default_profile = "demo"\n')
    assert load_config(bare, env={}).ui_settings() == UiSettings()
    path.write_text('[ui]\nlow_bandwidth = "yes"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={}).ui_settings()
    assert "ui.low_bandwidth" in str(caught.value) and str(path) in str(caught.value)
    path.write_text('[ui.keys]\nquit = 3\n')
    with pytest.raises(ConfigError, match=r"ui\.keys\.quit"):
        load_config(path, env={}).ui_settings()


def test_a_wrong_ui_value_stops_the_viewer_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flux_tui.cli.main import main

    path = tmp_path / "ui.toml"
    path.write_text('[ui]\ntheme = 7\n')
    assert main(["--config", str(path), "demo"]) == 2
    assert "ui.theme" in capsys.readouterr().err
