#!/usr/bin/env python3
"""Generates BERT's character classes from Hugging Face `tokenizers` itself.

`tokenizers` classifies characters with its own (older) Unicode tables, so Swift's Unicode
properties disagree with it on some 650 code points (characters assigned after its Unicode
version, and a few whose category changed). To match it exactly, this script asks `tokenizers`
about every code point and writes:

  Sources/BertText/BertCharacterTables.swift   the classes as sorted code-point ranges
  golden/tokenizer/character_classes.json      the same classes, for the test that checks every
                                               code point through BertCharacterClasses
  golden/tokenizer/uncased_words.json          for every non-ASCII code point c not removed by
                                               clean_text, the words BertWordPieceTokenizer
                                               (lowercase=True) makes of "a" + c + "b" when they
                                               are not just that one word: ranges of c isolated
                                               as ["a", c, "b"] (punctuation, CJK), and the other
                                               cases written out (lower-casing, NFD, accents)

Classes (each code point is in at most one; ASCII is handled by code and left out of the Swift
tables but kept in the golden):
  removed      dropped by BertNormalizer's clean_text (NUL, U+FFFD, Cc/Cf/Co except \\t\\n\\r)
  whitespace   turned into a space by clean_text
  punctuation  isolated by BertPreTokenizer
  mark         dropped by strip_accents (non-spacing marks, Mn)

Run:  .venv-ref/bin/python tools/gen_character_tables.py
"""
import json
import os

from tokenizers.normalizers import BertNormalizer
from tokenizers.pre_tokenizers import BertPreTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLASSES = ("removed", "whitespace", "punctuation", "mark")


def classify():
    clean = BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    strip = BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    pre = BertPreTokenizer()
    ranges = {name: [] for name in CLASSES}

    def add(name, cp):
        runs = ranges[name]
        if runs and runs[-1][1] == cp - 1:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp])

    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue  # not Unicode scalars: cannot occur in a Swift String
        c = chr(cp)
        cleaned = clean.normalize_str("a" + c + "b")
        if cleaned == "ab":
            add("removed", cp)
        elif cleaned == "a b":
            add("whitespace", cp)
        else:
            pieces = pre.pre_tokenize_str("a" + c + "b")
            if len(pieces) == 3:
                add("punctuation", cp)
            elif len(pieces) != 1:
                raise SystemExit(f"U+{cp:04X}: pre-tokenizer-only whitespace is not modelled")
            elif strip.normalize_str(c) == "":
                add("mark", cp)
    return ranges


def uncased_words(ranges):
    """{code point: words} where the uncased normalizer + pre-tokenizer change "a" + c + "b"."""
    from tokenizers import BertWordPieceTokenizer
    vocab = os.path.join(ROOT, "..", "shared", "data", "vocab-bert-base-uncased.txt")
    tok = BertWordPieceTokenizer(vocab, lowercase=True)
    removed = set()
    for a, b in ranges["removed"]:
        removed.update(range(a, b + 1))
    isolated, changed = [], []
    for cp in range(0x80, 0x110000):
        if 0xD800 <= cp <= 0xDFFF or cp in removed:
            continue
        text = "a" + chr(cp) + "b"
        words = [w for w, _ in tok.pre_tokenizer.pre_tokenize_str(tok.normalizer.normalize_str(text))]
        if words == ["a", chr(cp), "b"]:
            if isolated and isolated[-1][1] == cp - 1:
                isolated[-1][1] = cp
            else:
                isolated.append([cp, cp])
        elif words != [text]:
            changed.append([cp, words])
    return {"isolated": isolated, "changed": changed}


def swift_array(name, doc, runs):
    runs = [r for r in runs if r[1] >= 0x80]
    runs = [[max(r[0], 0x80), r[1]] for r in runs]
    lines = []
    for i in range(0, len(runs), 4):
        lines.append("        " + " ".join(f"0x{a:04X}, 0x{b:04X}," for a, b in runs[i:i + 4]))
    body = "\n".join(lines)
    return f"    /// {doc}\n    static let {name}: [UInt32] = [\n{body}\n    ]\n"


def main():
    ranges = classify()
    with open(os.path.join(ROOT, "golden", "tokenizer", "character_classes.json"), "w") as f:
        json.dump({"tokenizers_version": __import__("tokenizers").__version__, **ranges}, f, separators=(",", ":"))
    changed = uncased_words(ranges)
    with open(os.path.join(ROOT, "golden", "tokenizer", "uncased_words.json"), "w") as f:
        json.dump(changed, f, ensure_ascii=False, separators=(",", ":"))
    print("uncased words:", len(changed["isolated"]), "isolated ranges,", len(changed["changed"]), "changed")
    docs = {
        "removed": "Removed by `clean_text`: NUL, U+FFFD, control, format and private-use characters.",
        "whitespace": "Turned into a space by `clean_text` (besides ASCII `\\t`, `\\n`, `\\r`, space).",
        "punctuation": "Split off by `BertPreTokenizer` as a word of its own.",
        "mark": "Non-spacing marks, dropped by accent stripping after NFD.",
    }
    names = {"removed": "removed", "whitespace": "whitespace", "punctuation": "punctuation", "mark": "nonspacingMarks"}
    source = (
        "// Generated by tools/gen_character_tables.py from Hugging Face tokenizers "
        f"{__import__('tokenizers').__version__}; do not edit.\n"
        "//\n"
        "// Non-ASCII code points of each class as sorted, inclusive [first, last] pairs, flattened.\n\n"
        "/// BERT's character classes as Hugging Face `tokenizers` defines them (its own Unicode tables).\n"
        "enum BertCharacterTables {\n"
        + "\n".join(swift_array(names[c], docs[c], ranges[c]) for c in CLASSES)
        + "}\n"
    )
    with open(os.path.join(ROOT, "Sources", "BertText", "BertCharacterTables.swift"), "w") as f:
        f.write(source)
    for c in CLASSES:
        print(c, len(ranges[c]), "ranges", sum(b - a + 1 for a, b in ranges[c]), "code points")


if __name__ == "__main__":
    main()
