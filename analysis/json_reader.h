/*
 * json_reader - reads small JSON documents (RFC 8259) whole into a node
 * array: what the hypervisor recorded beside the captures (QEMU's
 * query-migrate, its QMP events: hypervisor.h), and for `migscope series`
 * migscope's own report JSON and the lab's scenario.json. Not for captures:
 * documents are capped at JSON_MAX_BYTES and JSON_MAX_DEPTH levels of
 * nesting.
 *
 * Nodes are indexes into the document, 0 being the root; lookups return -1
 * when the node is absent or of another type, and accept -1, so a path can be
 * followed without checks in between:
 *   json_doc__str(d, json_doc__get(d, json_doc__get(d, 0, "verdict"), "code"))
 * or json_doc__path(d, 0, "verdict.code").
 *
 * Hostile input: every byte is checked against the grammar; an error names
 * the byte offset. Strings are decoded to UTF-8 (\u escapes and surrogate
 * pairs; a lone surrogate becomes U+FFFD) and kept NUL-terminated; a string
 * holding \u0000 is cut there.
 *
 * Ownership: __parse and __load return a document freed by json_doc__free
 * (NULL-safe); strings returned live as long as the document.
 * Errors: 0 or -errno (-EINVAL for bad JSON, -EFBIG over the cap, -ENOMEM),
 * with one line in err.
 */
#ifndef MIGSCOPE_JSON_READER_H
#define MIGSCOPE_JSON_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { JSON_MAX_BYTES = 16 << 20, JSON_MAX_DEPTH = 64 };

enum json_type { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY,
		 JSON_OBJECT };

struct json_doc;

int json_doc__parse(const char *text, size_t len, struct json_doc **out, char *err,
		    size_t errlen);
/* Reads the file (at most JSON_MAX_BYTES) and parses it; err names the path. */
int json_doc__load(const char *path, struct json_doc **out, char *err, size_t errlen);
void json_doc__free(struct json_doc *d);

/* JSON_NULL for an absent node (-1) too */
enum json_type json_doc__type(const struct json_doc *d, int node);
/* Members of an object or elements of an array; 0 for anything else. */
int json_doc__len(const struct json_doc *d, int node);
/* The value of key in object `node`, the first when repeated. */
int json_doc__get(const struct json_doc *d, int node, const char *key);
/* Element i of array `node`. */
int json_doc__at(const struct json_doc *d, int node, int i);
/* Follows dot-separated keys: "stream.out_bytes". */
int json_doc__path(const struct json_doc *d, int node, const char *path);
/* Member i of object `node`: its key, and its value through *value. */
const char *json_doc__key_at(const struct json_doc *d, int node, int i, int *value);
/* The decoded string, or NULL when the node is not a string. */
const char *json_doc__str(const struct json_doc *d, int node);
/* A number scaled by 10^decimals, exactly, digits beyond dropped (toward
 * zero): "780836.123" with decimals 3 is 780836123. False when the node is
 * not a number or the result does not fit in int64_t. */
bool json_doc__fixed(const struct json_doc *d, int node, int decimals, int64_t *out);

#endif
