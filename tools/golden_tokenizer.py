#!/usr/bin/env python3
"""Writes the tokenizer golden files in golden/tokenizer/ from the real references.

References:
  * Hugging Face `tokenizers` BertWordPieceTokenizer (uncased: lowercase=True; cased:
    lowercase=False, whose strip_accents follows lowercase) for tokens, ids and packing with
    `longest_first` truncation;
  * tf_text.RoundRobinTrimmer + tf_text.combine_segments (Model Garden's BertPackInputs) for
    `round_robin` truncation, when tensorflow-text is importable;
  * google-research/bert run_classifier.py `_truncate_seq_pair`, reproduced verbatim below.

Files (all compact JSON; padded rows are stored up to their length, and the script asserts that
everything after it is [PAD]=0 / type 0 / mask 0, so the Swift tests rebuild full rows exactly):
  msr_train_uncased_128.jsonl  every pair of msr_paraphrase_train.txt packed at 128
  hard_strings.json            hard strings: uncased and cased tokens/ids, packed pairs
  truncation.json              kept lengths of crafted pairs per strategy, and round-robin
                               packed MSR pairs

Run:  .venv-ref/bin/python tools/golden_tokenizer.py [--data-dir DIR]
"""
import argparse
import json
import os
import sys

from tokenizers import BertWordPieceTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "golden", "tokenizer")
SEQ_LEN = 128

# Strings chosen to hit every normalisation and splitting rule (and their corners).
HARD_STRINGS = [
    "",
    "   ",
    "\t\n\r",
    "Hello, World!",
    "Héllo Wörld! Ça va? naïve café résumé",
    "ÅÄÖ åäö Ññ ÆØ æø Œ œ",
    "北京欢迎你 Tokyo東京 㐀 𠀀 豈",
    "日本語のテキスト、カタカナ　ひらがな。",
    "한국어 텍스트입니다",
    "I ❤️ 🍕 and 👨‍👩‍👧 family 🏳️‍🌈 flags",
    "ab\u0001cd\u0000ef\u007fgh\u0085ij\u000bkl\u000cmn\u001fop",
    "zero\u200bwidth\u200cnon\u200djoiner\ufeffbom\u2060wj",
    "soft\u00adhyphen and bidi \u200emark\u200f end",
    "a" * 101,
    "x" * 100,
    "supercalifragilistic" * 6,
    "é" * 101,
    "e\u0301" * 60,
    "!!!???...---,,,;;;",
    "((([[[{{{}}}]]])))<<<>>>",
    "$100 + 50% = ^_^ ~`|\\ @#&*",
    "non\u00a0breaking\u202fnarrow\u2007figure\u3000ideographic\u2003em",
    "line\u2028sep\u2029para",
    "mixed Русский текст and العربية and ελληνικά ΣΊΣΥΦΟΣ",
    "combining e\u0301 a\u0300 n\u0303 o\u0308 A\u030a q\u0307\u0323",
    "İstanbul ŞİŞLİ ǅ ß ẞ ﬁ ﬀ",
    "replacement \ufffd char",
    "tab\tseparated\ttext",
    "“smart quotes” ‘single’ — em dash – en dash … ellipsis «guillemets» ¿qué? ¡sí!",
    "Greek question mark \u037e and varia \u1fef and oxia \u1ffd",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３！",
    "math 𝐀𝐁𝐂 𝔘𝔫𝔦 ℌ Ω Å K",
    "private use \ue000 end",
    "Hindi हिन्दी Thai ภาษาไทย Hebrew עִברִית",
    "Don't won't can't I'm y'all",
    "e-mail user@example.com http://x.org/a?b=c#frag",
    "unaffable unbelievably tokenization antidisestablishmentarianism",
    "ＭＩＸＥＤ　ｗｉｄｔｈ and café北京",
    "\u0301leading combining mark",
    "trailing space   ",
    "123,456.78 3.14159 1e-10 -42",
    # Code points where tokenizers' Unicode tables are older than Swift's: newer emoji and
    # marks, a newer punctuation mark, an unassigned code point, U+180E (Cf in older Unicode).
    "new 🥰 🫠 a\u1abfb c\u2e52d \u0bff e\u180ef g\u0897h",
    "He said the foodservice pie business doesn 't fit the company 's long-term growth strategy .",
]


