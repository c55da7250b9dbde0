/*
 * checksum — Flyway's checksum (spec §1): CRC-32 (zlib) over the UTF-8 text
 * with every line terminator removed, so CRLF, LF and missing final
 * newlines all hash alike. Also the strict UTF-8 check Java's decoder
 * applies, and Java's String.hashCode used by Flyway's lock keys.
 */
#include <string.h>
#include <zlib.h>

#include "engine/internal.h"

uint32_t ck_update(uint32_t crc, const char *p, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\n' && p[i] != '\r')
			continue;
		if (i > start)
			crc = (uint32_t)crc32(crc, (const Bytef *)p + start, (uInt)(i - start));
		start = i + 1;
	}
	if (n > start)
		crc = (uint32_t)crc32(crc, (const Bytef *)p + start, (uInt)(n - start));
	return crc;
}

/* Length of the sequence starting with lead byte c, and the allowed range
 * of its second byte (the rest are always 80..BF). 0: not a lead byte. */
static size_t utf8_lead(unsigned char c, unsigned char *lo, unsigned char *hi)
{
	*lo = 0x80, *hi = 0xBF;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return 2;
	if (c == 0xE0)
		return *lo = 0xA0, 3;
	if (c == 0xED)
		return *hi = 0x9F, 3; /* no surrogates */
	if (c >= 0xE1 && c <= 0xEF)
		return 3;
	if (c == 0xF0)
		return *lo = 0x90, 4;
	if (c == 0xF4)
		return *hi = 0x8F, 4;
	if (c >= 0xF1 && c <= 0xF3)
		return 4;
	return 0;
}

size_t utf8_valid_prefix(const unsigned char *p, size_t n, bool *incomplete)
{
	size_t i = 0;
	*incomplete = false;
	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		unsigned char lo, hi;
		size_t len = utf8_lead(p[i], &lo, &hi);
		if (!len)
			return i;
		for (size_t k = 1; k < len; k++) {
			if (i + k >= n) {
				*incomplete = true;
				return i;
			}
			unsigned char c = p[i + k];
			if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF))
				return i;
		}
		i += len;
	}
	return i;
}

int32_t java_string_hash(const char *s)
{
	uint32_t h = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		uint32_t cp;
		size_t len = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 1;
		cp = len == 1 ? *p : (uint32_t)(*p & (0x7F >> len));
		size_t k = 1;
		for (; k < len && p[k]; k++)
			cp = (cp << 6) | (p[k] & 0x3F);
		p += k;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			h = 31 * h + (0xD800 + (cp >> 10));
			h = 31 * h + (0xDC00 + (cp & 0x3FF));
		} else {
			h = 31 * h + cp;
		}
	}
	return (int32_t)h;
}
