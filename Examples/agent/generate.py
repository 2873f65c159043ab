#!/usr/bin/env python3
"""Regenerates the example agent's state deterministically (same bytes on every run).

    python3 Examples/agent/generate.py [OUT_DIR] [--scale small|synthetic|large]

The default writes the small example agent next to this script (committed in the repo).
The benchmark scales write larger agents elsewhere:
  synthetic  ~100 MiB: 32 MiB weights, 1,024 x 64 KiB KV pages, 500 x 8 KiB files, 200 KiB ledger, 1 MiB trace
  large      1 GiB of weights, 4,096 KV pages, 20,000 workspace files

Layout of an agent directory:
  model/          config.json, model.safetensors, tokenizer.json, adapters/<name>/ (PEFT LoRA)
  kv/             a paged KV-cache dump (docs/kv-cache-dump.md): meta.json, pages.bin, sequences.jsonl
  workspace/      the agent's working files
  effects/ledger.jsonl          hash-chained side-effect ledger
  trace/conversation.jsonl      OpenAI-format chat messages with tool calls
  browser/page.html             the DOM the agent's browser last saved
  pfhost.json                   the config pfhost snapshot --config reads
"""
import hashlib
import json
import os
import struct
import sys

SCALES = {
    #            hidden, layers, vocab, kv pages, tokens/page, kv layers, heads, head_dim, files, file bytes, ledger, trace
    "small":     dict(hidden=32, layers=2, vocab=64, pages=12, tpp=16, kv_layers=2, heads=2, head_dim=8,
                      files=0, file_bytes=0, ledger=4, trace=None),
    "synthetic": dict(hidden=1024, layers=2, vocab=4096, pages=1024, tpp=16, kv_layers=8, heads=8, head_dim=16,
                      files=500, file_bytes=8192, ledger=200 * 1024, trace=1 << 20),
    "large":     dict(hidden=4096, layers=6, vocab=16384, pages=4096, tpp=16, kv_layers=8, heads=8, head_dim=16,
                      files=20000, file_bytes=8192, ledger=200 * 1024, trace=1 << 20),
}


class Rng:
    """xorshift64: fast, seeded, identical everywhere."""
    def __init__(self, seed):
        self.state = seed or 1

    def next(self):
        x = self.state
        x ^= (x << 13) & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 7
        x ^= (x << 17) & 0xFFFFFFFFFFFFFFFF
        self.state = x
        return x

    def bytes(self, n):
        # SHAKE-256 as a deterministic stream: incompressible, and fast enough in pure Python.
        return hashlib.shake_256(self.next().to_bytes(8, "little")).digest(n)


