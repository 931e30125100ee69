/*
 * mysql_charset.c: collation ids to character sets, and conversion to
 * UTF-8 with iconv (mysql_charset.h).
 *
 * The id table below was generated from MariaDB 10.11's
 * information_schema.COLLATIONS (SELECT ID, CHARACTER_SET_NAME), with the
 * ids MySQL 8 adds (76 utf8mb3_tolower_ci, 248-250 gb18030, 255-323 the
 * utf8mb4 0900 collations), which MariaDB does not use.  Ids 1024 and up
 * are MariaDB's NO PAD variants; from 2048 on, MariaDB's UCA-14
 * collations take 256 ids per character set (ranges_uca1400).  Lookups go
 * through a dense byte map built once per decoder.
 */
#include "mysql_charset.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mysql_int.h"
#include "utf8.h"

/* Character sets, in the order of charsets[] below. */
enum
{
	CS_NONE = 0,
	CS_ARMSCII8, CS_ASCII, CS_BIG5, CS_BINARY, CS_CP1250, CS_CP1251,
	CS_CP1256, CS_CP1257, CS_CP850, CS_CP852, CS_CP866, CS_CP932, CS_DEC8,
	CS_EUCJPMS, CS_EUCKR, CS_GB18030, CS_GB2312, CS_GBK, CS_GEOSTD8,
	CS_GREEK, CS_HEBREW, CS_HP8, CS_KEYBCS2, CS_KOI8R, CS_KOI8U, CS_LATIN1,
	CS_LATIN2, CS_LATIN5, CS_LATIN7, CS_MACCE, CS_MACROMAN, CS_SJIS,
	CS_SWE7, CS_TIS620, CS_UCS2, CS_UJIS, CS_UTF16, CS_UTF16LE, CS_UTF32,
	CS_UTF8MB3, CS_UTF8MB4, CS_COUNT
};

/* Server name and iconv name of each character set (NULL: no converter;
 * "" for the UTF-8 ones, which pass through). */
static const struct
{
	const char *name;
	const char *iconv;
}			charsets[CS_COUNT] = {
	[CS_ARMSCII8] = {"armscii8", "ARMSCII-8"},
	[CS_ASCII] = {"ascii", "ASCII"},
	[CS_BIG5] = {"big5", "BIG5"},
	[CS_BINARY] = {"binary", NULL},
	[CS_CP1250] = {"cp1250", "CP1250"},
	[CS_CP1251] = {"cp1251", "CP1251"},
	[CS_CP1256] = {"cp1256", "CP1256"},
	[CS_CP1257] = {"cp1257", "CP1257"},
	[CS_CP850] = {"cp850", "CP850"},
	[CS_CP852] = {"cp852", "CP852"},
	[CS_CP866] = {"cp866", "CP866"},
	[CS_CP932] = {"cp932", "CP932"},
	[CS_DEC8] = {"dec8", "DEC-MCS"},
	[CS_EUCJPMS] = {"eucjpms", "EUC-JP-MS"},
	[CS_EUCKR] = {"euckr", "EUC-KR"},
	[CS_GB18030] = {"gb18030", "GB18030"},
	[CS_GB2312] = {"gb2312", "GB2312"},
	[CS_GBK] = {"gbk", "GBK"},
	[CS_GEOSTD8] = {"geostd8", "GEORGIAN-PS"},
	[CS_GREEK] = {"greek", "ISO-8859-7"},
	[CS_HEBREW] = {"hebrew", "ISO-8859-8"},
	[CS_HP8] = {"hp8", "HP-ROMAN8"},
	[CS_KEYBCS2] = {"keybcs2", NULL},
	[CS_KOI8R] = {"koi8r", "KOI8-R"},
	[CS_KOI8U] = {"koi8u", "KOI8-U"},
	[CS_LATIN1] = {"latin1", "CP1252"},
	[CS_LATIN2] = {"latin2", "ISO-8859-2"},
	[CS_LATIN5] = {"latin5", "ISO-8859-9"},
	[CS_LATIN7] = {"latin7", "ISO-8859-13"},
	[CS_MACCE] = {"macce", "MAC-CENTRALEUROPE"},
	[CS_MACROMAN] = {"macroman", "MACINTOSH"},
	[CS_SJIS] = {"sjis", "SHIFT_JIS"},
	[CS_SWE7] = {"swe7", "ISO646-SE"},
	[CS_TIS620] = {"tis620", "TIS-620"},
	[CS_UCS2] = {"ucs2", "UCS-2BE"},
	[CS_UJIS] = {"ujis", "EUC-JP"},
	[CS_UTF16] = {"utf16", "UTF-16BE"},
	[CS_UTF16LE] = {"utf16le", "UTF-16LE"},
	[CS_UTF32] = {"utf32", "UTF-32BE"},
	[CS_UTF8MB3] = {"utf8mb3", ""},
	[CS_UTF8MB4] = {"utf8mb4", ""},
};

