/*
 * utf8.h — paths are bytes, JSON strings are UTF-8: what stands between.
 */
#ifndef PMAPSTORM_COMMON_UTF8_H
#define PMAPSTORM_COMMON_UTF8_H

#include <jansson.h>

/* s with every byte that does not begin or continue a valid UTF-8 sequence
 * replaced by U+FFFD: a new string (free it), or NULL when out of memory */
char *utf8_lossy(const char *s);
/* UTF-8 for JSON: s with every byte that does not begin or continue a valid
 * UTF-8 sequence replaced by U+FFFD (paths are bytes; JSON strings are not)
 * => a new JSON string, or NULL only when out of memory */
json_t *utf8_json_string(const char *s);
/* cut s (NUL-terminated) back to the last complete UTF-8 character, so that
 * a string cut at a byte count does not end mid-character */
void utf8_cut(char *s);

#endif
