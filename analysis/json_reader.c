#include "analysis/json_reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A node per value, in document order. A container's `end` is the index just
 * past its last descendant, so siblings are reached by jumping; an object's
 * children alternate key (a string node), value.
 */
struct json_node {
	uint8_t type;
	uint32_t end;   /* containers: first node after the subtree */
	uint32_t count; /* containers: elements, or members of an object */
	uint32_t text;  /* strings and numbers: offset into doc->text */
	uint32_t kids;  /* containers: where their children's indexes start in doc->kids */
};

struct json_doc {
	struct json_node *nodes;
	uint32_t n, cap;
	/* every container's children (an object's: its keys) as node indexes,
	 * so element i is found at once, not by walking i siblings */
	uint32_t *kids;
	char *text; /* decoded strings and number spellings, each NUL-terminated */
	size_t tlen, tcap;
};

struct parser {
	const unsigned char *p, *start, *end;
	struct json_doc *d;
	char *err;
	size_t errlen;
	int rc;
};

static int fail(struct parser *ps, const char *what)
{
	if (!ps->rc) {
		snprintf(ps->err, ps->errlen, "invalid JSON at byte %zu: %s",
			 (size_t)(ps->p - ps->start), what);
		ps->rc = -EINVAL;
	}
	return ps->rc;
}

static int oom(struct parser *ps)
{
	if (!ps->rc) {
		snprintf(ps->err, ps->errlen, "out of memory reading JSON");
		ps->rc = -ENOMEM;
	}
	return ps->rc;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int new_node(struct parser *ps, uint8_t type)
{
	struct json_doc *d = ps->d;

	if (d->n == d->cap) {
		uint32_t cap = d->cap ? d->cap * 2 : 64;
		struct json_node *nodes = realloc(d->nodes, cap * sizeof(*nodes));

		if (!nodes)
			return oom(ps);
		d->nodes = nodes;
		d->cap = cap;
	}
	memset(&d->nodes[d->n], 0, sizeof(d->nodes[0]));
	d->nodes[d->n].type = type;
	return (int)d->n++;
}

static int put_bytes(struct parser *ps, const void *bytes, size_t len)
{
	struct json_doc *d = ps->d;

	if (!len)
		return 0;
	if (d->tlen + len > d->tcap) {
		size_t cap = d->tcap ? d->tcap : 256;
		char *text;

		while (cap < d->tlen + len)
			cap *= 2;
		text = realloc(d->text, cap);
		if (!text)
			return oom(ps);
		d->text = text;
		d->tcap = cap;
	}
	memcpy(d->text + d->tlen, bytes, len);
	d->tlen += len;
	return 0;
}

static int put_utf8(struct parser *ps, uint32_t cp)
{
	unsigned char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | cp >> 18);
		b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return put_bytes(ps, b, n);
}

static int hex4(struct parser *ps, uint32_t *out)
{
	*out = 0;
	if (ps->end - ps->p < 4)
		return fail(ps, "\\u needs four hex digits");
	for (int i = 0; i < 4; i++) {
		unsigned char c = *ps->p++;
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (v < 0)
			return fail(ps, "\\u needs four hex digits");
		*out = *out << 4 | (uint32_t)v;
	}
	return 0;
}

/* After the backslash: one escape, decoded. */
static int escape(struct parser *ps)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;
	uint32_t cp, lo;

	if (ps->p == ps->end)
		return fail(ps, "string ends in an escape");
	if (*ps->p != 'u') {
		hit = memchr(from, *ps->p, sizeof(from) - 1);
		if (!hit)
			return fail(ps, "unknown escape");
		ps->p++;
		return put_bytes(ps, &to[hit - from], 1);
	}
	ps->p++;
	if (hex4(ps, &cp))
		return ps->rc;
	if (cp >= 0xd800 && cp <= 0xdbff && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
	    ps->p[1] == 'u') {
		const unsigned char *back = ps->p;

		ps->p += 2;
		if (hex4(ps, &lo))
			return ps->rc;
		if (lo >= 0xdc00 && lo <= 0xdfff)
			return put_utf8(ps, 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00));
		ps->p = back; /* not a pair: the next escape stands alone */
	}
	return put_utf8(ps, cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp);
}