def truncate_seq_pair(tokens_a, tokens_b, max_length):
    """google-research/bert run_classifier.py `_truncate_seq_pair`, verbatim."""
    while True:
        total_length = len(tokens_a) + len(tokens_b)
        if total_length <= max_length:
            break
        if len(tokens_a) > len(tokens_b):
            tokens_a.pop()
        else:
            tokens_b.pop()


def make_tokenizer(vocab, lowercase):
    tok = BertWordPieceTokenizer(vocab, lowercase=lowercase)
    return tok


def packed_record(encoding, seq_len):
    """A padded encoding as {input_ids, token_type_ids (digit string), length}; checks the tail."""
    ids, types, mask = encoding.ids, encoding.type_ids, encoding.attention_mask
    assert len(ids) == len(types) == len(mask) == seq_len, (len(ids), seq_len)
    length = sum(mask)
    assert mask == [1] * length + [0] * (seq_len - length), mask
    assert ids[length:] == [0] * (seq_len - length) and types[length:] == [0] * (seq_len - length)
    return {"input_ids": ids[:length], "token_type_ids": "".join(map(str, types[:length])),
            "length": length}


def read_msr(path):
    """The (string 1, string 2) pairs of an MSR paraphrase file, in file order."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    pairs = []
    for line in lines[1:]:
        cols = line.split("\t")
        assert len(cols) == 5, line
        pairs.append((cols[3], cols[4]))
    return pairs


def write_msr_golden(vocab, msr_path):
    tok = make_tokenizer(vocab, True)
    tok.enable_truncation(SEQ_LEN, strategy="longest_first")
    tok.enable_padding(length=SEQ_LEN, pad_id=0, pad_token="[PAD]")
    pairs = read_msr(msr_path)
    assert len(pairs) == 4076, len(pairs)
    out = os.path.join(OUT, "msr_train_uncased_128.jsonl")
    with open(out, "w") as f:
        for a, b in pairs:
            f.write(json.dumps(packed_record(tok.encode(a, b), SEQ_LEN), separators=(",", ":")) + "\n")
    return out, pairs


def write_hard_strings(vocab):
    records = []
    packers = {}
    for lowercase in (True, False):
        plain = make_tokenizer(vocab, lowercase)
        packed = {}
        for seq_len in (SEQ_LEN, 16):
            t = make_tokenizer(vocab, lowercase)
            t.enable_truncation(seq_len, strategy="longest_first")
            t.enable_padding(length=seq_len, pad_id=0, pad_token="[PAD]")
            packed[seq_len] = t
        packers[lowercase] = (plain, packed)
    n = len(HARD_STRINGS)
    for i, text in enumerate(HARD_STRINGS):
        other = HARD_STRINGS[(i + 7) % n]
        record = {"text": text, "pair_with": other}
        for lowercase, name in ((True, "uncased"), (False, "cased")):
            plain, packed = packers[lowercase]
            enc = plain.encode(text, add_special_tokens=False)
            record[name] = {
                "tokens": enc.tokens,
                "ids": enc.ids,
                "single_128": packed_record(packed[SEQ_LEN].encode(text), SEQ_LEN),
                "pair_128": packed_record(packed[SEQ_LEN].encode(text, other), SEQ_LEN),
                "pair_16": packed_record(packed[16].encode(text, other), 16),
            }
        records.append(record)
    out = os.path.join(OUT, "hard_strings.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"seq_len": SEQ_LEN, "strings": records}, f, ensure_ascii=True, indent=0)
    return out


def crafted_lengths():
    """(len a, len b, seq_len) triples around every boundary of the three rules."""
    triples = []
    for seq_len in (3, 4, 5, 8, 9, 16, 17):
        for la in range(0, 14):
            for lb in range(0, 14):
                triples.append((la, lb, seq_len))
    triples += [(200, 200, 128), (100, 90, 128), (90, 100, 128), (10, 300, 128), (300, 10, 128),
                (62, 63, 128), (63, 62, 128), (63, 63, 128), (125, 1, 128)]
    return triples


def hf_kept_lengths(vocab, triples):
    kept = []
    tokenizers = {}
    for la, lb, seq_len in triples:
        if seq_len not in tokenizers:
            t = make_tokenizer(vocab, True)
            t.enable_truncation(seq_len, strategy="longest_first")
            tokenizers[seq_len] = t
        enc = tokenizers[seq_len].encode(" ".join(["the"] * la), " ".join(["a"] * lb))
        types = enc.type_ids
        ka = types.count(0) - 2
        kb = types.count(1) - 1
        kept.append([ka, kb])
    return kept


def round_robin_goldens(triples, pairs, vocab):
    """Kept lengths and packed rows from tf_text, or None when tensorflow-text is missing."""
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf
        import tensorflow_text as tf_text
    except ImportError as error:
        print(f"tensorflow-text not importable ({error}); no round-robin golden", file=sys.stderr)
        return None, None
    kept = []
    for la, lb, seq_len in triples:
        trimmer = tf_text.RoundRobinTrimmer(max_seq_length=seq_len - 3)
        a = tf.ragged.constant([list(range(la))], dtype=tf.int32, ragged_rank=1) if la else \
            tf.RaggedTensor.from_row_lengths(tf.zeros([0], tf.int32), [0])
        b = tf.ragged.constant([list(range(lb))], dtype=tf.int32, ragged_rank=1) if lb else \
            tf.RaggedTensor.from_row_lengths(tf.zeros([0], tf.int32), [0])
        ta, tb = trimmer.trim([a, b])
        kept.append([int(ta.row_lengths()[0]), int(tb.row_lengths()[0])])
    # Real pairs packed as BertPackInputs does: trim, combine_segments, pad.
    seq_len = 32
    plain = make_tokenizer(vocab, True)
    sample = pairs[:400]
    a_ids = [plain.encode(a, add_special_tokens=False).ids for a, _ in sample]
    b_ids = [plain.encode(b, add_special_tokens=False).ids for _, b in sample]
    trimmer = tf_text.RoundRobinTrimmer(max_seq_length=seq_len - 3)
    ta, tb = trimmer.trim([tf.ragged.constant(a_ids, dtype=tf.int64), tf.ragged.constant(b_ids, dtype=tf.int64)])
    ids, types = tf_text.combine_segments([ta, tb], start_of_sequence_id=101, end_of_segment_id=102)
    ids, mask = tf_text.pad_model_inputs(ids, max_seq_length=seq_len)
    types, _ = tf_text.pad_model_inputs(types, max_seq_length=seq_len)
    rows = []
    for r in range(len(sample)):
        row_ids = [int(x) for x in ids[r].numpy()]
        row_types = [int(x) for x in types[r].numpy()]
        row_mask = [int(x) for x in mask[r].numpy()]
        length = sum(row_mask)
        assert row_mask == [1] * length + [0] * (seq_len - length)
        assert row_ids[length:] == [0] * (seq_len - length) and row_types[length:] == [0] * (seq_len - length)
        rows.append({"input_ids": row_ids[:length], "token_type_ids": "".join(map(str, row_types[:length])),
                     "length": length})
    return kept, {"seq_len": seq_len, "msr_first_pairs": rows}


def write_truncation(vocab, pairs):
    triples = crafted_lengths()
    google = []
    for la, lb, seq_len in triples:
        a, b = list(range(la)), list(range(lb))
        truncate_seq_pair(a, b, seq_len - 3)
        google.append([len(a), len(b)])
    rr_kept, rr_packed = round_robin_goldens(triples, pairs, vocab)
    golden = {
        "cases": [list(t) for t in triples],
        "longest_first_hf": hf_kept_lengths(vocab, triples),
        "pop_longer_google": google,
        "round_robin_tf_text": rr_kept,
        "round_robin_packed": rr_packed,
    }
    out = os.path.join(OUT, "truncation.json")
    with open(out, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("BERTC_DATA", os.path.join(ROOT, "..", "shared", "data")))
    args = parser.parse_args()
    vocab = os.path.join(args.data_dir, "vocab-bert-base-uncased.txt")
    msr = os.path.join(args.data_dir, "glue", "MRPC", "msr_paraphrase_train.txt")
    os.makedirs(OUT, exist_ok=True)
    out, pairs = write_msr_golden(vocab, msr)
    print("wrote", out)
    print("wrote", write_hard_strings(vocab))
    print("wrote", write_truncation(vocab, pairs))


if __name__ == "__main__":
    main()
