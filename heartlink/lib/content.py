"""What a text says once its disguises are taken off: blocked terms and links.

Both checks read the text through `normalise`: NFKC (fullwidth "ＢＡＤ" is "BAD", "①" is "1"),
casefold ("Bad" is "bad", "ß" is "ss"), combining marks dropped ("bád" is "bad") and the
characters that draw nothing (zero-width space and joiners, word joiner, BOM, soft hyphen,
variation selectors, any other format character) removed, so "b\u200bad" is "bad". Terms go
through the same function, so a term is written the way a person reads it.

How a plain term matches (docs/decisions.md): as a whole word where the script puts spaces
between words ("ass" does not match "class"), as a piece of any text where it does not (a
term in Chinese, Japanese, Korean, Thai … matches inside a sentence). A `/regex/` line is
searched for in the normalised text (write it in lower case, without accents; one written with
capitals is searched case-insensitively, at about 20 times the cost).

Everything is compiled at load: the one-word terms into a set the text's words are looked up
in, the other terms into one regular expression shaped as a trie (shared prefixes are tried
once), the regex lines into one alternation. A message costs a split into words and two regex
searches however long the list is (docs/performance.md). No Flask, no database: heartlink/domain/protections.py
decides who is checked and counts what is refused.
"""
import re
import string
import unicodedata
from typing import NamedTuple

from .text import VARIATION_SELECTORS, ZERO_WIDTH

SOFT_HYPHEN = "\u00ad"
# Removed wherever they are: they draw nothing, so they can split a term without showing.
_INVISIBLE = ZERO_WIDTH | VARIATION_SELECTORS | {SOFT_HYPHEN, "\u034f", "\u2061", "\u2062", "\u2063", "\u2064"}
# The kana voicing marks are letters' halves, not accents: が is not か.
_KEPT_MARKS = {"\u3099", "\u309a"}


def _drops(char):
    if char in _INVISIBLE:
        return True
    category = unicodedata.category(char)
    return category == "Cf" or (category == "Mn" and char not in _KEPT_MARKS)


