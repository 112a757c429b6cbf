#include "capture/ring.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct ring_file {
	char *path;
	uint64_t bytes;
	int64_t start_ns, end_ns;
};

struct kept_dir {
	char *path;
	uint64_t bytes;
	int files;
};

struct episode {
	int64_t first_ns, last_ns;
	int kept;           /* index in kept[], -1: not kept (over the bound) */
};

struct ring {
	struct ring_opts o;
	char *dir, *stem, *ext, *keep_dir;
	char *cur;                 /* the file being written */
	unsigned long long seq;    /* its number */
	struct ring_file *files;   /* closed ring files, oldest first */
	int nfiles, capfiles;
	struct kept_dir *kept;     /* kept directories, oldest first */
	int nkept, capkept;
	struct episode ep;         /* the latest migration; first_ns 0: none yet */
	uint64_t deleted_files, deleted_kept_dirs;
	bool over_bound_said;
};

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static int set_cur(struct ring *r)
{
	free(r->cur);
	if (asprintf(&r->cur, "%s/%s.%06llu%s", r->dir, r->stem, r->seq, r->ext) < 0) {
		r->cur = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* NAME is STEM.<digits>EXT: its number into *seq */
static bool ring_name(const struct ring *r, const char *name, unsigned long long *seq)
{
	size_t ls = strlen(r->stem), le = strlen(r->ext), ln = strlen(name);
	char *end;

	if (ln <= ls + 1 + le || strncmp(name, r->stem, ls) || name[ls] != '.' ||
	    strcmp(name + ln - le, r->ext) || name[ls + 1] < '0' || name[ls + 1] > '9')
		return false;
	*seq = strtoull(name + ls + 1, &end, 10);
	return end == name + ln - le;
}

static int by_name(const void *a, const void *b)
{
	const struct ring_file *x = a, *y = b;

	return strverscmp(x->path, y->path);
}

/* arr (capacity *cap, n used) with room for one more element of `size`:
 * itself, or grown; NULL when it could not grow (arr is then untouched). */
static void *room_for_one(void *arr, int *cap, int n, size_t size)
{
	int ncap = *cap ? 2 * *cap : 8;
	void *g;

	if (n < *cap)
		return arr;
	g = realloc(arr, (size_t)ncap * size);
	if (g)
		*cap = ncap;
	return g;
}

static int push_file(struct ring *r, const struct ring_file *f)
{
	struct ring_file *g = room_for_one(r->files, &r->capfiles, r->nfiles, sizeof(*g));

	if (!g)
		return -ENOMEM;
	r->files = g;
	r->files[r->nfiles++] = *f;
	return 0;
}

static int push_kept(struct ring *r, const struct kept_dir *k)
{
	struct kept_dir *g = room_for_one(r->kept, &r->capkept, r->nkept, sizeof(*g));

	if (!g)
		return -ENOMEM;
	r->kept = g;
	r->kept[r->nkept++] = *k;
	return 0;
}

/* A restarted agent: the ring files already there count against -W. */
static int scan_ring(struct ring *r)
{
	DIR *d = opendir(r->dir);
	struct dirent *de;
	struct stat st;
	unsigned long long seq;
	int rc = 0;

	if (!d)
		return -errno;
	while (!rc && (de = readdir(d))) {
		struct ring_file f = { 0 };

		if (!ring_name(r, de->d_name, &seq))
			continue;
		if (asprintf(&f.path, "%s/%s", r->dir, de->d_name) < 0) {
			rc = -ENOMEM;
			break;
		}
		if (stat(f.path, &st) || !S_ISREG(st.st_mode)) {
			free(f.path);
			continue;
		}
		f.bytes = (uint64_t)st.st_size;
		f.start_ns = f.end_ns = mtime_ns(&st);
		if (seq >= r->seq)
			r->seq = seq + 1;
		rc = push_file(r, &f);
		if (rc)
			free(f.path);
	}
	closedir(d);
	if (!rc && r->nfiles)
		qsort(r->files, (size_t)r->nfiles, sizeof(*r->files), by_name);
	return rc;
}

static int dir_size(const char *path, uint64_t *bytes, int *files)
{
	DIR *d = opendir(path);
	struct dirent *de;
	struct stat st;
	char *p;

	*bytes = 0;
	*files = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || asprintf(&p, "%s/%s", path, de->d_name) < 0)
			continue;
		if (!stat(p, &st) && S_ISREG(st.st_mode)) {
			*bytes += (uint64_t)st.st_size;
			(*files)++;
		}
		free(p);
	}
	closedir(d);
	return 0;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct kept_dir *)a)->path, ((const struct kept_dir *)b)->path);
}

