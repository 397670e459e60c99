"""Command line of the VDI layer: ``python -m atp_core.vdiplatform verify ...``.

``add_verify_arguments(parser)`` and ``run_verify(args)`` let another CLI (``python -m atp_core
vdi verify``) offer the same command. Exit codes: 0 consistent, 1 inconsistent, 2 error.
"""

from __future__ import annotations

import argparse
import os
import sys

from atp_core.errors import AtpError


def add_verify_arguments(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get
    parser.add_argument(
        "--url", default=env("ATP_VDI_BASE_URL"), help="platform base URL (env ATP_VDI_BASE_URL)"
    )
    parser.add_argument(
        "--username",
        default=env("ATP_VDI_USERNAME", "admin"),
        help="admin user (env ATP_VDI_USERNAME, default admin)",
    )
    parser.add_argument(
        "--password-env",
        default="ATP_VDI_PASSWORD",
        help="name of the environment variable holding the password "
        "(default ATP_VDI_PASSWORD; never passed on the command line)",
    )
    parser.add_argument(
        "--libvirt-uri",
        default=None,
        help="libvirt URI of the (single) platform host; default: "
        "qemu+tcp://<host ip>/system for each host",
    )
    parser.add_argument(
        "--host-uri",
        action="append",
        default=[],
        metavar="HOST=URI",
        help="libvirt URI of one platform host (name or id); repeatable",
    )
    parser.add_argument("--prefix", default=None, help="only compare VMs whose name starts so")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--only-diff", action="store_true", help="print inconsistent rows only")
    parser.add_argument("--timeout", type=float, default=10.0, help="HTTP timeout (s)")


def run_verify(args: argparse.Namespace) -> int:
    from atp_core.vdiplatform.client import VdiClient
    from atp_core.vdiplatform.verify import verify_platform

    if not args.url:
        print("vdi verify: no platform URL (--url or ATP_VDI_BASE_URL)", file=sys.stderr)
        return 2
    password = os.environ.get(args.password_env)
    if password is None:
        print(f"vdi verify: set the password in ${args.password_env}", file=sys.stderr)
        return 2
    libvirt: object = args.libvirt_uri
    if args.host_uri:
        try:
            libvirt = dict(item.split("=", 1) for item in args.host_uri)
        except ValueError:
            print("vdi verify: --host-uri takes HOST=URI", file=sys.stderr)
            return 2
    try:
        with VdiClient(args.url, args.username, password, timeout=args.timeout) as client:
            report = verify_platform(client, libvirt, name_prefix=args.prefix)
    except AtpError as exc:
        print(f"vdi verify: {exc}", file=sys.stderr)
        return 2
    print(
        report.to_json(args.only_diff) if args.format == "json" else report.to_table(args.only_diff)
    )
    return report.exit_code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m atp_core.vdiplatform")
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser("verify", help="compare the platform's VMs with libvirt's")
    add_verify_arguments(verify)
    args = parser.parse_args(argv)
    return run_verify(args)
