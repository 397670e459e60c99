"""``python -m vdisim --port 8088 [--backend memory|libvirt] [--libvirt-uri [NAME=]URI ...]
[--seed ...]``."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m vdisim", description="OCloudView VDI platform simulator"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=8088, help="port (default 8088; 0 = any free port)"
    )
    parser.add_argument("--backend", choices=("memory", "libvirt"), default="memory")
    parser.add_argument(
        "--libvirt-uri",
        action="append",
        metavar="[NAME=]URI",
        help="libvirt backend: a libvirtd, one platform host each (repeat for several hosts; "
        "new VMs go to the host with the fewest; default qemu:///system)",
    )
    parser.add_argument(
        "--prefix",
        default="atp-vdi-",
        help="libvirt backend: only domains named <prefix>... are created/changed/removed",
    )
    parser.add_argument(
        "--seed",
        choices=("lab", "empty"),
        default="lab",
        help="memory backend: 'lab' = the documented lab's host/VMs/pool; 'empty' = template only",
    )
    parser.add_argument(
        "--vms", type=int, default=0, help="memory backend: add this many generated VMs"
    )
    parser.add_argument(
        "--hosts", type=int, default=1, help="memory backend: number of online hosts"
    )
    parser.add_argument(
        "--op-delay", type=float, default=0.5, help="memory backend: seconds per VM operation"
    )
    parser.add_argument(
        "--token-ttl", type=float, default=None, help="tokens expire after this many seconds"
    )
    parser.add_argument(
        "--faults", default=None, help="initial faults as JSON (see POST /_sim/faults)"
    )
    parser.add_argument(
        "--record", action="store_true", help="record exchanges (GET /_sim/records)"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s vdisim %(levelname)s %(message)s",
    )
    from vdisim.backends import LibvirtBackend, MemoryBackend
    from vdisim.platform import Platform
    from vdisim.server import SimServer

    if args.vms < 0 or args.op_delay < 0:
        print("vdisim: --vms and --op-delay must be >= 0", file=sys.stderr)
        return 2
    try:
        if args.backend == "libvirt":
            backend = LibvirtBackend(args.libvirt_uri or ["qemu:///system"], args.prefix)
        else:
            backend = MemoryBackend(args.op_delay)
    except Exception as exc:  # libvirtd not reachable, empty prefix
        print(f"vdisim: cannot start the {args.backend} backend: {exc}", file=sys.stderr)
        return 2
    platform = Platform(
        backend,
        seed=args.seed,
        extra_vms=args.vms,
        extra_hosts=max(0, args.hosts - 1),
        token_ttl=args.token_ttl,
    )
    try:
        server = SimServer(platform, args.host, args.port, record=args.record)
    except OSError as exc:
        print(f"vdisim: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    if args.faults:
        try:
            server.httpd.faults.apply(json.loads(args.faults), platform)
        except Exception as exc:
            print(f"vdisim: bad --faults: {exc}", file=sys.stderr)
            return 2

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(
        f"vdisim: {args.backend} backend listening on {server.base_url} (admin / 11111111)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
        platform.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
