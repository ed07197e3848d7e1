"""The ``gpufleet`` command: run the report, list its parameters, print its results."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import textwrap
import threading
from pathlib import Path
from typing import NoReturn

from gpufleet.book import notebooks
from gpufleet.build import forks, provenance, results, runner
from gpufleet.build.files import write_atomic
from gpufleet.errors import InputError, RunError
from gpufleet.formatting import number
from gpufleet.model import data as _data
from gpufleet.model import scenarios
from gpufleet.model.params import allowed, unknown_name_error

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_BROKEN_PIPE = 141  # what a shell reports for a program stopped by SIGPIPE


def _root(args: argparse.Namespace) -> Path:
    return _data.find_root(Path(args.root) if args.root else None)


def _cmd_run(args: argparse.Namespace) -> int:
    root = _root(args)
    the_plan = runner.plan(root, sets=args.set, only=args.only, scenario=args.scenario)
    names = ", ".join(nb.name for nb in the_plan.notebooks)
    print(
        f"gpufleet run: {len(the_plan.notebooks)} notebook(s) ({names})"
        + (f", scenario {the_plan.scenario}" if the_plan.scenario else "")
        + (", no build" if args.no_build else ""),
        flush=True,
    )
    if the_plan.never_run:
        print(
            f"  also running {', '.join(the_plan.never_run)}: never run before, and the book "
            "needs every chapter",
            flush=True,
        )
    outcome = runner.run(
        the_plan,
        jobs=args.jobs,
        build_site=not args.no_build,
        force=args.force,
        allow_mixed=args.allow_mixed,
        log=lambda line: print(line, flush=True),
        worker=args.worker,
    )
    if args.timings:
        for phase, seconds in outcome.seconds.items():
            print(f"timing {phase.replace(' ', '-')} {seconds:.3f}")
    return 0


def _cmd_params(args: argparse.Namespace) -> int:
    root = _root(args)
    project = _data.load(root)
    users = notebooks.parameter_users(root)
    rows = {
        name: {
            "notebooks": users.get(name, []),
            "type": p.type,
            "default": p.default,
            "unit": p.unit,
            "low": p.low,
            "high": p.high,
            "allowed": allowed(p),
            "choices": list(p.choices),
            "description": p.description,
            "source": list(p.source),
            "note": p.note,
        }
        for name, p in project.parameters.items()
    }
    unknown = [name for name in args.names if name not in rows]
    if unknown:
        raise unknown_name_error(unknown[0], rows)
    if args.names:
        rows = {name: rows[name] for name in args.names}
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    width = _width()
    for name, row in rows.items():
        unit = f" {row['unit']}" if row["unit"] not in (None, "id") else ""
        plausible = (
            f"; sourced range {number(row['low'])} to {number(row['high'])}"
            if row["low"] is not None
            else ""
        )
        plain = row["type"] == "choice" or row["unit"] == "id"  # a seed has no separators
        default = row["default"] if plain else number(row["default"])
        print(f"{name} = {default}{unit}")
        for text in (
            row["description"],
            f"allowed: {row['allowed']}{plausible}",
            f"source: {', '.join(row['source'])}",
            f"used by: {', '.join(row['notebooks']) or 'no notebook yet'}",
        ):
            print(textwrap.fill(text, width, initial_indent="    ", subsequent_indent="    "))
    return 0


def _width() -> int:
    """The terminal's width (``COLUMNS`` where set), at most 100 columns for readable lines."""
    return min(shutil.get_terminal_size((80, 24)).columns, 100)


def _warn_if_mixed(root: Path, chapters: dict) -> list[str]:
    """Say on stderr when the chapters were not computed with one set of assumptions."""
    problems = results.problems(root, chapters)
    if problems:
        print(
            "gpufleet: warning: the chapters were not all computed with the same assumptions: "
            + "; ".join(problems),
            file=sys.stderr,
        )
    return problems


