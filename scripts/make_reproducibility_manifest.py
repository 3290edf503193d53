#!/usr/bin/env python3
"""Record what produced a CodeSelf result, or check that recorded files are unchanged.

    python3 scripts/make_reproducibility_manifest.py --output M.json --markdown-output M.md \\
        --include configs/ outputs/run1/ [--archive run1.tar.gz]
    python3 scripts/make_reproducibility_manifest.py --verify M.json     # exit 1 if changed

Paths are recorded relative to --root (default: the current directory). The archive never
holds secrets, data/raw/ or files with hidden tests unless --include-hidden is given.
"""

import argparse
from pathlib import Path

import _bootstrap  # noqa: F401

from codeself.cli import check_outputs, run_main
from codeself.jsonl import write_json, write_text
from codeself.reporting import manifest

PROG = "make_reproducibility_manifest.py"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", help="manifest JSON to write (docs/schemas.md, 'Reproducibility manifest')")
    parser.add_argument("--markdown-output", help="human-readable summary to write")
    parser.add_argument("--include", nargs="+", action="extend", default=[], metavar="PATH",
                        help="files or directories (recursively) to hash and archive: configs, task files, "
                             "split manifests, outputs")
    parser.add_argument("--archive", help="also write a deterministic .tar.gz of the included files")
    parser.add_argument("--include-hidden", action="store_true",
                        help="also include data/raw/ and files holding hidden tests (never do this for a "
                             "public release)")
    parser.add_argument("--root", default=".", help="directory the recorded paths are relative to (default: .)")
    parser.add_argument("--verify", metavar="MANIFEST",
                        help="re-hash the files of an existing manifest and report changes (exit 1 if any)")
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    return parser


def _verify(args: argparse.Namespace) -> int:
    report = manifest.verify(manifest.load_manifest(args.verify), Path(args.root))
    for name in report["changed"]:
        print(f"changed: {name}")
    for name in report["missing"]:
        print(f"missing: {name}")
    problems = len(report["changed"]) + len(report["missing"])
    if problems:
        print(f"{PROG}: {problems} of {report['checked']} files differ from {args.verify}")
        return 1
    if not args.quiet:
        print(f"{PROG}: all {report['checked']} files match {args.verify}")
    return 0


def _run(args: argparse.Namespace) -> int:
    if args.verify:
        return _verify(args)
    if not args.output or not args.markdown_output:
        raise ValueError("--output and --markdown-output are required (or use --verify MANIFEST)")
    check_outputs({"--output": args.output, "--markdown-output": args.markdown_output, "--archive": args.archive})
    outputs = [Path(p) for p in (args.output, args.markdown_output, args.archive) if p]
    document = manifest.build_manifest(args.include, Path(args.root), include_hidden=args.include_hidden,
                                       archive=Path(args.archive) if args.archive else None,
                                       skip=tuple(outputs))
    write_json(args.output, document)
    write_text(args.markdown_output, manifest.render_markdown(document))
    if not args.quiet:
        excluded = f", {len(document['excluded'])} hashed but not archived" if document["excluded"] else ""
        print(f"{PROG}: {len(document['files'])} files{excluded}; wrote {args.output}, {args.markdown_output}"
              + (f", {args.archive}" if args.archive else ""))
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