/* Kept directories of earlier runs count against the bound. */
static int scan_kept(struct ring *r)
{
	DIR *d = opendir(r->keep_dir);
	size_t ls = strlen(r->stem);
	struct dirent *de;
	struct stat st;
	int rc = 0;

	if (!d)
		return -errno;
	while (!rc && (de = readdir(d))) {
		struct kept_dir k = { 0 };

		if (strncmp(de->d_name, r->stem, ls) || de->d_name[ls] != '-')
			continue;
		if (asprintf(&k.path, "%s/%s", r->keep_dir, de->d_name) < 0) {
			rc = -ENOMEM;
			break;
		}
		if (stat(k.path, &st) || !S_ISDIR(st.st_mode) || dir_size(k.path, &k.bytes, &k.files)) {
			free(k.path);
			continue;
		}
		rc = push_kept(r, &k);
		if (rc)
			free(k.path);
	}
	closedir(d);
	if (!rc && r->nkept)
		qsort(r->kept, (size_t)r->nkept, sizeof(*r->kept), by_path);
	return rc;
}

static int split_path(struct ring *r, const char *path)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path, *dot;

	dot = strchr(base, '.');
	r->dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
	r->stem = dot ? strndup(base, (size_t)(dot - base)) : strdup(base);
	r->ext = strdup(dot ? dot : ".pcapng");
	if (!r->dir || !r->stem || !r->ext)
		return -ENOMEM;
	return r->stem[0] ? 0 : -EINVAL;
}

struct ring *ring__open(const struct ring_opts *o, char *err, size_t errlen)
{
	struct ring *r = calloc(1, sizeof(*r));
	int rc;

	if (!r) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	r->o = *o;
	rc = split_path(r, o->path);
	if (rc) {
		snprintf(err, errlen, "%s: %s", o->path,
			 rc == -EINVAL ? "no file name to number" : strerror(-rc));
		goto fail;
	}
	if (o->keep_dir)
		r->keep_dir = strdup(o->keep_dir);
	else if (asprintf(&r->keep_dir, "%s/migrations", r->dir) < 0)
		r->keep_dir = NULL;
	if (!r->keep_dir) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (mkdir(r->keep_dir, 0700) && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", r->keep_dir, strerror(-rc));
		goto fail;
	}
	rc = scan_ring(r);
	if (rc) {
		snprintf(err, errlen, "%s: %s", r->dir, strerror(-rc));
		goto fail;
	}
	rc = scan_kept(r);
	if (!rc)
		rc = set_cur(r);
	if (rc) {
		snprintf(err, errlen, "%s: %s", r->keep_dir, strerror(-rc));
		goto fail;
	}
	return r;
fail:
	ring__close(r);
	errno = -rc;
	return NULL;
}

const char *ring__path(const struct ring *r)
{
	return r->cur;
}

bool ring__due(const struct ring *r, int64_t start_ns, int64_t now_ns, uint64_t bytes)
{
	return (r->o.file_bytes && bytes >= r->o.file_bytes) ||
	       (r->o.file_ns && now_ns - start_ns >= r->o.file_ns);
}

