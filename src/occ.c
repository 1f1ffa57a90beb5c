/* Occurrence values and lists. */
#include <stdlib.h>
#include <string.h>

#include "djcal/occ.h"
#include "djcal/xmalloc.h"

void
occ_clear(struct dj_occurrence *o)
{
	free(o->uid);
	free(o->feed);
	free(o->branch);
	free(o->summary);
	free(o->location);
	free(o->description);
	free(o->status);
	free(o->alarms);
	memset(o, 0, sizeof *o);
}

void
occ_copy(struct dj_occurrence *dst, const struct dj_occurrence *src)
{
	*dst = *src;
	dst->uid = xstrdup0(src->uid);
	dst->feed = xstrdup0(src->feed);
	dst->branch = xstrdup0(src->branch);
	dst->summary = xstrdup0(src->summary);
	dst->location = xstrdup0(src->location);
	dst->description = xstrdup0(src->description);
	dst->status = xstrdup0(src->status);
	dst->alarms = xstrdup0(src->alarms);
}

static struct dj_occurrence *
occ_list_slot(struct dj_occ_list *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 32 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	return &l->v[l->n++];
}

void
occ_list_push(struct dj_occ_list *l, const struct dj_occurrence *o)
{
	occ_copy(occ_list_slot(l), o);
}

void
occ_list_take(struct dj_occ_list *l, struct dj_occurrence *o)
{
	*occ_list_slot(l) = *o;
	memset(o, 0, sizeof *o);
}

void
occ_list_free(struct dj_occ_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		occ_clear(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

static int
strcmp0(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "");
}

static int
occ_cmp(const void *a, const void *b)
{
	const struct dj_occurrence *x = a, *y = b;
	int c;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if ((c = strcmp0(x->feed, y->feed)) != 0)
		return c;
	if ((c = strcmp0(x->uid, y->uid)) != 0)
		return c;
	if (x->rid != y->rid)
		return x->rid < y->rid ? -1 : 1;
	return 0;
}

void
occ_list_sort(struct dj_occ_list *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, occ_cmp);
}

void
occ_list_truncate(struct dj_occ_list *l, size_t n)
{
	while (l->n > n)
		occ_clear(&l->v[--l->n]);
}
