/*
 * Names compared as a registration officer reads them: without regard to
 * case or accents ("Sébastien" is "SEBASTIEN", "Müller" is "muller",
 * "Dœuf" is "doeuf"), so that a name typed from a foreign document on a
 * Belgian keyboard finds the register's spelling. Letters outside the
 * Latin ranges are kept as they are.
 */
#include <string.h>

#include "base/base.h"

/* U+00C0 to U+017F, each its base letters in lower case ("" keeps it). */
static const char *const latin[] = {
	/* C0 */ "a", "a", "a", "a", "a", "a", "ae", "c",
	/* C8 */ "e", "e", "e", "e", "i", "i", "i", "i",
	/* D0 */ "d", "n", "o", "o", "o", "o", "o", "",
	/* D8 */ "o", "u", "u", "u", "u", "y", "th", "ss",
	/* E0 */ "a", "a", "a", "a", "a", "a", "ae", "c",
	/* E8 */ "e", "e", "e", "e", "i", "i", "i", "i",
	/* F0 */ "d", "n", "o", "o", "o", "o", "o", "",
	/* F8 */ "o", "u", "u", "u", "u", "y", "th", "y",
	/* 100 */ "a", "a", "a", "a", "a", "a", "c", "c",
	/* 108 */ "c", "c", "c", "c", "c", "c", "d", "d",
	/* 110 */ "d", "d", "e", "e", "e", "e", "e", "e",
	/* 118 */ "e", "e", "e", "e", "g", "g", "g", "g",
	/* 120 */ "g", "g", "g", "g", "h", "h", "h", "h",
	/* 128 */ "i", "i", "i", "i", "i", "i", "i", "i",
	/* 130 */ "i", "i", "ij", "ij", "j", "j", "k", "k",
	/* 138 */ "k", "l", "l", "l", "l", "l", "l", "l",
	/* 140 */ "l", "l", "l", "n", "n", "n", "n", "n",
	/* 148 */ "n", "n", "n", "n", "o", "o", "o", "o",
	/* 150 */ "o", "o", "oe", "oe", "r", "r", "r", "r",
	/* 158 */ "r", "r", "s", "s", "s", "s", "s", "s",
	/* 160 */ "s", "s", "t", "t", "t", "t", "t", "t",
	/* 168 */ "u", "u", "u", "u", "u", "u", "u", "u",
	/* 170 */ "u", "u", "u", "u", "w", "w", "y", "y",
	/* 178 */ "y", "z", "z", "z", "z", "z", "z", "s",
};

/* The code point of the valid sequence s of len bytes. */
static unsigned code_point(const unsigned char *s, size_t len)
{
	if (len == 1)
		return s[0];
	unsigned cp = s[0] & (0xffu >> (len + 1));
	for (size_t i = 1; i < len; i++)
		cp = cp << 6 | (s[i] & 0x3fu);
	return cp;
}

bool text_fold(const char *in, char *out, size_t n)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t len = strlen(in), at = 0;
	for (size_t i = 0; i < len;) {
		size_t k = utf8_seq(s + i, len - i);
		if (k == 0)
			return false;
		unsigned cp = code_point(s + i, k);
		const char *to = NULL;
		char lower[2] = {(char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp),
				 '\0'};
		if (cp < 0x80)
			to = lower;
		else if (cp >= 0xc0 && cp <= 0x17f && latin[cp - 0xc0][0])
			to = latin[cp - 0xc0];
		size_t m = to ? strlen(to) : k;
		if (at + m >= n)
			return false;
		memcpy(out + at, to ? to : in + i, m);
		at += m;
		i += k;
	}
	out[at] = '\0';
	return true;
}