/* Collation ids (inclusive ranges) and their character sets. */
static const struct
{
	uint16_t	lo,
				hi;
	uint8_t		cs;
}			ranges[] = {
	{1, 1, CS_BIG5}, {2, 2, CS_LATIN2}, {3, 3, CS_DEC8}, {4, 4, CS_CP850},
	{5, 5, CS_LATIN1}, {6, 6, CS_HP8}, {7, 7, CS_KOI8R}, {8, 8, CS_LATIN1},
	{9, 9, CS_LATIN2}, {10, 10, CS_SWE7}, {11, 11, CS_ASCII},
	{12, 12, CS_UJIS}, {13, 13, CS_SJIS}, {14, 14, CS_CP1251},
	{15, 15, CS_LATIN1}, {16, 16, CS_HEBREW}, {18, 18, CS_TIS620},
	{19, 19, CS_EUCKR}, {20, 20, CS_LATIN7}, {21, 21, CS_LATIN2},
	{22, 22, CS_KOI8U}, {23, 23, CS_CP1251}, {24, 24, CS_GB2312},
	{25, 25, CS_GREEK}, {26, 26, CS_CP1250}, {27, 27, CS_LATIN2},
	{28, 28, CS_GBK}, {29, 29, CS_CP1257}, {30, 30, CS_LATIN5},
	{31, 31, CS_LATIN1}, {32, 32, CS_ARMSCII8}, {33, 33, CS_UTF8MB3},
	{34, 34, CS_CP1250}, {35, 35, CS_UCS2}, {36, 36, CS_CP866},
	{37, 37, CS_KEYBCS2}, {38, 38, CS_MACCE}, {39, 39, CS_MACROMAN},
	{40, 40, CS_CP852}, {41, 42, CS_LATIN7}, {43, 43, CS_MACCE},
	{44, 44, CS_CP1250}, {45, 46, CS_UTF8MB4}, {47, 49, CS_LATIN1},
	{50, 52, CS_CP1251}, {53, 53, CS_MACROMAN}, {54, 55, CS_UTF16},
	{56, 56, CS_UTF16LE}, {57, 57, CS_CP1256}, {58, 59, CS_CP1257},
	{60, 61, CS_UTF32}, {62, 62, CS_UTF16LE}, {63, 63, CS_BINARY},
	{64, 64, CS_ARMSCII8}, {65, 65, CS_ASCII}, {66, 66, CS_CP1250},
	{67, 67, CS_CP1256}, {68, 68, CS_CP866}, {69, 69, CS_DEC8},
	{70, 70, CS_GREEK}, {71, 71, CS_HEBREW}, {72, 72, CS_HP8},
	{73, 73, CS_KEYBCS2}, {74, 74, CS_KOI8R}, {75, 75, CS_KOI8U},
	{76, 76, CS_UTF8MB3}, {77, 77, CS_LATIN2}, {78, 78, CS_LATIN5},
	{79, 79, CS_LATIN7}, {80, 80, CS_CP850}, {81, 81, CS_CP852},
	{82, 82, CS_SWE7}, {83, 83, CS_UTF8MB3}, {84, 84, CS_BIG5},
	{85, 85, CS_EUCKR}, {86, 86, CS_GB2312}, {87, 87, CS_GBK},
	{88, 88, CS_SJIS}, {89, 89, CS_TIS620}, {90, 90, CS_UCS2},
	{91, 91, CS_UJIS}, {92, 93, CS_GEOSTD8}, {94, 94, CS_LATIN1},
	{95, 96, CS_CP932}, {97, 98, CS_EUCJPMS}, {99, 99, CS_CP1250},
	{101, 124, CS_UTF16}, {128, 151, CS_UCS2}, {159, 159, CS_UCS2},
	{160, 183, CS_UTF32}, {192, 215, CS_UTF8MB3}, {223, 223, CS_UTF8MB3},
	{224, 247, CS_UTF8MB4}, {248, 250, CS_GB18030}, {255, 323, CS_UTF8MB4},
	{576, 578, CS_UTF8MB3}, {608, 610, CS_UTF8MB4}, {640, 642, CS_UCS2},
	{672, 674, CS_UTF16}, {736, 738, CS_UTF32}, {1025, 1025, CS_BIG5},
	{1027, 1027, CS_DEC8}, {1028, 1028, CS_CP850}, {1030, 1030, CS_HP8},
	{1031, 1031, CS_KOI8R}, {1032, 1032, CS_LATIN1}, {1033, 1033, CS_LATIN2},
	{1034, 1034, CS_SWE7}, {1035, 1035, CS_ASCII}, {1036, 1036, CS_UJIS},
	{1037, 1037, CS_SJIS}, {1040, 1040, CS_HEBREW}, {1042, 1042, CS_TIS620},
	{1043, 1043, CS_EUCKR}, {1046, 1046, CS_KOI8U}, {1048, 1048, CS_GB2312},
	{1049, 1049, CS_GREEK}, {1050, 1050, CS_CP1250}, {1052, 1052, CS_GBK},
	{1054, 1054, CS_LATIN5}, {1056, 1056, CS_ARMSCII8},
	{1057, 1057, CS_UTF8MB3}, {1059, 1059, CS_UCS2}, {1060, 1060, CS_CP866},
	{1061, 1061, CS_KEYBCS2}, {1062, 1062, CS_MACCE},
	{1063, 1063, CS_MACROMAN}, {1064, 1064, CS_CP852}, {1065, 1065, CS_LATIN7},
	{1067, 1067, CS_MACCE}, {1069, 1070, CS_UTF8MB4}, {1071, 1071, CS_LATIN1},
	{1074, 1075, CS_CP1251}, {1077, 1077, CS_MACROMAN}, {1078, 1079, CS_UTF16},
	{1080, 1080, CS_UTF16LE}, {1081, 1081, CS_CP1256}, {1082, 1083, CS_CP1257},
	{1084, 1085, CS_UTF32}, {1086, 1086, CS_UTF16LE},
	{1088, 1088, CS_ARMSCII8}, {1089, 1089, CS_ASCII}, {1090, 1090, CS_CP1250},
	{1091, 1091, CS_CP1256}, {1092, 1092, CS_CP866}, {1093, 1093, CS_DEC8},
	{1094, 1094, CS_GREEK}, {1095, 1095, CS_HEBREW}, {1096, 1096, CS_HP8},
	{1097, 1097, CS_KEYBCS2}, {1098, 1098, CS_KOI8R}, {1099, 1099, CS_KOI8U},
	{1101, 1101, CS_LATIN2}, {1102, 1102, CS_LATIN5}, {1103, 1103, CS_LATIN7},
	{1104, 1104, CS_CP850}, {1105, 1105, CS_CP852}, {1106, 1106, CS_SWE7},
	{1107, 1107, CS_UTF8MB3}, {1108, 1108, CS_BIG5}, {1109, 1109, CS_EUCKR},
	{1110, 1110, CS_GB2312}, {1111, 1111, CS_GBK}, {1112, 1112, CS_SJIS},
	{1113, 1113, CS_TIS620}, {1114, 1114, CS_UCS2}, {1115, 1115, CS_UJIS},
	{1116, 1117, CS_GEOSTD8}, {1119, 1120, CS_CP932}, {1121, 1122, CS_EUCJPMS},
	{1125, 1125, CS_UTF16}, {1147, 1147, CS_UTF16}, {1152, 1152, CS_UCS2},
	{1174, 1174, CS_UCS2}, {1184, 1184, CS_UTF32}, {1206, 1206, CS_UTF32},
	{1216, 1216, CS_UTF8MB3}, {1238, 1238, CS_UTF8MB3},
	{1248, 1248, CS_UTF8MB4}, {1270, 1270, CS_UTF8MB4},
};

