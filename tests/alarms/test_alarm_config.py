"""``[[alarms]]``, ``[alarm_options]``, ``[stale]``, ``[units]`` and ``[value_names]`` in the
config file, and the
``--rule`` text: good ones read, bad ones are config errors naming file, rule and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from flux_tui.alarms import RuleError, rule_from_text
from flux_tui.base.errors import ConfigError
from flux_tui.config import load_config
from flux_tui.config.field import alarm_rules, presentation, shelve_minutes, stale_policy

GOOD = """
[[alarms]]
name = "low suction"
when = 'label:"suction pressure" val<20'
for = "30s"
deadband = 1
severity = "critical"
bell = true

[[alarms]]
name = "stopped"
when = 'label:"run status" val=0'
latch = true

[stale]
stale_after = "5m"

[units]
"*flow*" = "m3/h"

[value_names."shutdown code"]
17 = "Low suction"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_good_tables_are_read(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD), env={})
    rules = alarm_rules(config.data, str(config.path))
    assert [(r.name, r.for_ms, r.deadband, r.severity, r.bell, r.latch) for r in rules] == [
        ("low suction", 30_000, 1.0, "critical", True, False),
        ("stopped", 0, 0.0, "warning", False, True),
    ]
    policy = stale_policy(config.data, None)
    assert policy is not None and policy.after_ms == 300_000
    shown = presentation(config.data, None)
    assert shown.show("Gas Flow Rate", 420.5) == "420.5 m3/h"  # the user's pattern first
    assert shown.show("Suction Pressure", 38.2) == "38.2 psi"  # defaults after it
    assert shown.show("Shutdown Code", 17) == "Low suction"
    assert shown.show("Run Status", 1) == "Running"
    assert shown.show("Run Status", 7) == "7"


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ('name = "x"\nwhen = "val<"', "alarms.when", "expected a value"),
        ('name = "x"\nwhen = "label:pressure"', "alarms.when", "comparison on the value"),
        ('name = "x"\nwhen = "val<3"\nfor = "soon"', "alarms.for", "duration"),
        ('name = "x"\nwhen = "val<3"\nseverity = "loud"', "alarms.severity", "critical"),
        ('name = "x"\nwhen = "val<3"\ndeadband = -1', "alarms.deadband", "≥ 0"),
        ('name = "x"\nwhen = "val<3 OR val>9"\ndeadband = 1', "alarms.deadband", "exactly one"),
        ('name = "x"\nwhen = "val<3"\nlatch = "yes"', "alarms.latch", "true or false"),
        ('name = "x"\nwhen = "val<3"\nring = true', "alarms.ring", "unknown key"),
        ('when = "val<3"', "alarms.name", "non-empty"),
    ],
)
def test_a_bad_rule_names_the_file_the_rule_and_the_key(
    tmp_path: Path, table: str, key: str, words: str
) -> None:
    path = write(tmp_path, f"[[alarms]]\n{table}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    message = str(caught.value)
    assert str(path) in message and f"key {key!r}" in message and words in message
    assert "alarm rule '" in message


def test_two_rules_of_one_name(tmp_path: Path) -> None:
    rule = '[[alarms]]\nname = "x"\nwhen = "val<3"\n'
    with pytest.raises(ConfigError, match="another rule has this name"):
        load_config(write(tmp_path, rule + rule), env={})


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[stale]\nstale_after = 'never'\n", "stale.stale_after"),
        ("[stale]\nafter = '5m'\n", "stale.after"),
        ("[units]\n'*x*' = 3\n", "units.*x*"),
        ("[units]\ndefaults = 'no'\n", "units.defaults"),
        ("[value_names]\n'run status' = 'Running'\n", "value_names.run status"),
    ],
)
def test_bad_field_tables(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), env={})
    assert f"key {key!r}" in str(caught.value)


@pytest.mark.parametrize(("value", "minutes"), [('"30m"', 30.0), ('"2h"', 120.0),
                                                ('"90s"', 1.5), ('"168h"', 7 * 24 * 60.0)])
def test_the_shelve_duration_is_configurable(tmp_path: Path, value: str, minutes: float) -> None:
    config = load_config(write(tmp_path, GOOD + f"\n[alarm_options]\nshelve = {value}\n"), env={})
    assert shelve_minutes(config.data, str(config.path)) == minutes
    assert shelve_minutes({}, None) == 15.0  # the default


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("[alarm_options]\nshelve = 'a while'\n", "alarm_options.shelve", "1 minute to 7 days"),
        ("[alarm_options]\nshelve = '30s'\n", "alarm_options.shelve", "1 minute to 7 days"),
        ("[alarm_options]\nshelve = '169h'\n", "alarm_options.shelve", "1 minute to 7 days"),
        ("[alarm_options]\nshelve = 30\n", "alarm_options.shelve", "like \"30m\""),
        ("[alarm_options]\nshelf = '30m'\n", "alarm_options.shelf", "unknown key"),
        ("alarm_options = 3\n", "alarm_options", "must be a table"),
    ],
)
def test_a_wrong_shelve_names_the_key_and_the_file(
    tmp_path: Path, text: str, key: str, words: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    message = str(caught.value)
    assert str(path) in message and f"key {key!r}" in message and words in message


def test_one_switch_turns_the_default_units_off() -> None:
    shown = presentation({"units": {"defaults": False}}, None)
    assert shown.show("Suction Pressure", 38.2) == "38.2"
    assert shown.show("Run Status", 0) == "Stopped"  # names are their own switch
    assert presentation({"value_names": {"defaults": False}}, None).show("Run Status", 0) == "0"


def test_demo_codes_only_on_the_demo() -> None:
    assert presentation({}, None, demo=True).show("Shutdown Code", 17) == "Low Suction Pressure"
    assert presentation({}, None).show("Shutdown Code", 17) == "17"


def test_units_never_go_on_states_or_text() -> None:
    shown = presentation({}, None)
    assert shown.show("Valve Loaded Position", 2) == "Loaded"
    assert shown.show("Engine Load", 68.1) == "68.1 %"
    assert shown.show("Suction Pressure", None) == "—"
    assert shown.show("Suction Pressure", True) == "true"
    assert shown.show("Suction Pressure", "\x1b[31mred") == "␛[31mred"
    assert shown.show_raw_too("Run Status", 1) == "Running (1)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("low: label:suction val<20", ("low", "label:suction val<20", 0, 0.0, False)),
        ("low: val<20 for 30s deadband 1", ("low", "val<20", 30_000, 1.0, False)),
        ("low: val<20 deadband 1 for 2m latch", ("low", "val<20", 120_000, 1.0, True)),
        (
            'hot: label:"oil temp: left" val>200',
            ("hot", 'label:"oil temp: left" val>200', 0, 0.0, False),
        ),
    ],
)
def test_rule_text(text: str, expected: tuple) -> None:
    rule = rule_from_text(text)
    assert (rule.name, rule.when, rule.for_ms, rule.deadband, rule.latch) == expected


@pytest.mark.parametrize(
    "text", ["no colon here", "low:", "low: val<3 for ever", "x: val<3 deadband z"]
)
def test_bad_rule_text(text: str) -> None:
    with pytest.raises(RuleError):
        rule_from_text(text)