static int string(struct parser *ps)
{
	int node = new_node(ps, JSON_STRING);

	if (node < 0)
		return node;
	ps->d->nodes[node].text = (uint32_t)ps->d->tlen;
	ps->p++; /* the opening quote */
	while (ps->p < ps->end && *ps->p != '"') {
		const unsigned char *run = ps->p;

		while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' && *ps->p >= 0x20)
			ps->p++;
		if (put_bytes(ps, run, (size_t)(ps->p - run)))
			return ps->rc;
		if (ps->p < ps->end && *ps->p < 0x20)
			return fail(ps, "control character in a string");
		if (ps->p < ps->end && *ps->p == '\\') {
			ps->p++;
			if (escape(ps))
				return ps->rc;
		}
	}
	if (ps->p == ps->end)
		return fail(ps, "unterminated string");
	ps->p++;
	return put_bytes(ps, "", 1);
}

static bool digit(const struct parser *ps)
{
	return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9';
}

static int number(struct parser *ps)
{
	const unsigned char *from = ps->p;
	int node;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (!digit(ps))
		return fail(ps, "expected a value");
	if (*ps->p == '0')
		ps->p++;
	else
		while (digit(ps))
			ps->p++;
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		if (!digit(ps))
			return fail(ps, "digits expected after '.'");
		while (digit(ps))
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (!digit(ps))
			return fail(ps, "digits expected in the exponent");
		while (digit(ps))
			ps->p++;
	}
	node = new_node(ps, JSON_NUMBER);
	if (node < 0)
		return node;
	ps->d->nodes[node].text = (uint32_t)ps->d->tlen;
	if (put_bytes(ps, from, (size_t)(ps->p - from)))
		return ps->rc;
	return put_bytes(ps, "", 1);
}

static int literal(struct parser *ps, const char *word, uint8_t type)
{
	size_t len = strlen(word);

	if ((size_t)(ps->end - ps->p) < len || memcmp(ps->p, word, len))
		return fail(ps, "expected a value");
	ps->p += len;
	return new_node(ps, type) < 0 ? ps->rc : 0;
}

static int value(struct parser *ps, int depth);

/* An array or object from its opening bracket. */
static int container(struct parser *ps, int depth)
{
	bool object = *ps->p == '{';
	char close = object ? '}' : ']';
	int node = new_node(ps, object ? JSON_OBJECT : JSON_ARRAY);
	uint32_t count = 0;

	if (node < 0)
		return node;
	if (depth >= JSON_MAX_DEPTH)
		return fail(ps, "nested too deep");
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
	} else {
		for (;;) {
			skip_ws(ps);
			if (object) {
				if (ps->p == ps->end || *ps->p != '"')
					return fail(ps, "expected a member name");
				if (string(ps))
					return ps->rc;
				skip_ws(ps);
				if (ps->p == ps->end || *ps->p != ':')
					return fail(ps, "expected ':'");
				ps->p++;
			}
			if (value(ps, depth + 1))
				return ps->rc;
			count++;
			skip_ws(ps);
			if (ps->p < ps->end && *ps->p == ',') {
				ps->p++;
				continue;
			}
			if (ps->p < ps->end && *ps->p == close) {
				ps->p++;
				break;
			}
			return fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
		}
	}
	ps->d->nodes[node].count = count;
	ps->d->nodes[node].end = ps->d->n;
	return 0;
}

