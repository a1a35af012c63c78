"""Untrusted text made safe to show: no invisible or direction-changing characters.

A file name like "invoice\u202egpj.exe" shows as "invoiceexe.jpg" where the
right-to-left override is honoured; zero-width characters hide differences between
names; C0/C1 controls and ANSI escapes rewrite a moderator's terminal.
"""
import unicodedata

# Bidi embeddings/overrides and isolates, marks, zero-width characters, BOM, the
# invisible operators; all are category Cf, which is removed entirely below, and listed
# here to say what the rule is for.
BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
ZERO_WIDTH = set("\u200b\u200c\u200d\u2060\ufeff\u180e")
# Letters and marks that draw nothing: the Hangul fillers, the braille blank, the combining
# grapheme joiner. A name made of them looks empty; inside one they hide a difference.
BLANK_LOOKING = set("\u115f\u1160\u3164\uffa0\u2800\u034f")
VARIATION_SELECTORS = {chr(code) for code in range(0xFE00, 0xFE10)}


def _invisible(char, keep):
    if char in keep:
        return False
    category = unicodedata.category(char)
    # Cc: C0, DEL and C1 controls (ESC starts every ANSI sequence); Cf: format characters
    # (bidi, zero-width, soft hyphen, tags); Zl/Zp: line and paragraph separators;
    # Co/Cs/Cn: private use, lone surrogates, unassigned.
    return category in ("Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn") or char in BIDI_CONTROLS or char in ZERO_WIDTH


def visible(text, keep_newlines=False):
    """`text` without control, format (bidi, zero-width) and unassigned characters."""
    keep = {"\n"} if keep_newlines else set()
    if keep_newlines:
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return "".join(char for char in text if not _invisible(char, keep))


def chosen_name(text):
    """A name a person chose (display name, file name) as it may be shown to others: visible()
    characters only, no blank-looking letters, a variation selector only right after a symbol
    or digit it can restyle (so ❤️ and 1️⃣ stay), every run of white space one space, none at
    either end ("photo.jpg" + 100 spaces + ".exe" shows its ".exe")."""
    kept = []
    for char in visible(text):
        if char in BLANK_LOOKING:
            continue
        if char in VARIATION_SELECTORS and not (kept and unicodedata.category(kept[-1]) in ("So", "Sk", "Nd")):
            continue
        kept.append(char)
    return " ".join("".join(kept).split())


def for_terminal(value):
    """Untrusted text for a terminal: printable characters as they are, everything else
    (newlines, ESC, bidi controls, C1) as a visible escape, so nothing can move the
    cursor, recolour, or forge a line."""
    text = str(value)
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif _invisible(char, keep=set()) or char in "\u2028\u2029":
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(char)
    return "".join(out)
