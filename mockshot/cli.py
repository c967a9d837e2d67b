"""`mockshot serve | record | check | diff | report`: the command line mirrors `Settings`.

Every setting is a flag here (generated from the Settings fields, so none can be
forgotten), a `MOCKSHOT_*` variable and a config-file key of the same name. A bad setting
or scenario stops start-up with a clear message, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import fields

from .settings import ALIASES, CHOICES, CONFIG_ONLY, HELP, Settings, SettingsError

__all__ = ["main"]

REPEATABLE = ("api_key", "scenario", "variants", "record_normalise", "redact_header",
              "redact_field")
RECORD_AS = {"record_upstream": "upstream", "record_out": "out"}  # `record`'s own names


def _add_setting(parser: argparse.ArgumentParser, name: str, default: object) -> None:
    flag = "--" + name.replace("_", "-")
    kwargs: dict = {"dest": name, "help": HELP.get(name), "default": None}
    if name in REPEATABLE:
        kwargs["action"] = "append"
    elif isinstance(default, bool):
        kwargs["action"] = argparse.BooleanOptionalAction
    elif isinstance(default, int):
        kwargs["type"] = int
    elif isinstance(default, float):
        kwargs["type"] = float
    if name in CHOICES:
        kwargs["choices"] = CHOICES[name]
    parser.add_argument(flag, **kwargs)


def _add_settings(parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    for f in fields(Settings):
        if f.name not in CONFIG_ONLY and f.name not in skip:
            _add_setting(parser, f.name, f.default)
    for alias, name in ALIASES.items():
        parser.add_argument("--" + alias.replace("_", "-"), dest=alias, type=float,
                            default=None, help=f"older name of --{name.replace('_', '-')}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockshot", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    _add_settings(commands.add_parser("serve", help="serve the mock API over HTTP"))
    record = commands.add_parser("record", help="serve, forwarding chat calls to an upstream "
                                                "and recording each exchange")
    for name, flag in RECORD_AS.items():
        record.add_argument(f"--{flag}", dest=name, required=True, help=HELP[name],
                            metavar="URL" if flag == "upstream" else "DIR")
    _add_settings(record, skip=tuple(RECORD_AS))
    check = commands.add_parser("check", help="check scenario files and report every mistake")
    check.add_argument("files", nargs="+", help="scenario files (YAML or JSON) or directories")
    diff = commands.add_parser("diff", help="replay recordings against mockshot's generator "
                                            "and list where the shapes differ")
    diff.add_argument("paths", nargs="+", help="recordings: files or directories")
    diff.add_argument("--json", action="store_true", help="print the report as JSON")
    from .contract import command

    report = commands.add_parser("report", help="what a client exercised: the coverage "
                                                "report of a live mock or a saved journal")
    command.add_arguments(report)
    document = commands.add_parser("openapi", help="print the effective spec (spec + overlay, "
                                                   "streams described) as JSON")
    document.add_argument("--version", choices=("3.1", "3.2"), default="3.1",
                          help="3.2 describes stream events with itemSchema")
    return parser


def _announce(url: str) -> None:
    print(f"mockshot serving the Moonshot API at {url}/v1", flush=True)
    print(f"  point a client at it:  export MOONSHOT_BASE_URL={url}/v1 "
          f"OPENAI_BASE_URL={url}/v1 OPENAI_API_KEY=sk-mock", flush=True)
    print("  any non-empty API key is accepted unless --api-key is given; Ctrl-C stops",
          flush=True)


def _check(files: list[str]) -> int:
    from .scenarios.files import check_files, scenario_paths

    problems = check_files(files)
    for line in problems:
        print(line, file=sys.stderr)
    if not problems:
        print(f"{len(scenario_paths(files))} scenario file(s) OK")
    return 1 if problems else 0


def _serve(args: dict) -> int:
    try:
        settings = Settings.load(args)
    except SettingsError as exc:
        print(f"mockshot: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format="%(name)s: %(message)s")
    from .engine.catalog import CatalogError
    from .scenarios.files import ScenarioFileError
    from .server import serve
    from .state.sqlite_schema import StateFileError

    def announce(url: str) -> None:
        _announce(url)
        if settings.record_upstream:
            print(f"  recording: chat calls no rule answers go to {settings.record_upstream}; "
                  f"each exchange is written to {settings.record_out}/", flush=True)

    try:
        serve(settings, announce)
    except KeyboardInterrupt:  # uvicorn re-raises the signal after a clean shutdown
        return 0
    except ScenarioFileError as exc:
        print(f"mockshot: bad scenario file:\n{exc}", file=sys.stderr)
        return 2
    except (SettingsError, StateFileError) as exc:
        print(f"mockshot: {exc}", file=sys.stderr)
        return 2
    except CatalogError as exc:
        print(f"mockshot: setting models: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"mockshot: cannot serve: {exc}", file=sys.stderr)
        return 1
    return 0


def _diff(paths: list[str], as_json: bool) -> int:
    from .recording.drift import DriftError, drift_report, render_report

    try:
        report = drift_report(paths)
    except DriftError as exc:
        print(f"mockshot diff: {exc}", file=sys.stderr)
        return 2
    print(render_report(report, as_json))
    return 1 if any(item.differences for item in report) else 0


def main(argv: list[str] | None = None) -> int:
    args = vars(_parser().parse_args(argv))
    command = args.pop("command")
    if command == "check":
        return _check(args["files"])
    if command == "diff":
        return _diff(args["paths"], args["json"])
    if command == "report":
        from .contract.command import run

        return run(args)
    if command == "openapi":
        import json

        from .published import published_document

        print(json.dumps(published_document(args["version"]), indent=1, ensure_ascii=False))
        return 0
    return _serve(args)