static int value(struct parser *ps, int depth)
{
	skip_ws(ps);
	if (ps->p == ps->end)
		return fail(ps, "expected a value");
	switch (*ps->p) {
	case '{':
	case '[':
		return container(ps, depth);
	case '"':
		return string(ps);
	case 't':
		return literal(ps, "true", JSON_TRUE);
	case 'f':
		return literal(ps, "false", JSON_FALSE);
	case 'n':
		return literal(ps, "null", JSON_NULL);
	default:
		return number(ps);
	}
}

/* The node after `node` and its subtree. */
static uint32_t next_sibling(const struct json_doc *d, uint32_t node)
{
	const struct json_node *n = &d->nodes[node];

	return n->type == JSON_ARRAY || n->type == JSON_OBJECT ? n->end : node + 1;
}

/* Fills doc->kids: each node but the root is one container's child (or key),
 * so the table has n - 1 entries, and walking each container's children once
 * is linear in the document. */
static void index_children(struct parser *ps)
{
	struct json_doc *d = ps->d;
	uint32_t used = 0;

	d->kids = malloc(((size_t)d->n + 1) * sizeof(*d->kids));
	if (!d->kids) {
		oom(ps);
		return;
	}
	for (uint32_t c = 0; c < d->n; c++) {
		struct json_node *n = &d->nodes[c];
		bool object = n->type == JSON_OBJECT;
		uint32_t k = c + 1;

		if (n->type != JSON_ARRAY && !object)
			continue;
		n->kids = used;
		for (uint32_t i = 0; i < n->count; i++) {
			d->kids[used++] = k;
			k = next_sibling(d, object ? k + 1 : k);
		}
	}
}

int json_doc__parse(const char *text, size_t len, struct json_doc **out, char *err,
		    size_t errlen)
{
	struct parser ps = { .p = (const unsigned char *)text, .start = (const unsigned char *)text,
			     .end = (const unsigned char *)text + len, .err = err, .errlen = errlen };

	*out = NULL;
	if (len > JSON_MAX_BYTES) {
		snprintf(err, errlen, "JSON document over %d bytes", JSON_MAX_BYTES);
		return -EFBIG;
	}
	ps.d = calloc(1, sizeof(*ps.d));
	if (!ps.d)
		return oom(&ps);
	if (!value(&ps, 0)) {
		skip_ws(&ps);
		if (ps.p != ps.end)
			fail(&ps, "more after the document");
	}
	if (!ps.rc)
		index_children(&ps);
	if (ps.rc) {
		json_doc__free(ps.d);
		return ps.rc;
	}
	*out = ps.d;
	return 0;
}

int json_doc__load(const char *path, struct json_doc **out, char *err, size_t errlen)
{
	char *buf = NULL, inner[256];
	size_t len;
	FILE *f;
	int rc;

	*out = NULL;
	f = fopen(path, "rb");
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	/* grown as the file is read, not JSON_MAX_BYTES at once: `series` loads a
	 * file per run, most of them a few KiB */
	len = 0;
	for (size_t cap = 0; !feof(f) && !ferror(f) && len <= (size_t)JSON_MAX_BYTES;) {
		if (len == cap) {
			char *more;

			cap = cap ? cap * 2 : 64 << 10;
			if (cap > (size_t)JSON_MAX_BYTES + 1)
				cap = (size_t)JSON_MAX_BYTES + 1;
			more = realloc(buf, cap);
			if (!more) {
				free(buf);
				fclose(f);
				snprintf(err, errlen, "%s: out of memory", path);
				return -ENOMEM;
			}
			buf = more;
		}
		len += fread(buf + len, 1, cap - len, f);
	}
	rc = ferror(f) ? -EIO : 0;
	fclose(f);
	if (rc) {
		snprintf(err, errlen, "%s: read error", path);
	} else if (len > JSON_MAX_BYTES) {
		snprintf(err, errlen, "%s: over %d bytes, not a migscope JSON", path, JSON_MAX_BYTES);
		rc = -EFBIG;
	} else if ((rc = json_doc__parse(buf, len, out, inner, sizeof(inner)))) {
		snprintf(err, errlen, "%s: %s", path, inner);
	}
	free(buf);
	return rc;
}

