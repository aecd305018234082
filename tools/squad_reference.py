"""Loads google-research/bert's run_squad.py (PyPI `bert-tensorflow==1.0.4`) without TensorFlow.

The SQuAD goldens (tools/golden_squad_features.py, tools/golden_squad_postprocess.py) call the
original functions unmodified: read_squad_examples, convert_examples_to_features,
_check_is_max_context, write_predictions and get_final_text. None of them needs TensorFlow,
but the module imports `tensorflow.compat.v1` (gfile, logging, flags) and `bert.modeling`
(which needs tensorflow.contrib) at import time, so stub modules stand in for those: gfile
opens files as UTF-8 text (as TensorFlow's GFile reads them), logging is silent, flags are
absl's (the same library TensorFlow's flags are), modeling and optimization are empty.

Also the canonical serialization of a feature that golden/squad/features-digest.jsonl hashes;
see `canonical_feature`.
"""
import hashlib
import json
import os
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("BERTC_DATA", ROOT.parent / "shared" / "data"))
SQUAD_V11 = DATA / "squad" / "dev-v1.1.json"
SQUAD_V11_SHA256 = "95aa6a52d5d6a735563366753ca50492a658031da74f301ac5238b03966972c9"
MODEL_CACHE = Path(os.environ.get("BERTC_MODEL_CACHE", Path.home() / ".cache" / "bertc" / "models"))
VOCAB = MODEL_CACHE / "minilm-l6" / "vocab.txt"
VOCAB_SHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
GOLDEN = ROOT / "golden" / "squad"

# run_squad.py's defaults, which the issue keeps.
MAX_SEQ_LENGTH = 384
DOC_STRIDE = 128
MAX_QUERY_LENGTH = 64
N_BEST_SIZE = 20
MAX_ANSWER_LENGTH = 30
DO_LOWER_CASE = True  # MiniLM-L6 is uncased (nreimers/MiniLM-L6-H384-uncased)
TRAIN_ARTICLES = range(0, 36)  # the split of dev-v1.1.json, in file order
EVAL_ARTICLES = range(36, 48)


def sha256_file(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _open_text(path, mode="r"):
    return open(path, mode) if "b" in mode else open(path, mode, encoding="utf-8")


def _install_stubs():
    from absl import flags as absl_flags

    def silent(*args, **kwargs):
        pass

    gfile = types.SimpleNamespace(GFile=_open_text, Open=_open_text, MakeDirs=silent)
    logging = types.SimpleNamespace(info=silent, warning=silent, set_verbosity=silent, INFO=20)
    v1 = types.ModuleType("tensorflow.compat.v1")
    v1.gfile, v1.logging, v1.flags = gfile, logging, absl_flags
    compat = types.ModuleType("tensorflow.compat")
    compat.v1 = v1
    tf = types.ModuleType("tensorflow")
    tf.compat = compat
    sys.modules.update({"tensorflow": tf, "tensorflow.compat": compat, "tensorflow.compat.v1": v1})
    import bert  # the package's __init__ is only a licence header
    for name in ("modeling", "optimization"):
        module = types.ModuleType("bert." + name)
        sys.modules["bert." + name] = module
        setattr(bert, name, module)


def _modules():
    if "bert.run_squad" not in sys.modules:
        _install_stubs()
    from bert import run_squad, tokenization
    return run_squad, tokenization


def load(version_2_with_negative=False, null_score_diff_threshold=0.0):
    """Returns (run_squad, tokenization) with every FLAGS value the functions read set."""
    run_squad, tokenization = _modules()
    flags = run_squad.FLAGS
    if not flags.is_parsed():
        flags(["run_squad"])  # defaults; the values the functions read are set below
    flags.version_2_with_negative = version_2_with_negative
    flags.null_score_diff_threshold = null_score_diff_threshold
    flags.verbose_logging = False
    flags.do_lower_case = DO_LOWER_CASE
    return run_squad, tokenization


def tokenizer():
    if sha256_file(VOCAB) != VOCAB_SHA256:
        raise SystemExit(f"{VOCAB}: not the MiniLM-L6 (bert-base-uncased) vocabulary; run tools/setup.sh model")
    _, tokenization = _modules()  # leaves FLAGS as they are
    return tokenization.FullTokenizer(vocab_file=str(VOCAB), do_lower_case=DO_LOWER_CASE)


def convert(run_squad, examples, tok, is_training):
    """convert_examples_to_features with run_squad.py's defaults; returns the features in order."""
    features = []
    run_squad.convert_examples_to_features(
        examples=examples, tokenizer=tok, max_seq_length=MAX_SEQ_LENGTH, doc_stride=DOC_STRIDE,
        max_query_length=MAX_QUERY_LENGTH, is_training=is_training, output_fn=features.append)
    return features


# MARK: - canonical serialization

def canonical_feature(f, with_impossible=False):
    """The object whose serialization is hashed: see golden/squad/README.md."""
    obj = {
        "doc_span_index": f.doc_span_index,
        "tokens": f.tokens,
        "input_ids": f.input_ids,
        "input_mask": f.input_mask,
        "segment_ids": f.segment_ids,
        "token_to_orig_map": sorted([k, v] for k, v in f.token_to_orig_map.items()),
        "token_is_max_context": sorted([k, bool(v)] for k, v in f.token_is_max_context.items()),
        "start_position": f.start_position,
        "end_position": f.end_position,
    }
    if with_impossible:
        obj["is_impossible"] = bool(f.is_impossible)
    return obj


def canonical_bytes(obj):
    """JSON, keys sorted, no spaces, non-ASCII as raw UTF-8 (tokens hold no control characters)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def feature_digest(obj):
    return hashlib.sha256(canonical_bytes(obj)).hexdigest()
