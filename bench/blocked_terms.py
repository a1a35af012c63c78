"""What the blocked-terms filter and the links rule cost per message (docs/performance.md).

    .venv/bin/python bench/blocked_terms.py [terms]

Builds a list of `terms` (1,000) random words and 10 regex lines, then times the two checks a
sent message goes through (BlockedTerms.matches, has_link) on a typical chat line, a long
message and a non-Latin one (best of 5 runs).
"""
import random
import string
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from heartlink.lib import content  # noqa: E402


def main(count=1000):
    chosen = random.Random(1)
    words = ["".join(chosen.choice(string.ascii_lowercase) for _ in range(chosen.randint(4, 12))) for _ in range(count)]
    regexes = [f"/{word[:3]}[a4]+{word[3:]}/" for word in words[:10]]
    terms, _bad = content.BlockedTerms.parse(words + regexes)
    texts = {
        "chat line (40 chars)": "hey, are you free tonight at 10.30? :)  ",
        "long message (4,000 chars)": ("Long message with many words, numbers 3.5 and e.g. ok. " * 80)[:4000],
        "Chinese line (20 chars)": "你好，今天晚上有空吗？我们去吃饭吧好不好",
    }
    print(f"{terms.size} terms and regexes")
    for name, text in texts.items():
        runs = 2000 if len(text) < 100 else 100
        # The best of 5: what the check costs, without the other processes' share of the CPU.
        term = min(timeit.repeat(lambda text=text: terms.matches(text), number=runs, repeat=5)) / runs
        link = min(timeit.repeat(lambda text=text: content.has_link(text), number=runs, repeat=5)) / runs
        print(f"{name}: terms {term * 1e6:.1f} µs, links {link * 1e6:.1f} µs")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
