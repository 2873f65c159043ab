#!/usr/bin/env python3
"""The fixture of docs/performance.md's `pfhost diff` figures: a copy of Examples/agent grown to 20,004 files,
a 10,000-entry ledger and a 10,000-message conversation, then changed the way the measurement changes it.

    python3 Benchmarks/diff-fixture.py make AGENT_DIR      # copy Examples/agent and grow it (state A)
    python3 Benchmarks/diff-fixture.py change AGENT_DIR    # 400 files rewritten in place, 20 removed, 20 added,
                                                           # 100 ledger entries and 100 messages appended (state B)

Deterministic (seeded). Snapshot after each step with `pfhost snapshot --config AGENT_DIR/pfhost.json
--set world.env=false --tag big`, then time `pfhost diff big~1 big` (or the two ids).
"""
import hashlib
import json
import os
import random
import shutil
import sys

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def chained(entry_range, prev, status):
    for i in entry_range:
        entry = {"id": "fx-%d" % i, "idempotency_key": "k%d" % i, "kind": "fs.write", "prev": prev,
                 "status": status, "target": "t%d" % i, "time": "2026-11-27T10:00:00Z"}
        line = json.dumps(entry, separators=(",", ":"), sort_keys=True)
        prev = "sha256:" + hashlib.sha256(line.encode()).hexdigest()
        yield line


def make(agent):
    shutil.copytree(REPOSITORY + "/Examples/agent", agent)
    random.seed(7)
    root = agent + "/workspace/big"
    for d in range(200):
        os.makedirs("%s/d%03d" % (root, d))
        for f in range(100):
            with open("%s/d%03d/f%03d.txt" % (root, d, f), "w") as out:
                out.write(("%d-%d " % (d, f)) * (random.randint(100, 3000) // 8))
    with open(agent + "/effects/ledger.jsonl", "w") as out:
        out.writelines(line + "\n" for line in chained(range(1, 10001), None, "committed"))
    with open(agent + "/trace/conversation.jsonl", "w") as out:
        for i in range(1, 10001):
            message = {"id": "m%d" % i, "role": "user" if i % 2 else "assistant", "content": "message %d " % i * 20}
            out.write(json.dumps(message) + "\n")


def change(agent):
    random.seed(9)
    root = agent + "/workspace/big"
    paths = ["%s/d%03d/f%03d.txt" % (root, d, f) for d in range(200) for f in range(100)]
    random.shuffle(paths)
    for path in paths[:400]:
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text[::-1])
    for path in paths[400:420]:
        os.remove(path)
    for i in range(20):
        with open("%s/d%03d/new%d.txt" % (root, i, i), "w") as f:
            f.write("new file %d\n" % i)
    ledger = agent + "/effects/ledger.jsonl"
    with open(ledger) as f:
        last = f.read().split("\n")[-2]
    with open(ledger, "a") as out:
        prev = "sha256:" + hashlib.sha256(last.encode()).hexdigest()
        out.writelines(line + "\n" for line in chained(range(10001, 10101), prev, "pending"))
    with open(agent + "/trace/conversation.jsonl", "a") as out:
        for i in range(10001, 10101):
            message = {"id": "m%d" % i, "role": "user" if i % 2 else "assistant", "content": "more %d" % i}
            out.write(json.dumps(message) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("make", "change"):
        sys.exit(__doc__)
    {"make": make, "change": change}[sys.argv[1]](sys.argv[2])