def _write(text: str, out: str | None, what: str) -> None:
    if out:
        write_atomic(Path(out), text)
        print(f"wrote {what} to {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def _cmd_results(args: argparse.Namespace) -> int:
    root = _root(args)
    chapters = results.chapters(root)
    found = results.collect(root, chapters)
    problems = _warn_if_mixed(root, chapters)
    if args.json:
        _write(json.dumps(found, indent=2, sort_keys=True) + "\n", args.out, "the headlines")
        return 0
    if args.csv:
        _write(results.csv_text(root, chapters), args.out, "the headlines")
        return 0
    if not found:
        print("no results yet: run `gpufleet run` first", file=sys.stderr)
        return EXIT_FAILED
    width = _width()
    project = _data.load(root)
    if not problems:
        together = provenance.combined(results.records(chapters))
        words = provenance.in_words(together, project)
        print(textwrap.fill(f"Computed with {words}.", width), end="\n\n")
    for key, row in found.items():
        unit = "" if row["unit"] == "count" else f" {row['unit']}"
        print(textwrap.fill(f"{key}: {number(row['value'])}{unit}", width))
        lines = [f"{row['description']} [{row['notebook']}]"]
        if "p5" in row:
            lines.insert(0, f"90% of samples: {number(row['p5'])} to {number(row['p95'])}{unit}")
        for text in lines:
            print(textwrap.fill(text, width, initial_indent="    ", subsequent_indent="    "))
    # A headline its chapter computed but could not glue: not a finite number (a job that makes
    # no progress never finishes). The chapter says why.
    for key, headline in project.headlines.items():
        if key not in found and headline.notebook in chapters:
            print(
                textwrap.fill(
                    f"{key}: no finite value with these assumptions (the {headline.notebook} "
                    "chapter says why)",
                    width,
                )
            )
            print(
                textwrap.fill(
                    f"{headline.description} [{headline.notebook}]",
                    width,
                    initial_indent="    ",
                    subsequent_indent="    ",
                )
            )
    return 0


def _cmd_assumptions(args: argparse.Namespace) -> int:
    root = _root(args)
    project = _data.load(root)
    chapters = results.chapters(root)
    if not chapters:
        print("no results yet: run `gpufleet run` first", file=sys.stderr)
        return EXIT_FAILED
    records = results.records(chapters)
    problems = results.problems(root, chapters)
    together = provenance.combined(records)
    if args.json:
        report = {
            "consistent": not problems,
            "problems": problems,
            "scenario": together.scenario if not problems else None,
            "changed": together.changed(project) if not problems else None,
            "chapters": {
                name: record.to_json() if record else None for name, record in records.items()
            },
        }
        _write(json.dumps(report, indent=2, sort_keys=True) + "\n", args.out, "the assumptions")
        return 0
    width = _width()
    if problems:
        print(textwrap.fill("The chapters were not all computed with the same assumptions:", width))
        for problem in problems:
            print(textwrap.fill(problem, width, initial_indent="  - ", subsequent_indent="    "))
    else:
        print(
            textwrap.fill(
                f"Every chapter is computed with {provenance.in_words(together, project)}.", width
            )
        )
    for name, record in records.items():
        shown = provenance.in_words(record, project) if record else "not recorded"
        print(textwrap.fill(f"{name}: {shown}", width, subsequent_indent="    "))
    return 0


def _cmd_strip(args: argparse.Namespace) -> int:
    project = _data.load(_root(args))
    for name in args.notebooks:
        if notebooks.strip_outputs(Path(name), project):
            print(f"tidied {name}: outputs stripped, parameters cell written from the registry")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="gpufleet",
        description="Run the report on Meta's 2024 GPU fleet with your own assumptions.",
    )
    top.add_argument("--root", help="the project folder (default: found from the current folder)")
    sub = top.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run",
        help="execute the notebooks and build the site",
        description="Execute the report's notebooks with your assumptions and build the site. "
        "Every run starts from the report's defaults: a parameter you do not set takes its "
        "default, whatever an earlier run set. Only notebooks whose inputs changed run again. "
        "A run never leaves chapters on other assumptions than its own: --only is refused when "
        "it would, unless --allow-mixed.",
        epilog="examples:\n"
        "  gpufleet run --set pue=1.3\n"
        "  gpufleet run --set mfu=0.3 --set h100_server_price_usd=310000\n"
        "  gpufleet run --scenario high-cost   (a file of data/scenarios/, by name)\n"
        "  gpufleet run --scenario mine.yaml   (or a file of your own)\n"
        "  gpufleet params pue                 (what a parameter is and allows)\n"
        + _scenario_names(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "--scenario",
        metavar="NAME|FILE",
        help="a scenario in data/scenarios/ or a YAML file of parameters",
    )
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a parameter (repeatable); see `gpufleet params`",
    )
    run.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NOTEBOOK",
        help="run only this notebook (file name without .ipynb; repeatable)",
    )
    run.add_argument(
        "--jobs",
        type=_positive_int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="notebooks to run at once (default: the number of cores)",
    )
    run.add_argument(
        "--allow-mixed",
        action="store_true",
        help="with --only, publish even if chapters left out keep other assumptions (each such "
        "page then says so)",
    )
    run.add_argument("--no-build", action="store_true", help="execute notebooks, skip the build")
    run.add_argument(
        "--timings",
        action="store_true",
        help="end with where the time went: lines 'timing PHASE SECONDS'",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="re-run every notebook and rebuild, even if nothing changed",
    )
    run.set_defaults(handler=_cmd_run)

    params = sub.add_parser("params", help="list every parameter with default, range and source")
    params.add_argument("names", nargs="*", metavar="NAME", help="only these parameters")
    params.add_argument("--json", action="store_true", help="print JSON")
    params.set_defaults(handler=_cmd_params)

    res = sub.add_parser("results", help="print the headline numbers of the latest run")
    formats = res.add_mutually_exclusive_group()
    formats.add_argument("--json", action="store_true", help="print JSON")
    formats.add_argument(
        "--csv",
        action="store_true",
        help="print CSV for a spreadsheet: " + ", ".join(results.CSV_COLUMNS),
    )
    res.add_argument("--out", metavar="FILE", help="write the JSON or CSV to FILE")
    res.set_defaults(handler=_cmd_results)
    assumptions = sub.add_parser(
        "assumptions",
        help="say what the latest results were computed with, chapter by chapter",
    )
    assumptions.add_argument("--json", action="store_true", help="print JSON")
    assumptions.add_argument("--out", metavar="FILE", help="write the JSON to FILE")
    assumptions.set_defaults(handler=_cmd_assumptions)
    strip = sub.add_parser(
        "strip",
        help="remove outputs from source notebooks and write their parameters cells from "
        "data/parameters.csv (pre-commit)",
    )
    strip.add_argument("notebooks", nargs="+", metavar="NOTEBOOK")
    strip.set_defaults(handler=_cmd_strip)
    return top


