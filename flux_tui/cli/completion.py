"""``flux-tui completion bash|zsh|fish``: a shell completion script, generated from the
command line's own parser (so it lists exactly the commands and options of this version).

    eval "$(flux-tui completion bash)"                 # ~/.bashrc
    eval "$(flux-tui completion zsh)"                  # ~/.zshrc
    flux-tui completion fish | source                  # ~/.config/fish/config.fish

Completes commands, options, option choices, ``--from`` forms (``latest``,
``trim-horizon``, durations like ``15m``, an ISO time of this hour) and file names; profile
names are asked at Tab time from ``flux-tui completion --profiles``, which reads only the
config file (a fresh list, no network, no credentials).

Why not argcomplete: it runs the whole program on every Tab press and needs its own
activation step per shell; zsh and fish go through its bash emulation. A generated script
costs nothing at Tab time except for profile names, and needs no extra dependency.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flux_tui.cli.output import EXIT_OK, EXIT_USAGE

SHELLS = ("bash", "zsh", "fish")
FROM_FORMS = ("latest", "trim-horizon", "5m", "15m", "1h", "6h", "24h")
# Options whose value is a file name; the others with a value complete nothing of their own.
FILE_OPTIONS = {"--config", "--out", "--to"}
_ISO_HOUR = "$(date -u +%Y-%m-%dT%H:00:00Z)"


def add_parser(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    parents: list[argparse.ArgumentParser],
    build_parser: Callable[[], argparse.ArgumentParser],
) -> None:
    """Register ``completion``; ``build_parser`` gives the whole command line to describe."""
    parser = commands.add_parser(
        "completion",
        parents=parents,
        help="print a shell completion script (bash, zsh, fish)",
        description='Print a completion script. bash: eval "$(flux-tui completion bash)" in '
        '~/.bashrc; zsh: eval "$(flux-tui completion zsh)" in ~/.zshrc; fish: flux-tui '
        "completion fish | source, in ~/.config/fish/config.fish.",
    )
    parser.add_argument("shell", nargs="?", choices=SHELLS, help="the shell")
    parser.add_argument("--profiles", action="store_true",
                        help="print the profile names, one a line (what the scripts call)")
    parser.set_defaults(run=run_completion, needs_profile=False, build_parser=build_parser)


@dataclass
class Command:
    """What completion needs to know of one command."""

    options: list[str] = field(default_factory=list)  # every spelling, sorted
    takes_value: set[str] = field(default_factory=set)
    choices: dict[str, list[str]] = field(default_factory=dict)
    files: bool = False  # positional arguments are files
    positional_choices: list[str] = field(default_factory=list)
    help: str = ""


def describe(parser: argparse.ArgumentParser) -> tuple[Command, dict[str, Command]]:
    """The top level and every command, read from the parser."""
    top = _command(parser)
    commands: dict[str, Command] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                commands[name] = _command(sub)
                commands[name].help = helps.get(name, "")
    return top, commands


def _command(parser: argparse.ArgumentParser) -> Command:
    command = Command()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):  # `auth status`, `config show`...
            command.positional_choices = [str(name) for name in action.choices]
            continue
        if not action.option_strings:
            if action.choices:
                command.positional_choices = [str(c) for c in action.choices]
            elif action.metavar in ("FILE", "SESSION"):
                command.files = True
            continue
        command.options += action.option_strings
        if action.nargs != 0:
            for option in action.option_strings:
                command.takes_value.add(option)
                if action.choices and option != "--from":
                    command.choices[option] = [str(c) for c in action.choices]
    command.options.sort()
    return command


def run_completion(args: argparse.Namespace) -> int:
    """``flux-tui completion``."""
    if args.profiles:
        from flux_tui.config import load_config

        try:
            names = load_config(getattr(args, "config", None)).profile_names()
        except Exception:  # noqa: BLE001 - completion must never print a traceback
            return EXIT_USAGE
        print("\n".join(names))
        return EXIT_OK
    if args.shell is None:
        print("flux-tui: name a shell: flux-tui completion bash|zsh|fish", file=sys.stderr)
        return EXIT_USAGE
    top, commands = describe(args.build_parser())
    script = {"bash": bash_script, "zsh": zsh_script, "fish": fish_script}[args.shell]
    sys.stdout.write(script(top, commands))
    return EXIT_OK


def _words(items: Any) -> str:
    return " ".join(shlex.quote(str(item)) for item in items)


def bash_script(top: Command, commands: dict[str, Command]) -> str:
    """A bash completion function (also what zsh runs, through bashcompinit)."""
    cases = []
    for name, command in sorted(commands.items()):
        choice_cases = "".join(
            f"                {option}) opts={shlex.quote(' '.join(values))} ;;\n"
            for option, values in sorted(command.choices.items()))
        positional = ("files" if command.files else
                      shlex.quote(" ".join(command.positional_choices)))
        cases.append(
            f"        {name})\n"
            f"            options={shlex.quote(' '.join(command.options))}\n"
            f"            values={shlex.quote(' '.join(sorted(command.takes_value)))}\n"
            f"            positional={positional}\n"
            f"            case \"$prev\" in\n{choice_cases}"
            f"            esac ;;\n")
    top_values = " ".join(sorted(top.takes_value))
    return f"""# flux-tui completion for bash (generated by `flux-tui completion bash`)
