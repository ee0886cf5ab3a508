"""The command line in process: `config` actions, usage errors and their exit codes."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from flux_tui.api import errors
from flux_tui.base.errors import ConfigError
from flux_tui.cli.main import main
from flux_tui.cli.output import EXIT_AUTH, EXIT_FAILURE, EXIT_UNREACHABLE, EXIT_USAGE, exit_code_for


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A private config folder and no FLUX_* variables from the developer's shell."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in (
        "FLUX_TUI_CONFIG",
        "FLUX_PROFILE",
        "FLUX_BASE_URL",
        "FLUX_COMPANY",
        "FLUX_TOKEN_URL",
        "FLUX_AUDIENCE",
        "FLUX_CLIENT_ID",
        "FLUX_CLIENT_SECRET",
        "FLUX_RATE_LIMIT",
        "FLUX_PAGE_LIMIT",
    ):
        monkeypatch.delenv(name, raising=False)


def test_config_path_follows_option_env_and_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["config", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "xdg" / "flux-tui" / "config.toml")
    monkeypatch.setenv("FLUX_TUI_CONFIG", str(tmp_path / "env.toml"))
    assert main(["config", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "env.toml")
    assert main(["--config", str(tmp_path / "opt.toml"), "config", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "opt.toml")


def test_config_init_then_refuse_then_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "xdg" / "flux-tui" / "config.toml"
    assert main(["config", "init"]) == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "[profiles.prd]" in target.read_text()
    target.write_text("# edited\n")
    assert main(["config", "init"]) == EXIT_USAGE
    assert "already exists" in capsys.readouterr().err
    assert target.read_text() == "# edited\n"
    assert main(["config", "init", "--force"]) == 0
    assert "[profiles.prd]" in target.read_text()


def test_config_show_masks_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[profiles.acme]\ncompany = "acme"\nclient_id = "cid"\n'
        'client_secret = "file-secret"\n[ui]\ntheme = "light"\n'
    )
    monkeypatch.setenv("FLUX_CLIENT_SECRET", "env-secret")
    assert main(["--config", str(path), "config", "show"]) == 0
    out = capsys.readouterr().out
    assert "file-secret" not in out and "env-secret" not in out and "demo-secret" not in out
    assert 'client_secret = "***"' in out and "[profiles.acme]" in out
    assert 'theme = "light"' in out
    assert main(["config", "show", "--config", str(path), "--profile", "acme"]) == 0
    out = capsys.readouterr().out
    assert "[profiles.acme]" in out and "[profiles.prd]" not in out


def test_config_error_exit_code_and_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[profiles.acme]\npage_limit = 0\n")
    assert main(["--config", str(path), "tail", "--profile", "acme"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("flux-tui: error: ")
    assert str(path) in err and "profile 'acme'" in err and "key 'page_limit'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["tail", "--count", "0"],
        ["tail", "--duration", "-1"],
        ["tail", "--duration", "nan"],
        ["tail", "--duration", "inf"],
        ["tail", "--page-limit", "\u0661\u0660"],  # int() reads Arabic-Indic digits
        ["tail", "--page-limit", "1_0"],
        ["tail", "--format", "xml"],
        ["tail", "--from", "oldest"],
        ["frobnicate"],
        ["config"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == EXIT_USAGE
    assert "usage:" in capsys.readouterr().err


def test_option_beats_env_and_is_validated(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLUX_PAGE_LIMIT", "20")
    assert main(["tail", "--profile", "demo", "--page-limit", "0"]) == EXIT_USAGE
    assert "key '--page-limit'" in capsys.readouterr().err
    monkeypatch.setenv("FLUX_PAGE_LIMIT", "0")
    assert main(["tail", "--profile", "demo"]) == EXIT_USAGE
    assert "FLUX_PAGE_LIMIT" in capsys.readouterr().err


def test_missing_company_is_a_config_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tail", "--profile", "prd"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "profile 'prd'" in err and "key 'company'" in err


def test_help_and_version_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "exit codes" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert "flux-tui 0." in capsys.readouterr().out


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConfigError("x"), EXIT_USAGE),
        (errors.InvalidClientError("x"), EXIT_AUTH),
        (errors.MissingGrantError("x"), EXIT_AUTH),
        (errors.UnauthorizedError("x", 401), EXIT_AUTH),
        (errors.ForbiddenError("Forbidden", 403), EXIT_AUTH),
        (errors.AccessDeniedKinesisError("AccessDeniedException", "no", 400), EXIT_AUTH),
        (errors.AuthUnreachableError("x"), EXIT_UNREACHABLE),
        (errors.ConnectError("refused"), EXIT_UNREACHABLE),
        (errors.TimeoutError("slow"), EXIT_UNREACHABLE),
        (errors.ForbiddenError("Missing Authentication Token", 403), 5),
        (errors.GatewayServerError("HTTP 502", 502), 5),
        (errors.NonJSONResponse(403, "<html>"), 5),
    ],
)
def test_exit_code_for_each_kind_of_failure(error: Exception, code: int) -> None:
    assert exit_code_for(error) == code


def test_viewer_on_an_incomplete_profile_says_what_is_missing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([]) == EXIT_USAGE  # prd without company: no screen opens
    err = capsys.readouterr().err
    assert "profile 'prd'" in err and "key 'company'" in err


@pytest.mark.parametrize("argv", [["sim", "--host", "0.0.0.0"], ["sim", "--shards", "0"]])
def test_sim_refuses_bad_settings(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.err.startswith("flux-tui: error:") and captured.out == ""


def test_sim_on_a_busy_port_says_so_without_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["sim", "--port", str(port)]) == EXIT_FAILURE
    captured = capsys.readouterr()
    assert captured.err.startswith(f"flux-tui: error: cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in captured.err and captured.out == ""


@pytest.mark.parametrize("port", ["70000", "²", "-1"])
def test_sim_refuses_a_port_out_of_range(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "--port", port]) == EXIT_USAGE
    assert "not a port number" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["sim", "--backlog", "nan"],  # was a traceback (int(nan))
        ["sim", "--backlog", "inf"],
        ["sim", "--rate", "nan"],
        ["sim", "--rate", "inf"],  # was a server that hung on the first request
        ["sim", "--shards", "\u0662"],  # int() reads Arabic-Indic digits
        ["sim", "--seed", "1_0"],
    ],
)
def test_sim_refuses_non_finite_and_non_ascii_numbers(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--port", "0"]) == EXIT_USAGE
    captured = capsys.readouterr()
    assert "usage:" in captured.err and "Traceback" not in captured.err and captured.out == ""


def test_viewer_login_option_reaches_run_viewer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--login` opens the viewer on a person's login (device flow); without it the grant
    is chosen as for every command. Both the bare command and `demo` take it."""
    import flux_tui.ui.app as ui_app

    calls: list[dict[str, object]] = []

    def fake_run_viewer(profile: object, **kwargs: object) -> int:
        calls.append({"profile": getattr(profile, "name", None), **kwargs})
        return 0

    monkeypatch.setattr(ui_app, "run_viewer", fake_run_viewer)
    assert main(["demo", "--login"]) == 0
    assert main(["demo"]) == 0
    assert main(["--login", "--profile", "demo"]) == 0
    assert main(["--login", "demo"]) == 0  # before the command it holds too
    assert [(c["profile"], c["grant"]) for c in calls] == [
        ("demo", "device_code"),
        ("demo", "auto"),
        ("demo", "device_code"),
        ("demo", "device_code"),
    ]
    # a profile with no secret and no stored login: --login is the way in, not an error
    config = tmp_path / "c.toml"
    config.write_text('[profiles.tech]\ncompany = "acme"\ndevice_client_id = "dev-app"\n')
    assert main(["--config", str(config), "--profile", "tech"]) == EXIT_USAGE
    assert main(["--config", str(config), "--profile", "tech", "--login"]) == 0
    assert (calls[-1]["profile"], calls[-1]["grant"]) == ("tech", "device_code")


@pytest.mark.usefixtures("short_demo_history")
def test_ui_abbreviations_reach_the_tail_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """[ui.abbreviations] replaces words of the default table in the tail table's labels;
    a bad entry is a config error naming it."""
    from flux_tui.data.label_fit import configure_abbreviations

    path = tmp_path / "config.toml"
    path.write_text('[ui.abbreviations]\nTemperature = "Tmp"\n')
    try:
        code = main(["tail", "--config", str(path), "--profile", "demo", "--from",
                     "trim-horizon", "--count", "400", "--format", "table", "--utc",
                     "--filter", 'label:"stage 1 discharge temperature"'])
        out = capsys.readouterr().out
    finally:
        configure_abbreviations(None)
    assert code == 0
    assert "Stage 1 Discharge Tmp " in out, out[:400]
    assert "Stage 1 Discharge Temperature" not in out
    path.write_text('[ui.abbreviations]\nPressure = 3\n')
    assert main(["tail", "--config", str(path), "--profile", "demo", "--count", "1"]) == 2
    assert "ui.abbreviations" in capsys.readouterr().err