/* MariaDB's UCA-14 collations: 256 ids per character set from 2048 on. */
static const uint8_t ranges_uca1400[] = {
	CS_UTF8MB3, CS_UTF8MB4, CS_UCS2, CS_UTF16, CS_UTF32
};

#define MAP_SIZE 65536

struct trib_my_charsets
{
	uint8_t		map[MAP_SIZE];	/* collation id -> CS_*, CS_NONE unknown */
	iconv_t		cd[CS_COUNT];	/* opened on first use; (iconv_t) -1 */
	bool		cd_tried[CS_COUNT];
};

trib_my_charsets *
trib_my_charsets_new(void)
{
	trib_my_charsets *cs = trib_xcalloc(1, sizeof(*cs));

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		for (unsigned id = ranges[i].lo; id <= ranges[i].hi; id++)
			cs->map[id] = ranges[i].cs;
	for (size_t i = 0; i < sizeof(ranges_uca1400); i++)
		memset(cs->map + 2048 + 256 * i, ranges_uca1400[i], 256);
	for (int i = 0; i < CS_COUNT; i++)
		cs->cd[i] = (iconv_t) -1;
	return cs;
}

void
trib_my_charsets_free(trib_my_charsets *cs)
{
	if (cs == NULL)
		return;
	for (int i = 0; i < CS_COUNT; i++)
		if (cs->cd[i] != (iconv_t) -1)
			iconv_close(cs->cd[i]);
	free(cs);
}

