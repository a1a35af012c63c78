"""What counts as one emoji (a reaction): a single emoji, as a person would pick it.

Accepted: one pictograph (optionally with VS16 and a skin tone), a ZWJ sequence of
such pictographs (family, profession, flag variants), a pair of regional indicators
(a country flag), a keycap (digit, # or * + VS16 + U+20E3), or a subdivision flag
(black flag + tag characters). Everything else — punctuation, letters, spaces,
zero-width or other invisible characters alone, several emoji — is refused.
"""

# Extended_Pictographic, as ranges (Unicode 15); close enough for a reaction picker.
_PICTOGRAPHIC = (
    (0x00A9, 0x00A9), (0x00AE, 0x00AE), (0x203C, 0x203C), (0x2049, 0x2049), (0x2122, 0x2122),
    (0x2139, 0x2139), (0x2194, 0x2199), (0x21A9, 0x21AA), (0x231A, 0x231B), (0x2328, 0x2328),
    (0x2388, 0x2388), (0x23CF, 0x23CF), (0x23E9, 0x23F3), (0x23F8, 0x23FA), (0x24C2, 0x24C2),
    (0x25AA, 0x25AB), (0x25B6, 0x25B6), (0x25C0, 0x25C0), (0x25FB, 0x25FE), (0x2600, 0x27BF),
    (0x2934, 0x2935), (0x2B05, 0x2B07), (0x2B1B, 0x2B1C), (0x2B50, 0x2B50), (0x2B55, 0x2B55),
    (0x3030, 0x3030), (0x303D, 0x303D), (0x3297, 0x3297), (0x3299, 0x3299),
    (0x1F000, 0x1F1E5), (0x1F200, 0x1F3FA), (0x1F400, 0x1FAFF), (0x1FC00, 0x1FFFD),
)
_VS16, _ZWJ, _KEYCAP = 0xFE0F, 0x200D, 0x20E3
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_REGIONAL = range(0x1F1E6, 0x1F200)
_TAGS, _CANCEL_TAG, _BLACK_FLAG = range(0xE0020, 0xE007F), 0xE007F, 0x1F3F4
MAX_LENGTH = 16


def _pictographic(code):
    return any(low <= code <= high for low, high in _PICTOGRAPHIC)


def _element(codes, i):
    """Index after one emoji element starting at i (pictograph [VS16] [skin tone] [tags]), or -1."""
    if i >= len(codes) or not _pictographic(codes[i]):
        return -1
    base = codes[i]
    i += 1
    if i < len(codes) and codes[i] == _VS16:
        i += 1
    if i < len(codes) and codes[i] in _SKIN_TONES:
        i += 1
    if base == _BLACK_FLAG and i < len(codes) and codes[i] in _TAGS:
        while i < len(codes) and codes[i] in _TAGS:
            i += 1
        if i >= len(codes) or codes[i] != _CANCEL_TAG:
            return -1
        i += 1
    return i


def is_one_emoji(text):
    """True if `text` is exactly one emoji."""
    if not isinstance(text, str) or not 1 <= len(text) <= MAX_LENGTH:
        return False
    codes = [ord(char) for char in text]
    if len(codes) == 2 and all(code in _REGIONAL for code in codes):
        return True
    if text[0] in "0123456789#*" and codes[1:] in ([_VS16, _KEYCAP], [_KEYCAP]):
        return True
    i = _element(codes, 0)
    while 0 < i < len(codes):
        if codes[i] != _ZWJ:
            return False
        i = _element(codes, i + 1)
    return i == len(codes)
