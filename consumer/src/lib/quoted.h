/*
 * quoted.h: the end of a quoted text with backslash escapes, for the
 * scans that must step over strings to find what lies outside them (the
 * nesting depth of a JSON text, lib/jsondoc.c; libbson's cut-level token,
 * source/mongodb/mongo_json.c; a Lua expression's names,
 * lineage/lineage_lua.c; a conninfo's quoted value in the log's redaction,
 * lib/log.c).
 *
 * Design.  One rule, written once: after the opening quote, a backslash
 * takes the next character with it (unless the text ends there), and the
 * first other occurrence of the opening character closes.  Nothing is
 * decoded or validated; the caller knows what the quote opens.  A text
 * that ends before the quote closes gives its terminating NUL, so a
 * caller's loop stops there.
 */
#ifndef TRIB_QUOTED_H
#define TRIB_QUOTED_H

/* open points at the opening quote (any character: '"', '\''); the
 * closing one (the same character, not escaped by a backslash), or the
 * NUL that ends the text when it does not close. */
const char *trib_quoted_end(const char *open);

#endif							/* TRIB_QUOTED_H */