def normalise(text):
    """`text` as the filters read it: NFKC, casefolded, without combining marks or invisible characters."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    if folded.isascii():  # the common case: nothing to decompose or drop
        return folded
    bare = "".join(char for char in unicodedata.normalize("NFD", folded) if not _drops(char))
    return unicodedata.normalize("NFC", bare)


# --- blocked terms -------------------------------------------------------------------------------

# Scripts written without spaces between words: a term in them matches inside other text.
_UNSPACED = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7AF),  # Hangul (particles join the word)
    (0x2E80, 0x2FDF), (0x3000, 0x303F), (0x3040, 0x30FF), (0x31F0, 0x31FF),  # CJK radicals, kana
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF),  # Han
)


def _unspaced(char):
    code = ord(char)
    return any(low <= code <= high for low, high in _UNSPACED)


# A letter or digit of a spaced script: a whole-word term may not touch one on either side
# ("ass" in "class"). Underscores and the unspaced scripts are not part of a word here, so
# "bad_boy" and "你好bad" hold the word "bad".
_SPACED_WORD = "[^\\W_" + "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in _UNSPACED) + "]"
_WORD = re.compile(_SPACED_WORD + "+")


def _as_pattern(words):
    """One regular expression for a set of literal strings, as a trie: "bad", "bag" → "ba(?:d|g)"."""
    trie = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def walk(node):
        ends = "" in node
        branches = [re.escape(char) + walk(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            # A shorter term ends here; the longer ones are tried first.
            return "(?:" + body + ")?" if len(branches) > 1 or len(body) > 1 else body + "?"
        return body

    return walk(trie)


class BadLine(NamedTuple):
    number: int
    line: str
    error: str


class BlockedTerms:
    """A compiled list of blocked terms and `/regex/` lines; `matches(text)` says whether text hits one."""

    def __init__(self, words=(), pieces=(), regexes=()):
        self.size = len(words) + len(pieces) + len(regexes)
        # A term that is one word is looked up among the text's words (a set, in C); terms of
        # several words or with punctuation ("a-hole") go into the pattern, bounded the same way.
        self._single = frozenset(word for word in words if _WORD.fullmatch(word))
        phrases = [word for word in words if word not in self._single]
        parts = []
        if phrases:
            parts.append(f"(?<!{_SPACED_WORD})" + _as_pattern(phrases) + f"(?!{_SPACED_WORD})")
        if pieces:
            parts.append(_as_pattern(pieces))
        self._terms = re.compile("|".join(parts)) if parts else None
        self._regexes = _combined(regexes)

    @classmethod
    def parse(cls, lines):
        """(BlockedTerms, [BadLine]) from a file's lines: one term or `/regex/` a line; blank lines
        and lines starting with `#` are skipped; a regex that does not compile is reported and skipped."""
        words, pieces, regexes, bad = set(), set(), [], []
        for number, raw in enumerate(lines, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if len(line) > 2 and line.startswith("/") and line.endswith("/"):
                try:
                    regexes.append(_compile_line(line[1:-1]))
                except re.error as error:
                    bad.append(BadLine(number, line, str(error)))
                continue
            term = " ".join(normalise(line).split())
            if not term:
                continue
            (pieces if all(_unspaced(char) for char in term if char.isalnum()) else words).add(term)
        return cls(sorted(words), sorted(pieces), regexes), bad

    def matches(self, text):
        """Whether `text` contains a blocked term or matches a blocked regex (the same normalisation applies)."""
        if self._terms is None and not self._regexes and not self._single:
            return False
        folded = " ".join(normalise(text).split())  # any run of white space is one space, as in the terms
        return bool((self._single and not self._single.isdisjoint(_WORD.findall(folded)))
                    or (self._terms and self._terms.search(folded))
                    or any(regex.search(folded) for regex in self._regexes))


def _combined(regexes):
    """The regex lines as few patterns as possible: one alternation of those without
    back-references (which an alternation would renumber); those with one stay on their own."""
    alone = [regex for regex in regexes if re.search(r"\\\d|\(\?P=", regex.pattern)]
    joinable = [regex for regex in regexes if regex not in alone]
    patterns = []
    # The text is already lower case: a pattern without capitals is searched case-sensitively,
    # which lets the regex engine skip ahead to a first letter (20 times faster than IGNORECASE);
    # one written with capitals keeps IGNORECASE, in an alternation of its own.
    exact = [regex for regex in joinable if not regex.flags & re.IGNORECASE]
    for group in (exact, [regex for regex in joinable if regex not in exact]):
        if not group:
            continue
        try:
            patterns.append(re.compile("|".join(f"(?:{regex.pattern})" for regex in group), group[0].flags))
        except re.error:  # a pattern with inline global flags, say: keep them apart
            patterns.extend(group)
    return patterns + alone


def _compile_line(pattern):
    """A /regex/ line's pattern, case-insensitive only if written with a capital letter."""
    return re.compile(pattern, re.IGNORECASE if re.search(r"(?<!\\)[A-Z]", pattern) else 0)


NOTHING_BLOCKED = BlockedTerms()


# --- links ---------------------------------------------------------------------------------------

# Top-level domains a bare "name.tld" is read as a link with: every two-letter country code
# (ISO 3166-1 alpha-2 as delegated in the root zone, with .eu, .su, .ac, .uk), and the generic
# ones people and spammers use. Not the whole IANA list (about 1,500 names, many of them English
# words such as .life, .love, .now): those would make ordinary sentences read as links.
COUNTRY_TLDS = frozenset("""
ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo br bs bt bw by
bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec ee eg er es et eu fi
fj fk fm fo fr ga gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in
io iq ir is it je jm jo jp ke kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md
me mg mh mk ml mm mn mo mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe
pf pg ph pk pl pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sk sl sm sn so sr ss st
su sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi vn vu
wf ws ye yt za zm zw
""".split())
GENERIC_TLDS = frozenset("""
com net org info biz edu gov mil int name pro mobi asia tel travel jobs aero coop museum
app dev page xyz online site top club shop store tech website space icu vip cloud link click
live blog news email chat social media network digital agency host web porn sex xxx adult
cam dating date loan win bid download stream tube video ltd bet casino poker game games
""".split())
KNOWN_TLDS = COUNTRY_TLDS | GENERIC_TLDS
# Country codes that are also everyday English words, typed without the space after a full
# stop ("ok.so", "yes.it", "do.it"): after them "name.xx" is a link only with a path
# ("t.me/name") or a third label ("www.x.it", "a.b.me").
WORD_TLDS = frozenset("am as at be by do id in is it me my no so to us".split())
# A space before a dot is a disguise (prose never has one): "example . com". A space after it
# only is how sentences go on ("That was great. Live music…"): then only these count.
SPACED_TLDS = frozenset("com net org info biz xyz ru cn".split())