_flux_tui() {{
    local cur prev command="" i word skip=0 options values positional opts=""
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${{COMP_WORDS[i]}}"
        if ((skip)); then skip=0; continue; fi
        case " {top_values} " in *" $word "*) skip=1; continue ;; esac
        case "$word" in -*) continue ;; esac
        command="$word"; break
    done
    options={shlex.quote(' '.join(top.options))}
    values={shlex.quote(top_values)}
    positional={shlex.quote(' '.join(sorted(commands)))}
    case "$command" in
{''.join(cases)}    esac
    case "$prev" in
        --profile) COMPREPLY=($(compgen -W "$(flux-tui completion --profiles 2>/dev/null)" -- "$cur")); return ;;
        --from) COMPREPLY=($(compgen -W "{' '.join(FROM_FORMS)} {_ISO_HOUR}" -- "$cur")); return ;;
        {'|'.join(sorted(FILE_OPTIONS))}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
    if [[ -n "$opts" ]]; then COMPREPLY=($(compgen -W "$opts" -- "$cur")); return; fi
    case " $values " in *" $prev "*) COMPREPLY=(); return ;; esac
    if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$options" -- "$cur")); return; fi
    if [[ "$positional" == files ]]; then COMPREPLY=($(compgen -f -- "$cur")); return; fi
    COMPREPLY=($(compgen -W "$positional" -- "$cur"))
}}
complete -o default -F _flux_tui flux-tui
"""


def zsh_script(top: Command, commands: dict[str, Command]) -> str:
    """zsh runs the bash function through its own bash-completion layer (bashcompinit)."""
    return ("# flux-tui completion for zsh (generated by `flux-tui completion zsh`)\n"
            "autoload -U +X compinit && compinit -u\n"
            "autoload -U +X bashcompinit && bashcompinit\n"
            + bash_script(top, commands).split("\n", 1)[1])


def fish_script(top: Command, commands: dict[str, Command]) -> str:
    """Native fish completions."""
    lines = ["# flux-tui completion for fish (generated by `flux-tui completion fish`)",
             "complete -c flux-tui -f"]
    for name, command in sorted(commands.items()):
        lines.append(f"complete -c flux-tui -n __fish_use_subcommand -a {shlex.quote(name)} "
                     f"-d {shlex.quote(command.help)}")
    lines += _fish_options(top, "__fish_use_subcommand")
    for name, command in sorted(commands.items()):
        condition = f"'__fish_seen_subcommand_from {name}'"
        lines += _fish_options(command, condition)
        if command.files:
            lines.append(f"complete -c flux-tui -n {condition} -F")
        elif command.positional_choices:
            lines.append(f"complete -c flux-tui -n {condition} -a "
                         f"{shlex.quote(' '.join(command.positional_choices))}")
    return "\n".join(lines) + "\n"


def _fish_options(command: Command, condition: str) -> list[str]:
    lines = []
    for option in command.options:
        if not option.startswith("--"):
            continue
        spec = f"complete -c flux-tui -n {condition} -l {option[2:]}"
        if option == "--profile":
            spec += " -x -a '(flux-tui completion --profiles 2>/dev/null)'"
        elif option == "--from":
            spec += f" -x -a '{' '.join(FROM_FORMS)} (date -u +%Y-%m-%dT%H:00:00Z)'"
        elif option in FILE_OPTIONS:
            spec += " -r -F"
        elif option in command.choices:
            spec += f" -x -a {shlex.quote(' '.join(command.choices[option]))}"
        elif option in command.takes_value:
            spec += " -x"
        lines.append(spec)
    return lines
