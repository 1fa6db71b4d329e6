/*
 * Text helpers shared by every stage (text.c). ISO-8601 formatting of times is declared in the
 * public whyflag/windows.h (wf_time_format_iso) and implemented here.
 */
#ifndef WF_CORE_TEXT_H
#define WF_CORE_TEXT_H

#include <stddef.h>

/* 1 when the n bytes are well-formed UTF-8 (no overlong 2-byte forms). */
int wf_utf8_valid(const char *s, size_t n);

/* Levenshtein distance of a and b, or cap + 1 once it exceeds cap (and for strings over 128
 * bytes): for "did you mean" suggestions. */
int wf_edit_distance(const char *a, const char *b, int cap);

/* The CSV cells' injection rule (OWASP), one place for the writers and the scores.csv reader: a
 * cell whose text starts with = + - @ or a control byte is written after a leading ', and every
 * control byte (below 0x20, and 0x7F) is written as '?'. */
int wf_csv_needs_lead(const char *s);
static inline int wf_csv_byte(unsigned char c) {
    return c < 0x20 || c == 0x7F ? '?' : (int)c;
}

#endif
