"""python3 -m liaison_partner init|run|selftest — see README.md beside this package."""
import argparse
import json
import sys


def main() -> int:
    try:
        import grpc  # noqa: F401
        import google.protobuf  # noqa: F401
        import cryptography  # noqa: F401
    except ImportError as e:
        print(f"liaison_partner: missing Python package ({e}); install Debian's: "
              "apt-get install -y python3-grpcio python3-protobuf python3-cryptography", file=sys.stderr)
        return 3
    ap = argparse.ArgumentParser(prog="liaison_partner")
    sub = ap.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("init", help="create this party's identity and partner bundle (§3–§5)")
    i.add_argument("--dir", required=True)
    i.add_argument("--party", required=True)
    i.add_argument("--name", action="append", required=True, help="LANG=display name (repeatable)")
    i.add_argument("--endpoint", required=True)
    i.add_argument("--bundle-out", required=True)
    r = sub.add_parser("run", help="run the interop scenario against a Liaison node")
    r.add_argument("--config", required=True)
    s = sub.add_parser("selftest", help="recompute the worked examples of PROTOCOL.md §10 and §11.6")
    s.add_argument("--descriptors", required=True)
    a = ap.parse_args()
    if a.cmd == "init":
        from . import pki
        names = dict(n.split("=", 1) for n in a.name)
        ident = pki.create_identity(a.dir, a.party, names)
        bundle = pki.make_bundle(ident.ca_key, ident.ca_cert, ident.party, names, a.endpoint, ident.attestations)
        with open(a.bundle_out, "w", encoding="utf-8") as f:
            json.dump(bundle, f, ensure_ascii=False, indent=2)
        fp = pki.fingerprint(ident.ca_cert)
        print(json.dumps({"party": a.party, "fingerprint": fp, "fingerprint_colon": pki.colon_fingerprint(fp), "kid": ident.kid}))
        return 0
    if a.cmd == "run":
        from .scenario import main_run
        return main_run(a.config)
    from . import selftest
    from .wire import Proto
    results = selftest.run(Proto(a.descriptors))
    for name, ok, detail in results:
        print(("ok  " if ok else "FAIL"), name, "" if ok else detail)
    return 0 if all(r[1] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