static bool meets_episode(const struct ring *r, int64_t start_ns, int64_t end_ns)
{
	return r->ep.first_ns && r->ep.kept >= 0 && start_ns <= r->ep.last_ns + r->o.margin_ns &&
	       end_ns >= r->ep.first_ns - r->o.margin_ns;
}

static uint64_t kept_total(const struct ring *r)
{
	uint64_t t = 0;

	for (int i = 0; i < r->nkept; i++)
		t += r->kept[i].bytes;
	return t;
}

static int remove_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char *p;
	int rc = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (asprintf(&p, "%s/%s", path, de->d_name) < 0) {
			rc = -ENOMEM;
			break;
		}
		if (unlink(p) && !rc)
			rc = -errno;
		free(p);
	}
	closedir(d);
	if (!rc && rmdir(path))
		rc = -errno;
	return rc;
}

/*
 * Room for `bytes` more in the kept directories: the oldest ones other than
 * the current migration's go. False when even then it would not fit.
 */
static bool make_room(struct ring *r, uint64_t bytes, char *err, size_t errlen)
{
	while (kept_total(r) + bytes > r->o.keep_bytes) {
		int victim = r->nkept && r->ep.kept != 0 ? 0 : (r->nkept > 1 ? 1 : -1);
		int rc;

		if (victim < 0)
			return false;
		rc = remove_dir(r->kept[victim].path);
		if (rc)
			snprintf(err, errlen, "%s: %s", r->kept[victim].path, strerror(-rc));
		free(r->kept[victim].path);
		memmove(&r->kept[victim], &r->kept[victim + 1],
			(size_t)(r->nkept - victim - 1) * sizeof(*r->kept));
		r->nkept--;
		if (r->ep.kept > victim)
			r->ep.kept--;
		r->deleted_kept_dirs++;
	}
	return true;
}

/* Moves a closed file into the current migration's directory: 0, or -errno
 * (the file is then still where it was). */
static int keep_file(struct ring *r, const char *path, uint64_t bytes, char *err, size_t errlen)
{
	struct kept_dir *k;
	const char *base = strrchr(path, '/');
	char *to;
	int rc = 0;

	if (!make_room(r, bytes, err, errlen)) {
		if (!r->over_bound_said)
			snprintf(err, errlen, "a migration outgrew the kept directories' bound "
				 "(--keep-max %llu bytes): its later files rotate with the ring",
				 (unsigned long long)r->o.keep_bytes);
		r->over_bound_said = true;
		r->ep.kept = -1;
		return -ENOSPC;
	}
	k = &r->kept[r->ep.kept];
	if (asprintf(&to, "%s/%s", k->path, base ? base + 1 : path) < 0)
		return -ENOMEM;
	if (rename(path, to)) {
		rc = -errno;
		snprintf(err, errlen, "%s -> %s: %s", path, to, strerror(-rc));
	} else {
		k->bytes += bytes;
		k->files++;
	}
	free(to);
	return rc;
}

static void delete_oldest(struct ring *r)
{
	unlink(r->files[0].path);
	free(r->files[0].path);
	memmove(&r->files[0], &r->files[1], (size_t)(r->nfiles - 1) * sizeof(*r->files));
	r->nfiles--;
	r->deleted_files++;
}

int ring__closed(struct ring *r, int64_t start_ns, int64_t end_ns, uint64_t bytes, char *err,
		 size_t errlen)
{
	struct ring_file f = { .path = r->cur, .bytes = bytes, .start_ns = start_ns,
			       .end_ns = end_ns };
	bool keep = meets_episode(r, start_ns, end_ns);
	int rc = 0, keep_rc = 0;

	r->cur = NULL;
	if (keep)
		keep_rc = keep_file(r, f.path, bytes, err, errlen);
	if (keep && !keep_rc) {
		free(f.path);
	} else {
		/* the ring holds -W files with the one being written: room for it */
		while (r->nfiles >= r->o.files - 1 && r->nfiles > 0)
			delete_oldest(r);
		rc = push_file(r, &f);
		if (rc)
			free(f.path);
	}
	r->seq++;
	/* the next file's name, whatever happened to this one's */
	if (set_cur(r))
		rc = -ENOMEM;
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return rc ? rc : keep_rc;
}

