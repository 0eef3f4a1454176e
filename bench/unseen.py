"""Figures of a set of scripted conversations, as the outside tests count them.

    .venv/bin/python bench/unseen.py scenarios/unseen/ropa-gamarra [more folders or files...]

For each set: conversations passed, checked turns passed (a turn with an ``expect:`` block passes
when every key holds), and orders confirmed wrong: conversations where an order exists at a turn
that checks ``order_items`` or ``order_total`` and its items or total differ from what the
customer asked for, or where an order exists at a turn that says ``no_order``. The turns are
checked by the public checker (``../shared/scenarios/check.py``), run through the real
``chasqui simulate --json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CHECKER = ROOT.parent / "shared" / "scenarios" / "check.py"
ORDER_CONTENT_KEYS = ("order_items", "order_total")


def _checker():
    spec = importlib.util.spec_from_file_location("shared_check", CHECKER)
    if spec is None or spec.loader is None or not CHECKER.exists():
        sys.exit(f"bench/unseen.py needs the public checker at {CHECKER}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Figures:
    conversations: int = 0
    conversations_passed: int = 0
    turns: int = 0
    turns_passed: int = 0
    wrong_orders: int = 0
    not_run: int = 0

    def line(self, name: str) -> str:
        return (f"{name}: {self.conversations_passed}/{self.conversations} conversations, "
                f"{self.turns_passed}/{self.turns} checked turns, {self.wrong_orders} orders confirmed wrong"
                + (f", {self.not_run} not run (tenant refused)" if self.not_run else ""))


def _scripts(target: Path) -> list[Path]:
    return sorted(target.glob("[0-9]*.yaml")) if target.is_dir() else [target]


def _wrong_order(expect: dict, got: dict, problems: list[str]) -> bool:
    order = got.get("order")
    if not order:
        return False
    if expect.get("no_order"):
        return True
    return any(key in expect for key in ORDER_CONTENT_KEYS) and any(
        p.startswith(("order items", "order total")) for p in problems)


def measure(paths: list[Path], chasqui: list[str]) -> Figures:
    check = _checker()
    figures = Figures()
    for path in paths:
        figures.conversations += 1
        scenario = yaml.safe_load(path.read_text(encoding="utf-8"))
        turns = [t for t in scenario["turns"] if any(k in t for k in check.TURN_KINDS)]
        checked = [i for i, t in enumerate(turns) if t.get("expect")]
        figures.turns += len(checked)
        ok, _, lines = check.run_scenario(path, chasqui, None)
        if len(lines) != len(turns):
            figures.not_run += 1
            continue
        figures.conversations_passed += ok
        wrong = False
        for i in checked:
            problems = check.check_turn(turns[i]["expect"], lines[i])
            figures.turns_passed += not problems
            wrong = wrong or _wrong_order(turns[i]["expect"], lines[i], problems)
        figures.wrong_orders += wrong
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="+", type=Path, help="folders of NN_*.yaml conversations, or files")
    parser.add_argument("--chasqui", default=str(ROOT / ".venv" / "bin" / "chasqui"))
    args = parser.parse_args()
    total = Figures()
    for target in args.targets:
        figures = measure(_scripts(target), shlex.split(args.chasqui))
        print(figures.line(target.name), flush=True)
        for field in Figures.__dataclass_fields__:
            setattr(total, field, getattr(total, field) + getattr(figures, field))
    if len(args.targets) > 1:
        print(total.line("all"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
