#!/usr/bin/env python3
"""Applies the benchmark's "2% changed" step to an agent made by Examples/agent/generate.py.

    python3 Benchmarks/mutate.py AGENT_DIR STEP

Step N (deterministic): appends 2% of the KV pages to sequence seq-b, rewrites 10 workspace files,
appends 10 chained entries to the ledger and 10 messages to the trace.
"""
import hashlib
import json
import os
import sys


def main(agent, step):
    rand = lambda n, tag: hashlib.shake_256(("%s-%d" % (tag, step)).encode()).digest(n)
    meta = json.load(open(agent + "/kv/meta.json"))
    page_bytes = 2 * meta["num_layers"] * meta["num_heads"] * meta["tokens_per_page"] * meta["head_dim"] * 2
    slots = os.path.getsize(agent + "/kv/pages.bin") // page_bytes
    with open(agent + "/kv/sequences.jsonl") as f:
        sequences = [json.loads(line) for line in f]
    total_pages = len({p for s in sequences for p in s["pages"]})
    added = max(1, total_pages * 2 // 100)
    with open(agent + "/kv/pages.bin", "ab") as f:
        f.write(rand(added * page_bytes, "kv"))
    seq = sequences[-1]
    tpp = meta["tokens_per_page"]
    # Fill the sequence's last page, then `added` new full pages.
    full = len(seq["pages"]) * tpp
    seq["tokens"] += [(step * 1000 + i) % 50000 for i in range(full - len(seq["tokens"]) + added * tpp)]
    seq["pages"] += list(range(slots, slots + added))
    with open(agent + "/kv/sequences.jsonl", "w") as f:
        for s in sequences:
            f.write(json.dumps(s) + "\n")

    files = sorted(os.path.join(d, n) for d, _, names in os.walk(agent + "/workspace/files") for n in names)
    for i in range(10):
        if not files:
            break
        path = files[(step * 10 + i) % len(files)]
        size = os.path.getsize(path)
        with open(path, "wb") as f:
            f.write(rand(size, "file-%d" % i))

    with open(agent + "/effects/ledger.jsonl", "rb") as f:
        last = f.read().rstrip(b"\n").split(b"\n")[-1]
    prev = "sha256:" + hashlib.sha256(last).hexdigest()
    with open(agent + "/effects/ledger.jsonl", "a") as f:
        for i in range(10):
            line = json.dumps({"id": "step-%d-%d" % (step, i), "time": "2026-11-28T00:00:%02dZ" % i, "kind": "fs.write",
                               "target": "workspace/out-%d" % i, "idempotency_key": "s%d-%d" % (step, i),
                               "status": "pending" if i == 9 else "committed", "prev": prev},
                              separators=(",", ":"), sort_keys=True)
            f.write(line + "\n")
            prev = "sha256:" + hashlib.sha256(line.encode()).hexdigest()
    with open(agent + "/trace/conversation.jsonl", "a") as f:
        for i in range(10):
            f.write(json.dumps({"id": "s%d-m%d" % (step, i), "role": "user" if i % 2 == 0 else "assistant",
                                "content": "step %d message %d" % (step, i)}, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]), int(sys.argv[2]))
