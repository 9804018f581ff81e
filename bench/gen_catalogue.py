#!/usr/bin/env python3
"""Writes a generated catalogue in the import CSV format of docs/import.md.

    bench/gen_catalogue.py N COPIES OUT.csv [SEED]

N records with COPIES copies each (one CSV row per copy; the record's
columns only on its first row). Titles, authors and publishers are
composed from the demo's word lists (shared/src/demo/words.rs and
classics.rs, read at start so there is one source of them), so search keys
look like the demo's. Record ids (BENCH-0000001...), ISBN-13s (978-7- and
the record number, check digit computed) and barcodes (BC000000001...) are
unique. Branches are B001..B059, branch codes of the demo library
(load it first: POST /admin/demo?records=1). Deterministic for a seed.
"""
import csv
import os
import random
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORDS = open(os.path.join(ROOT, "shared/src/demo/words.rs"), encoding="utf-8").read()
CLASSICS_RS = open(os.path.join(ROOT, "shared/src/demo/classics.rs"), encoding="utf-8").read()


def const(name):
    """The string literals of `pub const NAME ... = &[ ... ];`."""
    m = re.search(r"pub const %s\b[^=]*=\s*&\[(.*?)\];" % name, WORDS, re.S)
    if not m:
        sys.exit(f"word list {name} not found in words.rs")
    return re.findall(r'"([^"]*)"', m.group(1))


def pairs(name):
    flat = const(name)
    return list(zip(flat[0::2], flat[1::2]))


SURNAMES, GIVEN = const("SURNAMES"), const("GIVEN")
FOREIGN = pairs("FOREIGN_AUTHORS")
PUBLISHERS = [p for p, _ in pairs("PUBLISHERS")]
PLACES, THEMES, ENDINGS = const("PLACES"), const("THEMES"), const("HISTORY_ENDINGS")
ADJECTIVES, NOUNS = const("ADJECTIVES"), const("NOUNS")
TOPICS, PATTERNS, PREFIXES = pairs("TOPICS"), const("TOPIC_PATTERNS"), const("TOPIC_PREFIXES")
ANIMALS, ADVENTURES = const("ANIMALS"), const("ADVENTURES")
CLASSICS = re.findall(
    r'\(\s*"([^"]+)",\s*"([^"]+)",\s*"([^"]+)",\s*(\d+),\s*"([^"]+)",?\s*\)', CLASSICS_RS
)
BRANCHES = ["B%03d" % i for i in range(1, 60)]
ROLES = ["著", "著", "著", "编著", "主编", "编"]


def person(rng):
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    if rng.random() < 0.7:
        name += rng.choice(GIVEN)
    return name


def isbn13(n):
    digits = "9787" + "%08d" % n
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits))
    check = (10 - total % 10) % 10
    return "%s-%s-%s-%s" % (digits[:3], digits[3], digits[4:12], check)


def record(rng, i):
    """(title, responsibility, publisher, year, subjects, class)."""
    kind = rng.random()
    year = rng.randint(1980, 2025)
    if kind < 0.002 and CLASSICS:  # an edition of a famous title
        t, by, pub, y, cls = rng.choice(CLASSICS)
        return t, by, pub, int(y) + rng.randint(0, 10) if int(y) < 2015 else int(y), "中国文学", cls
    if kind < 0.30:  # 「{地名}{主题}史」
        theme = rng.choice(THEMES)
        title = rng.choice(PLACES) + theme + rng.choice(ENDINGS)
        return title, person(rng) + rng.choice(ROLES), rng.choice(PUBLISHERS), year, theme, "K29"
    if kind < 0.55:  # literature
        if rng.random() < 0.5:
            title = rng.choice(ADJECTIVES) + "的" + rng.choice(NOUNS)
        else:
            title = rng.choice(NOUNS) + "与" + rng.choice(NOUNS)
        if rng.random() < 0.15:
            country, name = rng.choice(FOREIGN)
            by = "(%s)%s著；%s译" % (country, name, person(rng))
        else:
            by = person(rng) + "著"
        return title, by, rng.choice(PUBLISHERS), year, "小说", "I247.5"
    if kind < 0.85:  # practical books
        topic, cls = rng.choice(TOPICS)
        title = rng.choice(PREFIXES) + rng.choice(PATTERNS).replace("{}", topic)
        return title, person(rng) + rng.choice(ROLES), rng.choice(PUBLISHERS), year, topic, cls
    title = rng.choice(ANIMALS) + rng.choice(ADVENTURES)  # picture books
    return title, "%s文；%s图" % (person(rng), person(rng)), rng.choice(PUBLISHERS), year, "图画故事", "I287.8"


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    n, copies, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 3)
    barcode = 0
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["record_id", "isbn", "title", "responsibility", "publisher", "year",
                    "language", "subjects", "call_number", "barcode", "branch"])
        for i in range(1, n + 1):
            title, by, pub, year, subject, cls = record(rng, i)
            lang = "eng" if rng.random() < 0.03 else "chi"
            call = "%s/%s%d" % (cls, rng.choice("ABCDEFGHJKLMNPQRSTWXYZ"), rng.randint(1, 999))
            for c in range(copies):
                barcode += 1
                bc, branch = "BC%09d" % barcode, rng.choice(BRANCHES)
                if c == 0:
                    w.writerow(["BENCH-%07d" % i, isbn13(i), title, by, pub, year, lang,
                                subject, call, bc, branch])
                else:
                    w.writerow(["BENCH-%07d" % i, "", "", "", "", "", "", "", "", bc, branch])


if __name__ == "__main__":
    main()