def _scenario_names() -> str:
    """The named scenarios, for ``run --help``, if the command is run inside the project."""
    try:
        names = scenarios.named(_data.find_root(None))
    except InputError:
        return ""
    return "\nscenarios: " + ", ".join(names) if names else ""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


class Terminated(BaseException):
    """SIGTERM, turned into an exception so that a run cleans up like on Ctrl-C."""


def _terminate(signum, frame):
    raise Terminated


def main(argv: list[str] | None = None, *, worker: forks.Forks | None = None) -> int:
    """Run the command in ``argv``; ``worker``: the notebooks' worker, if already started."""
    args = parser().parse_args(argv)
    args.worker = worker
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.handler(args)
    except InputError as error:
        print(f"gpufleet: error: {error}", file=sys.stderr)
        if args.command == "run":
            print("gpufleet: nothing was run; the previous site is untouched", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RunError as error:
        print(f"gpufleet: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("gpufleet: interrupted; the previous site is untouched", file=sys.stderr)
        return 130
    except Terminated:
        print("gpufleet: terminated; the previous site is untouched", file=sys.stderr)
        return 143


def run_and_exit(*, worker: forks.Forks | None = None) -> NoReturn:
    """The ``gpufleet`` command: :func:`main`, then exit without tearing the interpreter down.

    ``worker``: the notebooks' worker, started before the imports (:mod:`gpufleet.__main__`);
    stopped at the end if the command did not use it.

    A run leaves Sphinx's environment and a hundred imported packages in memory, and freeing
    them one object at a time at exit took a third of a second, for nothing. Threads that
    still have work (stopping kernels, where they are used) are waited for and the output is
    flushed first. Output piped into a program that stops reading early ends the command quietly.
    """
    try:
        code = main(worker=worker)
    except BrokenPipeError:  # the reader stopped reading (`gpufleet params | head`)
        code = EXIT_BROKEN_PIPE
    finally:
        if worker is not None:
            worker.close(kill=True)  # already stopped if the run used it
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            pass
    os._exit(code)


if __name__ == "__main__":
    run_and_exit()
