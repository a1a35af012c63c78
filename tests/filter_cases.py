"""The blocked-terms and links cases shared by the pure tests (tests/lib/test_content.py), the
socket and HTTP tests (tests/system/test_filter.py): the same table through every way in."""

# The list the tests load: plain terms in two scripts, a term of two words, and regex lines
# (one broken: it is skipped, never fatal).
BLOCKED_TERMS = """\
# Heart Link's blocked terms for the tests
bad
ass
bad word
坏蛋
ばか
/sp[a4]+m+/
/fr(ee)? ?m[o0]ney/
/broken(regex/
"""

# (text, blocked term?, link?)
CASES = [
    # terms: case, width, diacritics, invisible characters inside
    ("bad", True, False),
    ("Bad", True, False),
    ("BAD idea", True, False),
    ("ＢＡＤ", True, False),
    ("bád", True, False),
    ("bäd news", True, False),
    ("b\u200bad", True, False),
    ("b\u200d\u200cad", True, False),
    ("b\u00adad", True, False),
    ("b\ufeffa\u2060d", True, False),
    ("this is bad!", True, False),
    ("bad_boy", True, False),
    ("bad word", True, False),
    ("bad   word", True, False),
    ("you ass", True, False),
    # whole words in spaced scripts
    ("class", False, False),
    ("passage", False, False),
    ("badge", False, False),
    ("a badminton game", False, False),
    # scripts without spaces: a piece of the text
    ("他是坏蛋啊", True, False),
    ("あいつはばかだ", True, False),
    ("あいつはばか", True, False),
    ("你好bad", True, False),
    ("好的", False, False),
    # regex lines
    ("spam", True, False),
    ("SP4AAM here", True, False),
    ("free money", True, False),
    ("frm0ney", True, False),
    ("broken(regex", False, False),
    # links in their disguises
    ("example.com", False, True),
    ("see https://heart.example", False, True),
    ("ftp://files", False, True),
    ("mailto:someone@x", False, True),
    ("www.example", False, True),
    ("WWW . example", False, True),
    ("example . com", False, True),
    ("example .com", False, True),
    ("example. com", False, True),
    ("example．com", False, True),
    ("ｅｘａｍｐｌｅ．ｃｏｍ", False, True),
    ("example。com", False, True),
    ("example｡com", False, True),
    ("example(dot)com", False, True),
    ("mail.google.com", False, True),
    ("write to me@example.org", False, True),
    ("find me on t.me/someone", False, True),
    ("shop.de", False, True),
    ("去example。com看看", False, True),
    ("exámple.cöm", False, True),
    ("my site is heart-link.io", False, True),
    # ordinary text that is not a link
    ("3.5", False, False),
    ("e.g. this", False, False),
    ("i.e. it works", False, False),
    ("at 10 a.m. tomorrow", False, False),
    ("open file.txt", False, False),
    ("Mr. Smith", False, False),
    ("ok.so", False, False),
    ("ok. so what", False, False),
    ("at 10.30", False, False),
    ("version 1.2.3", False, False),
    ("That was great. Live music after", False, False),
    ("M. de Gaulle", False, False),
    ("好的。so 我们走吧", False, False),
    ("wait...so", False, False),
    ("hello there", False, False),
]