def write(path, data, mode="wb"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(data)


def safetensors(path, tensors, rng):
    """tensors: list of (name, dtype, shape). F16 data is random bytes (valid as a format)."""
    sizes = {"F16": 2, "BF16": 2, "F32": 4}
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, dtype, shape in tensors:
        n = sizes[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    text += b" " * (-len(text) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        remaining = offset
        while remaining:
            chunk = min(remaining, 1 << 24)
            f.write(rng.bytes(chunk))
            remaining -= chunk


def model(out, s, rng):
    name = "pfhost/tiny-agent-%dl" % s["layers"]
    h, v = s["hidden"], s["vocab"]
    tensors = [("model.embed_tokens.weight", "F16", [v, h])]
    for i in range(s["layers"]):
        for proj in ("q_proj", "k_proj", "v_proj", "o_proj"):
            tensors.append(("model.layers.%d.self_attn.%s.weight" % (i, proj), "F16", [h, h]))
        tensors.append(("model.layers.%d.input_layernorm.weight" % i, "F32", [h]))
    tensors.append(("lm_head.weight", "F16", [v, h]))
    safetensors(out + "/model/model.safetensors", tensors, rng)
    write(out + "/model/config.json", json.dumps({
        "_name_or_path": name, "model_type": "llama", "hidden_size": h, "num_hidden_layers": s["layers"],
        "vocab_size": v, "torch_dtype": "float16"}, indent=2).encode() + b"\n")
    write(out + "/model/tokenizer.json", json.dumps({
        "version": "1.0", "model": {"type": "BPE", "vocab": {"<s>": 0, "</s>": 1, "hello": 2}}}).encode() + b"\n")
    rank = 4
    lora = []
    for i in range(s["layers"]):
        for proj in ("q_proj", "v_proj"):
            base = "base_model.model.model.layers.%d.self_attn.%s" % (i, proj)
            lora += [(base + ".lora_A.weight", "F16", [rank, h]), (base + ".lora_B.weight", "F16", [h, rank])]
    safetensors(out + "/model/adapters/lora-tools/adapter_model.safetensors", lora, rng)
    write(out + "/model/adapters/lora-tools/adapter_config.json", json.dumps({
        "base_model_name_or_path": name, "peft_type": "LORA", "r": rank, "lora_alpha": 8,
        "lora_dropout": 0.05, "target_modules": ["q_proj", "v_proj"]}, indent=2).encode() + b"\n")
    return name


def kv(out, s, rng, fingerprint):
    tpp = s["tpp"]
    page_bytes = 2 * s["kv_layers"] * s["heads"] * tpp * s["head_dim"] * 2
    write(out + "/kv/meta.json", json.dumps({
        "format": "pfhost-kv-dump", "version": 1, "model_fingerprint": fingerprint, "dtype": "f16",
        "tokens_per_page": tpp, "num_layers": s["kv_layers"], "num_heads": s["heads"], "head_dim": s["head_dim"]},
        indent=2).encode() + b"\n")
    # Two sequences sharing a prefix of `shared` pages, stored once (as vLLM's prefix cache does).
    total = s["pages"]
    shared = max(1, total // 4)
    own_a = (total - shared) // 2
    own_b = total - shared - own_a
    tokens_a = [(i * 7 + 3) % 50000 for i in range(tpp * (shared + own_a) - tpp // 2)]   # last page half full
    tokens_b = tokens_a[: tpp * shared] + [(i * 11 + 5) % 50000 for i in range(tpp * own_b)]
    pages_a = list(range(shared + own_a))
    pages_b = list(range(shared)) + list(range(shared + own_a, total))
    with open(out + "/kv/pages.bin", "wb") as f:
        for _ in range(total):
            f.write(rng.bytes(page_bytes))
    with open(out + "/kv/sequences.jsonl", "w") as f:
        f.write(json.dumps({"id": "seq-a", "tokens": tokens_a, "pages": pages_a}) + "\n")
        f.write(json.dumps({"id": "seq-b", "tokens": tokens_b, "pages": pages_b}) + "\n")


def workspace(out, s, rng):
    write(out + "/workspace/README.md", b"# Report generator\n\nThe agent is writing a CSV summariser.\n")
    write(out + "/workspace/src/summarise.py",
          b"import csv, sys\n\nrows = list(csv.DictReader(open(sys.argv[1])))\nprint(len(rows), 'rows')\n")
    write(out + "/workspace/data/sales.csv", b"region,amount\nnorth,120\nsouth,80\neast,95\n")
    write(out + "/workspace/notes/todo.txt", b"- add totals per region\n- write tests\n")
    link = out + "/workspace/latest.csv"
    if not os.path.lexists(link):
        os.symlink("data/sales.csv", link)
    for i in range(s["files"]):
        write("%s/workspace/files/%03d/file-%05d.txt" % (out, i % 100, i), rng.bytes(s["file_bytes"]))
    write(out + "/browser/page.html",
          b"<!doctype html><html><head><title>Sales dashboard</title></head>"
          b"<body><h1>Sales</h1><table id=\"t\"><tr><td>north</td><td>120</td></tr></table></body></html>\n")


def ledger(out, s):
    entries = [
        ("fx-1", "fs.write", "workspace/src/summarise.py", "committed"),
        ("fx-2", "http.post", "https://api.example.com/reports", "committed"),
        ("fx-3", "email.send", "mailto:team@example.com", "compensated"),
        ("fx-4", "http.post", "https://api.example.com/reports/7/publish", "pending"),
    ]
    lines, prev, size, i = [], None, 0, 0
    while i < len(entries) or size < s["ledger"]:
        ident, kind, target, status = entries[i] if i < len(entries) else ("fx-%d" % (i + 1), "fs.write", "workspace/files/%d" % i, "committed")
        line = json.dumps({"id": ident, "time": "2026-11-27T10:%02d:%02dZ" % (i // 60 % 60, i % 60), "kind": kind,
                           "target": target, "idempotency_key": "key-%d" % (i + 1), "status": status, "prev": prev},
                          separators=(",", ":"), sort_keys=True)
        lines.append(line)
        prev = "sha256:" + hashlib.sha256(line.encode()).hexdigest()
        size += len(line) + 1
        i += 1
    write(out + "/effects/ledger.jsonl", ("\n".join(lines) + "\n").encode())


def trace(out, s):
    messages = [
        {"id": "m1", "role": "system", "content": "You are a careful data assistant."},
        {"id": "m2", "role": "user", "content": "Summarise data/sales.csv and publish the report."},
        {"id": "m3", "role": "assistant", "content": None, "tool_calls": [
            {"id": "call-1", "type": "function", "function": {"name": "run", "arguments": "{\"cmd\": \"python3 src/summarise.py data/sales.csv\"}"}}]},
        {"id": "m4", "role": "tool", "tool_call_id": "call-1", "content": "3 rows"},
        {"id": "m5", "role": "assistant", "content": "The file has 3 rows; publishing the report now.", "tool_calls": [
            {"id": "call-2", "type": "function", "function": {"name": "http_post", "arguments": "{\"url\": \"https://api.example.com/reports/7/publish\"}"}}]},
        {"id": "m6", "role": "tool", "tool_call_id": "call-2", "content": "202 Accepted"},
    ]
    lines = [json.dumps(m, sort_keys=True) for m in messages]
    n = len(messages)
    while s["trace"] and sum(len(l) + 1 for l in lines) < s["trace"]:
        n += 1
        lines.append(json.dumps({"id": "m%d" % n, "role": "user" if n % 2 else "assistant",
                                 "content": "message %d " % n + "x" * 200}, sort_keys=True))
    write(out + "/trace/conversation.jsonl", ("\n".join(lines) + "\n").encode())


def main(argv):
    scale = "small"
    if "--scale" in argv:
        scale = argv[argv.index("--scale") + 1]
        argv = argv[: argv.index("--scale")] + argv[argv.index("--scale") + 2:]
    out = os.path.abspath(argv[1] if len(argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
    s = SCALES[scale]
    rng = Rng(0x5EED + len(scale))
    name = model(out, s, rng)
    kv(out, s, rng, name)
    workspace(out, s, rng)
    ledger(out, s)
    trace(out, s)
    write(out + "/pfhost.json", json.dumps({
        "agent": {"kind": "report-assistant", "version": "0.3.0", "fingerprint": "example-agent"},
        "model": {"path": "model"},
        "cache": {"path": "kv"},
        "world": {"root": "workspace", "exclude": "*.tmp,__pycache__", "env": "true", "dom": "browser/page.html"},
        "effects": {"path": "effects/ledger.jsonl"},
        "trace": {"path": "trace/conversation.jsonl"},
    }, indent=2, sort_keys=True).encode() + b"\n")


if __name__ == "__main__":
    main(sys.argv)