static int new_episode(struct ring *r, int64_t now_ns, char *err, size_t errlen)
{
	struct kept_dir k = { 0 };
	time_t sec = (time_t)(now_ns / 1000000000);
	char stamp[32];
	struct tm tm;
	int rc;

	r->ep = (struct episode){ .first_ns = now_ns, .last_ns = now_ns, .kept = -1 };
	r->over_bound_said = false;
	gmtime_r(&sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (int n = 1; n < 100; n++) {
		free(k.path);
		if ((n == 1 ? asprintf(&k.path, "%s/%s-%s", r->keep_dir, r->stem, stamp)
			    : asprintf(&k.path, "%s/%s-%s-%d", r->keep_dir, r->stem, stamp, n)) < 0) {
			k.path = NULL;
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		if (!mkdir(k.path, 0700))
			break;
		rc = -errno;
		if (rc != -EEXIST) {
			snprintf(err, errlen, "%s: %s", k.path, strerror(-rc));
			free(k.path);
			return rc;
		}
	}
	rc = push_kept(r, &k);
	if (rc) {
		free(k.path);
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	r->ep.kept = r->nkept - 1;
	/* the files of the margin before it, oldest first */
	for (int i = 0; i < r->nfiles;) {
		if (r->files[i].end_ns < now_ns - r->o.margin_ns) {
			i++;
			continue;
		}
		rc = keep_file(r, r->files[i].path, r->files[i].bytes, err, errlen);
		if (rc)
			return rc;
		free(r->files[i].path);
		memmove(&r->files[i], &r->files[i + 1], (size_t)(r->nfiles - i - 1) * sizeof(*r->files));
		r->nfiles--;
	}
	return 0;
}

int ring__stream(struct ring *r, int64_t now_ns, char *err, size_t errlen)
{
	int rc;

	if (r->ep.first_ns && now_ns <= r->ep.last_ns + r->o.margin_ns) {
		if (now_ns > r->ep.last_ns)
			r->ep.last_ns = now_ns;
		return 0;
	}
	rc = new_episode(r, now_ns, err, errlen);
	return rc ? rc : 1;
}

const char *ring__keep_path(const struct ring *r)
{
	return r->ep.first_ns && r->ep.kept >= 0 ? r->kept[r->ep.kept].path : NULL;
}

bool ring__window(const struct ring *r, int64_t *from_ns, int64_t *to_ns)
{
	if (!ring__keep_path(r))
		return false;
	*from_ns = r->ep.first_ns - r->o.margin_ns;
	*to_ns = r->ep.last_ns + r->o.margin_ns;
	return true;
}

void ring__stats(const struct ring *r, struct ring_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->ring_files = r->nfiles;
	for (int i = 0; i < r->nfiles; i++)
		out->ring_bytes += r->files[i].bytes;
	out->kept_dirs = r->nkept;
	for (int i = 0; i < r->nkept; i++) {
		out->kept_files += r->kept[i].files;
		out->kept_bytes += r->kept[i].bytes;
	}
	out->deleted_files = r->deleted_files;
	out->deleted_kept_dirs = r->deleted_kept_dirs;
}

bool ring__keeping(const struct ring *r, int64_t now_ns)
{
	int64_t from, to;

	return ring__window(r, &from, &to) && now_ns <= to;
}

void ring__close(struct ring *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->nfiles; i++)
		free(r->files[i].path);
	for (int i = 0; i < r->nkept; i++)
		free(r->kept[i].path);
	free(r->files);
	free(r->kept);
	free(r->cur);
	free(r->dir);
	free(r->stem);
	free(r->ext);
	free(r->keep_dir);
	free(r);
}
