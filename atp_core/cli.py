"""Command line of the engine: ``python -m atp_core validate|convert|run|vdi ...``.

- ``validate FILE...``: exit 0 when every file loads, 1 when one does not; problems are printed
  one per line as ``file:line:col: path: message (allowed: ...)``.
- ``convert FILE [-o OUT]``: print (or write) the version-1 YAML of a scenario (legacy or not).
- ``run``: added by :mod:`atp_core.orchestrator.cli_run` (``add_run_command(subparsers)``).
- ``vdi verify``: the VDI layer's consistency check.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_ERROR = 2


def _validate(args: argparse.Namespace) -> int:
    from atp_core.orchestrator import ScenarioValidationError, load_scenario_file

    status = EXIT_OK
    for name in args.files:
        try:
            scenario = load_scenario_file(name)
        except ScenarioValidationError as exc:
            status = EXIT_INVALID
            for issue in exc.issues:
                print(issue.format(name), file=sys.stdout)
            continue
        if not args.quiet:
            steps = len(scenario.steps) + len(scenario.finally_)
            print(f"{name}: ok ({scenario.name!r}, {steps} top-level steps)")
    return status


def _convert(args: argparse.Namespace) -> int:
    from atp_core.orchestrator import ScenarioValidationError, convert_to_v1

    try:
        raw = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"{args.file}: cannot read the file: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    try:
        text = convert_to_v1(raw, filename=args.file)
    except ScenarioValidationError as exc:
        for issue in exc.issues:
            print(issue.format(args.file), file=sys.stderr)
        return EXIT_INVALID
    if args.output in (None, "-"):
        sys.stdout.write(text)
        return EXIT_OK
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"{args.output}: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


def _add_vdi(subparsers: argparse._SubParsersAction) -> None:
    from atp_core.vdiplatform.cli import add_verify_arguments, run_verify

    vdi = subparsers.add_parser("vdi", help="VDI platform commands")
    vdi_sub = vdi.add_subparsers(dest="vdi_command", required=True)
    verify = vdi_sub.add_parser("verify", help="compare the platform's VMs with libvirt's")
    add_verify_arguments(verify)
    verify.set_defaults(handler=run_verify)


# Commands that need only the loader: their parser leaves out ``run`` and ``vdi``, whose
# imports (executor, protocol, HTTP client) would cost more than the validation itself.
_LIGHT_COMMANDS = ("validate", "convert")


def build_parser(light: bool = False) -> argparse.ArgumentParser:
    """The whole command line; ``light`` leaves out the commands with heavy imports."""
    parser = argparse.ArgumentParser(
        prog="python -m atp_core", description="OCloudView ATP scenario engine"
    )
    subparsers = parser.add_subparsers(dest="command", required=True)

    validate = subparsers.add_parser(
        "validate", help="check scenario files (exit 0 valid, 1 invalid)"
    )
    validate.add_argument("files", nargs="+", metavar="FILE", help="YAML or JSON scenario")
    validate.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    validate.set_defaults(handler=_validate)

    convert = subparsers.add_parser(
        "convert", help="print the version-1 form of a (legacy) scenario"
    )
    convert.add_argument("file", metavar="FILE")
    convert.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    convert.set_defaults(handler=_convert)

    if not light:
        from atp_core.orchestrator.cli_run import add_run_command

        add_run_command(subparsers)
        _add_vdi(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if os.environ.get("ATP_LOG"):  # levels per layer: ATP_LOG=info,atp_core.transport=debug
        from atp_core.logconfig import configure_logging

        configure_logging()
    parser = build_parser(light=bool(argv) and argv[0] in _LIGHT_COMMANDS)
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