_DOTS = str.maketrans({"\u3002": ".", "\uff61": ".", "\ufe52": ".", "\u2024": "."})
# Any scheme before "//" ("https://", "hxxp : //"), or a scheme that needs none. Each pattern
# starts with what it looks for, so the regex engine skips ahead to it.
_SCHEME = re.compile(r":\s*/\s*/")
_BARE_SCHEME = re.compile(r"(?:mailto|magnet|xmpp|tg|whatsapp|skype|sms):\s*\S")
_WWW = re.compile(r"(?<![a-z0-9])www\d{0,3}\s*\.\s*[a-z0-9]")
# A dot, and what may be a top-level domain after it; the name before it is read
# backwards from the dot (_label_before). Searching from the dots lets the regex engine skip to
# them, rather than trying every word of a long message as a possible name.
_DOT_TLD = re.compile(r"\.(?P<space_after>\s*)(?P<tld>[a-z]{2,24})(?![a-z0-9-])(?P<path>\s*/)?")
_LABEL_CHARS = frozenset(string.ascii_lowercase + string.digits + "-")


_BRACKETED_DOT = re.compile(r"\s*[(\[]\s*dot\s*[)\]]\s*")


def _ends_a_word(text, end):
    """Whether a letter or digit comes right before `end`, once spaces are skipped."""
    stop = end
    while stop > 0 and text[stop - 1].isspace():
        stop -= 1
    return stop > 0 and text[stop - 1].isalnum()


def _label_before(text, end):
    """(start of the name ending at `end` once spaces are skipped, spaces skipped), or None."""
    stop = end
    while stop > 0 and text[stop - 1].isspace():
        stop -= 1
    start = stop
    while start > 0 and text[start - 1] in _LABEL_CHARS:
        start -= 1
    if start == stop or text[start] == "-" or text[stop - 1] == "-":
        return None
    return start, end - stop


def has_link(text):
    """Whether `text` holds something a browser or a person could follow as a link: a scheme
    ("http://", "mailto:"), "www.", or a name ending in a known top-level domain, also when the
    dot is spaced ("example . com"), fullwidth ("example．com") or an ideographic full stop
    ("example。com"). "3.5", "e.g.", "a.m.", "file.txt", "10.30", "v1.2.3" and "Mr. Smith" are not links."""
    folded = normalise(text).translate(_DOTS)
    if "dot" in folded:
        folded = _BRACKETED_DOT.sub(" .", folded)  # "example(dot)com" is spaced: " ." before
    if "." not in folded and ":" not in folded:
        return False
    if ":" in folded and (any(_ends_a_word(folded, found.start()) for found in _SCHEME.finditer(folded)) or any(
            found.start() == 0 or not folded[found.start() - 1].isalnum() for found in _BARE_SCHEME.finditer(folded))):
        return True
    if "www" in folded and _WWW.search(folded):
        return True
    for found in _DOT_TLD.finditer(folded):
        tld = found["tld"]
        if tld not in KNOWN_TLDS:
            continue
        label = _label_before(folded, found.start())
        if label is None:
            continue
        start, space_before = label
        if not space_before and found["space_after"] and tld not in SPACED_TLDS:
            continue  # a sentence going on: "That was great. Live music"
        if tld not in WORD_TLDS or found["path"]:
            return True
        if start > 0 and folded[start - 1] == "." and not space_before and not found["space_after"]:
            return True  # a third label: "www.x.it", "a.b.me"
    return False
