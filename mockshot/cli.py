"""`mockshot serve` and friends: the command line is a mirror of `Settings`.

Every flag has a `MOCKSHOT_*` variable and a config-file key of the same name; a bad
setting stops start-up with one clear line, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys

from .settings import Settings, SettingsError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockshot", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the mock API over HTTP")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--seed", type=int, help="seed for every generated reply (default 0)")
    serve.add_argument("--config", help="TOML or JSON config file with the same keys")
    serve.add_argument("--api-key", dest="api_key", action="append",
                       help="accept only this key (repeatable; default: any non-empty key)")
    serve.add_argument("--log-level", dest="log_level",
                       choices=["debug", "info", "warning", "error", "critical"])
    serve.add_argument("--clock", choices=["real", "virtual"],
                       help="real time (default) or a virtual clock that waits for nothing")
    serve.add_argument("--admin-token", dest="admin_token",
                       help="token the /_mockshot/ control API requires off loopback")
    return parser


def _announce(url: str) -> None:
    print(f"mockshot serving the Moonshot API at {url}/v1", flush=True)
    print(f"  point a client at it:  export MOONSHOT_BASE_URL={url}/v1 "
          f"OPENAI_BASE_URL={url}/v1 OPENAI_API_KEY=sk-mock", flush=True)
    print("  any non-empty API key is accepted unless --api-key is given; Ctrl-C stops",
          flush=True)


def main(argv: list[str] | None = None) -> int:
    args = vars(_parser().parse_args(argv))
    command = args.pop("command")
    try:
        settings = Settings.load(args)
    except SettingsError as exc:
        print(f"mockshot: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format="%(name)s: %(message)s")
    if command == "serve":
        from .server import serve

        try:
            serve(settings, _announce)
        except KeyboardInterrupt:  # uvicorn re-raises the signal after a clean shutdown
            return 0
        except (OSError, ValueError, RuntimeError) as exc:
            print(f"mockshot: cannot serve: {exc}", file=sys.stderr)
            return 1
    return 0
