/*
 * utf8.c — UTF-8 for JSON and for labels cut at a byte count (utf8.h).
 */
#include "common/utf8.h"

#include <stdlib.h>
#include <string.h>

#include <pmapstorm/alloc.h>

/* the length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0 */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
	if (n == 0 || (n == 2 && c < 0xc2) || (n == 4 && c > 0xf4))
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0) || (c == 0xf0 && s[1] < 0x90) ||
	    (c == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

char *utf8_lossy(const char *s)
{
	size_t len = strlen(s), o = 0;
	char *d = mem_alloc(char, 3 * len + 1); /* each bad byte becomes 3 */
	if (d == NULL)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq((const unsigned char *)s + i);
		if (n == 0) {
			memcpy(d + o, "\xef\xbf\xbd", 3); /* U+FFFD */
			o += 3;
			i++;
		} else {
			memcpy(d + o, s + i, n);
			o += n;
			i += n;
		}
	}
	d[o] = '\0';
	return d;
}

json_t *utf8_json_string(const char *s)
{
	char *d = utf8_lossy(s);
	json_t *j = d != NULL ? json_string(d) : NULL;
	free(d);
	return j;
}

void utf8_cut(char *s)
{
	size_t len = strlen(s), i = len, back = 0;
	while (i > 0 && back < 4 && ((unsigned char)s[i - 1] & 0xc0) == 0x80) {
		i--;
		back++;
	}
	if (i == 0 || ((unsigned char)s[i - 1] & 0x80) == 0)
		return; /* ASCII (or nothing but continuation bytes): nothing cut */
	i--; /* the lead byte */
	unsigned c = (unsigned char)s[i];
	size_t need = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 1;
	if (len - i < need)
		s[i] = '\0';
}
