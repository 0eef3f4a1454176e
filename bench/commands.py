"""Per-command accuracy: does what the bot understood match the commands a person labelled?

    .venv/bin/python bench/commands.py [bench/data/commands/*.jsonl]

Each label line names an unseen-shop conversation (``scenarios/unseen/<set>/<file>``), a turn and
the commands a good shop assistant understands from the customer's message (labelled by helpers
who read neither the code nor the bot's replies; vocabulary in ``chasqui.dialogue.commands``). The
conversation is run through ``chasqui.simulation.run_script`` (the same path as ``chasqui
simulate --json``) and each turn's ``commands`` are compared with the labels:

- per operation: labelled, found, precision and recall (an ``add``/``remove``/``set_quantity``/
  ``replace`` counts as found only when it is about the labelled product, when one is labelled;
  ``ask`` and ``fact`` also by their ``about``/``kind``);
- messages whose commands all match (same operations, same counts, every one matched).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chasqui.simulation import load_script, run_script  # noqa: E402

UNSEEN = ROOT / "scenarios" / "unseen"
ITEM_OPS = frozenset({"add", "remove", "set_quantity", "replace"})


@dataclass
class Tally:
    labelled: Counter = field(default_factory=Counter)
    found: Counter = field(default_factory=Counter)
    matched: Counter = field(default_factory=Counter)
    messages: int = 0
    exact: int = 0
    misses: list = field(default_factory=list)


def key(command: dict) -> str:
    op = command.get("op", "unknown")
    detail = command.get("about") or command.get("kind")
    return f"{op}:{detail}" if op in ("ask", "fact") and detail else op


def matches(expected: dict, got: dict) -> bool:
    if expected.get("op") != got.get("op"):
        return False
    detail = expected.get("about") or expected.get("kind")
    if expected.get("op") in ("ask", "fact") and detail and detail != (got.get("about") or got.get("kind")):
        return False
    item = expected.get("item")
    if expected.get("op") in ITEM_OPS and item:
        return item in (got.get("items") or []) or item == expected.get("from")
    return True


def compare(expected: list[dict], got: list[dict], tally: Tally) -> bool:
    left = list(got)
    all_found = True
    for command in expected:
        tally.labelled[key(command)] += 1
        hit = next((g for g in left if matches(command, g)), None)
        if hit is None:
            all_found = False
            continue
        left.remove(hit)
        tally.matched[key(command)] += 1
    for command in got:
        tally.found[key(command)] += 1
    return all_found and not left


def run(label_files: list[Path]) -> Tally:
    by_file: dict[Path, dict[int, dict]] = defaultdict(dict)
    for path in label_files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                label = json.loads(line)
                by_file[UNSEEN / label["set"] / label["file"]][int(label["turn"])] = label
    tally = Tally()
    for number, (scenario, labels) in enumerate(sorted(by_file.items()), 1):
        print(f"\r[{number}/{len(by_file)}] {scenario.parent.name}/{scenario.name}".ljust(80), end="",
              file=sys.stderr, flush=True)
        script = load_script(scenario)
        tenant = (scenario.parent / script["tenant"]).resolve()
        kinds = [k for k, t in enumerate(script["turns"]) if isinstance(t, dict) and _kind(t)]
        for index, line in zip(kinds, run_script(tenant, script), strict=False):
            label = labels.get(index)
            if label is None or line["kind"] != "user":
                continue
            tally.messages += 1
            got = line.get("commands") or []
            if compare(label["commands"], got, tally):
                tally.exact += 1
            else:
                tally.misses.append((f"{scenario.parent.name}/{scenario.name}#{index}", label["text"],
                                     [key(c) for c in label["commands"]], [key(c) for c in got]))
    print(file=sys.stderr)
    return tally


def _kind(turn: dict) -> str | None:
    return next((k for k in ("user", "operator", "advance", "tap", "voice", "image", "order", "reaction")
                 if k in turn), None)


def report(tally: Tally, show_misses: int) -> None:
    print(f"{'command':<22}{'labelled':>9}{'found':>7}{'precision':>11}{'recall':>8}")
    for name in sorted(set(tally.labelled) | set(tally.found), key=lambda n: -tally.labelled[n]):
        labelled, found, matched = tally.labelled[name], tally.found[name], tally.matched[name]
        precision = f"{matched / found:.2f}" if found else "-"
        recall = f"{matched / labelled:.2f}" if labelled else "-"
        print(f"{name:<22}{labelled:>9}{found:>7}{precision:>11}{recall:>8}")
    total_l, total_m = sum(tally.labelled.values()), sum(tally.matched.values())
    print(f"\nmessages: {tally.messages}; all commands right: {tally.exact} "
          f"({tally.exact / max(tally.messages, 1):.1%}); commands recalled: {total_m}/{total_l} "
          f"({total_m / max(total_l, 1):.1%})")
    for where, text, want, got in tally.misses[:show_misses]:
        print(f"  {where}: {text!r} want {want} got {got}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labels", nargs="*", type=Path)
    parser.add_argument("--misses", type=int, default=0, help="print this many mismatched messages")
    args = parser.parse_args()
    files = args.labels or sorted((ROOT / "bench" / "data" / "commands").glob("*.jsonl"))
    report(run(files), args.misses)


if __name__ == "__main__":
    main()