void json_doc__free(struct json_doc *d)
{
	if (!d)
		return;
	free(d->nodes);
	free(d->kids);
	free(d->text);
	free(d);
}

static const struct json_node *node_of(const struct json_doc *d, int node)
{
	return d && node >= 0 && (uint32_t)node < d->n ? &d->nodes[node] : NULL;
}

enum json_type json_doc__type(const struct json_doc *d, int node)
{
	const struct json_node *n = node_of(d, node);

	return n ? (enum json_type)n->type : JSON_NULL;
}

int json_doc__len(const struct json_doc *d, int node)
{
	const struct json_node *n = node_of(d, node);

	return n && (n->type == JSON_ARRAY || n->type == JSON_OBJECT) ? (int)n->count : 0;
}

const char *json_doc__key_at(const struct json_doc *d, int node, int i, int *value)
{
	const struct json_node *n = node_of(d, node);
	uint32_t k;

	*value = -1;
	if (!n || n->type != JSON_OBJECT || i < 0 || (uint32_t)i >= n->count)
		return NULL;
	k = d->kids[n->kids + (uint32_t)i];
	*value = (int)k + 1;
	return d->text + d->nodes[k].text;
}

int json_doc__get(const struct json_doc *d, int node, const char *key)
{
	const struct json_node *n = node_of(d, node);

	if (!n || n->type != JSON_OBJECT)
		return -1;
	for (uint32_t i = 0; i < n->count; i++) {
		uint32_t k = d->kids[n->kids + i];

		if (!strcmp(d->text + d->nodes[k].text, key))
			return (int)k + 1;
	}
	return -1;
}

int json_doc__at(const struct json_doc *d, int node, int i)
{
	const struct json_node *n = node_of(d, node);

	if (!n || n->type != JSON_ARRAY || i < 0 || (uint32_t)i >= n->count)
		return -1;
	return (int)d->kids[n->kids + (uint32_t)i];
}

int json_doc__path(const struct json_doc *d, int node, const char *path)
{
	char key[128];

	while (node >= 0 && *path) {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(key))
			return -1;
		memcpy(key, path, n);
		key[n] = '\0';
		node = json_doc__get(d, node, key);
		path += n + (path[n] == '.');
	}
	return node;
}

const char *json_doc__str(const struct json_doc *d, int node)
{
	const struct json_node *n = node_of(d, node);

	return n && n->type == JSON_STRING ? d->text + n->text : NULL;
}

bool json_doc__fixed(const struct json_doc *d, int node, int decimals, int64_t *out)
{
	const struct json_node *n = node_of(d, node);
	const char *s, *e;
	bool neg, in_frac = false;
	long exp = 0, keep, kept = 0;
	int64_t v = 0;

	if (!n || n->type != JSON_NUMBER)
		return false;
	s = d->text + n->text;
	neg = *s == '-';
	s += neg;
	e = strpbrk(s, "eE");
	if (e)
		exp = strtol(e + 1, NULL, 10);
	if (exp < -400 || exp > 400)
		return false;
	/* value = digits x 10^(exp - fraction digits): of the fraction digits,
	 * `keep` survive the scaling; then shift what is left */
	keep = decimals + exp;
	for (; *s && s != e; s++) {
		if (*s == '.') {
			in_frac = true;
			continue;
		}
		if (in_frac && kept >= keep)
			break;
		kept += in_frac;
		if (v > (INT64_MAX - (*s - '0')) / 10)
			return false;
		v = v * 10 + (*s - '0');
	}
	for (long k = kept; k < keep; k++) {
		if (v > INT64_MAX / 10)
			return false;
		v *= 10;
	}
	for (long k = keep; k < 0 && v; k++)
		v /= 10;
	*out = neg ? -v : v;
	return true;
}