bool
trib_my_charsets_add(trib_my_charsets *cs, uint32_t collation, const char *charset)
{
	if (collation >= MAP_SIZE)
		return false;
	for (int i = 1; i < CS_COUNT; i++)
		if (strcmp(charsets[i].name, charset) == 0 ||
			(i == CS_UTF8MB3 && strcmp(charset, "utf8") == 0))
		{
			cs->map[collation] = (uint8_t) i;
			return true;
		}
	return false;
}

const char *
trib_my_charset_name(const trib_my_charsets *cs, uint32_t collation)
{
	if (collation >= MAP_SIZE || cs->map[collation] == CS_NONE)
		return NULL;
	return charsets[cs->map[collation]].name;
}

/* Append U+FFFD. */
static void
add_replacement(trib_strbuf *out)
{
	trib_strbuf_add(out, "\xEF\xBF\xBD", 3);
}

/* Append byte b read as ISO 8859-1 (what the server makes of latin1's
 * unassigned bytes). */
static void
add_latin1(trib_strbuf *out, unsigned char b)
{
	char		u[2] = {(char) (0xC0 | b >> 6), (char) (0x80 | (b & 0x3F))};

	if (b < 0x80)
		trib_strbuf_addc(out, (char) b);
	else
		trib_strbuf_add(out, u, 2);
}

/* UTF-8 in, UTF-8 out: valid text as is, each ill-formed byte as U+FFFD. */
static void
pass_utf8(const char *s, size_t len, trib_strbuf *out)
{
	size_t		i = 0;

	if (trib_utf8_valid(s, len))
	{
		trib_strbuf_add(out, s, len);
		return;
	}
	while (i < len)
	{
		uint32_t	cp;
		size_t		n = trib_utf8_next(s, len, i, &cp);

		if (cp == 0xFFFD && n == 1)
			add_replacement(out);
		else
			trib_strbuf_add(out, s + i, n);
		i += n;
	}
}

/* Make room for at least n more bytes after out->len. */
static void
reserve(trib_strbuf *out, size_t n)
{
	if (out->cap - out->len < n + 1)
	{
		out->cap = (out->len + n + 1) * 2;
		out->data = trib_xrealloc(out->data, out->cap);
	}
}

/* iconv s[0..len) through cd; bad sequences as the charset dictates. */
static void
convert(iconv_t cd, int csid, const char *s, size_t len, trib_strbuf *out)
{
	char	   *in = (char *) s;
	size_t		inleft = len;

	reserve(out, 16);
	while (inleft > 0)
	{
		char	   *o;
		size_t		oleft,
					r;

		reserve(out, inleft * 4 + 16);
		o = out->data + out->len;
		oleft = out->cap - out->len - 1;
		r = iconv(cd, &in, &inleft, &o, &oleft);
		out->len = (size_t) (o - out->data);
		if (r != (size_t) -1)
			break;
		if (errno == E2BIG)
			continue;
		/* EILSEQ or EINVAL (a sequence cut short at the end) */
		if (csid == CS_LATIN1)
			add_latin1(out, (unsigned char) *in);
		else
			add_replacement(out);
		in++;
		inleft--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	iconv(cd, NULL, NULL, NULL, NULL);
	out->data[out->len] = '\0';
}

bool
trib_my_to_utf8(trib_my_charsets *cs, uint32_t collation, const char *s,
				size_t len, trib_strbuf *out, char *errbuf, size_t errlen)
{
	int			id = collation < MAP_SIZE ? cs->map[collation] : CS_NONE;

	if (id == CS_NONE)
		return trib_my_fail(errbuf, errlen,
							"unknown collation id %u: its character set is not known",
							(unsigned) collation);
	if (charsets[id].iconv == NULL)
		return trib_my_fail(errbuf, errlen,
							"character set %s (collation id %u) cannot be converted to UTF-8 here",
							charsets[id].name, (unsigned) collation);
	if (charsets[id].iconv[0] == '\0')
	{
		pass_utf8(s, len, out);
		return true;
	}
	if (!cs->cd_tried[id])
	{
		cs->cd_tried[id] = true;
		cs->cd[id] = iconv_open("UTF-8", charsets[id].iconv);
	}
	if (cs->cd[id] == (iconv_t) -1)
		return trib_my_fail(errbuf, errlen,
							"character set %s: iconv has no converter from %s to UTF-8",
							charsets[id].name, charsets[id].iconv);
	convert(cs->cd[id], id, s, len, out);
	return true;
}
