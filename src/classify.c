/* Categories and meeting types: names, built-in and configured aliases. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "djcal/classify.h"
#include "djcal/xmalloc.h"

static const char *const classify_cat_names[DJ_CAT_COUNT] = {
	"study", "party-day", "volunteer", "standardization", "other"
};

static const char *const classify_mt_names[DJ_MT_COUNT] = {
	NULL, "branch-committee", "member-assembly", "group", "lecture",
	"theory-study"
};

struct classify_builtin {
	int		 value;
	const char	*text;
};

/* The built-in keywords (SPEC section 2).  Overlaps such as 支部党员大会 and
 * 党员大会 are fine: the longest match in a summary wins. */
static const struct classify_builtin classify_cat_builtins[] = {
	{ DJ_CAT_STUDY, "学习" },
	{ DJ_CAT_STUDY, "理论学习" },
	{ DJ_CAT_STUDY, "集中学习" },
	{ DJ_CAT_STUDY, "三会一课" },
	{ DJ_CAT_STUDY, "党课" },
	{ DJ_CAT_STUDY, "支部党员大会" },
	{ DJ_CAT_STUDY, "党员大会" },
	{ DJ_CAT_STUDY, "支委会" },
	{ DJ_CAT_STUDY, "支部委员会" },
	{ DJ_CAT_STUDY, "党小组会" },
	{ DJ_CAT_STUDY, "党小组" },
	{ DJ_CAT_STUDY, "study" },
	{ DJ_CAT_STUDY, "theory study" },
	{ DJ_CAT_PARTY_DAY, "主题党日" },
	{ DJ_CAT_PARTY_DAY, "党日" },
	{ DJ_CAT_PARTY_DAY, "党日活动" },
	{ DJ_CAT_PARTY_DAY, "party day" },
	{ DJ_CAT_PARTY_DAY, "party-day" },
	{ DJ_CAT_VOLUNTEER, "志愿服务" },
	{ DJ_CAT_VOLUNTEER, "志愿者" },
	{ DJ_CAT_VOLUNTEER, "志愿" },
	{ DJ_CAT_VOLUNTEER, "结对帮扶" },
	{ DJ_CAT_VOLUNTEER, "帮扶" },
	{ DJ_CAT_VOLUNTEER, "入户宣传" },
	{ DJ_CAT_VOLUNTEER, "社区服务" },
	{ DJ_CAT_VOLUNTEER, "volunteer" },
	{ DJ_CAT_VOLUNTEER, "volunteering" },
	{ DJ_CAT_STANDARDIZATION, "支部标准化规范化建设" },
	{ DJ_CAT_STANDARDIZATION, "标准化规范化" },
	{ DJ_CAT_STANDARDIZATION, "标准化" },
	{ DJ_CAT_STANDARDIZATION, "规范化" },
	{ DJ_CAT_STANDARDIZATION, "八星党支部" },
	{ DJ_CAT_STANDARDIZATION, "八星" },
	{ DJ_CAT_STANDARDIZATION, "standardization" },
};

static const struct classify_builtin classify_mt_builtins[] = {
	{ DJ_MT_BRANCH_COMMITTEE, "支委会" },
	{ DJ_MT_BRANCH_COMMITTEE, "支部委员会" },
	{ DJ_MT_BRANCH_COMMITTEE, "支委会议" },
	{ DJ_MT_MEMBER_ASSEMBLY, "党员大会" },
	{ DJ_MT_MEMBER_ASSEMBLY, "支部党员大会" },
	{ DJ_MT_GROUP, "党小组会" },
	{ DJ_MT_GROUP, "党小组" },
	{ DJ_MT_LECTURE, "党课" },
	{ DJ_MT_LECTURE, "专题党课" },
	{ DJ_MT_THEORY_STUDY, "理论学习" },
	{ DJ_MT_THEORY_STUDY, "集中学习" },
	{ DJ_MT_THEORY_STUDY, "理论学习中心组" },
};

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

struct classify_alias {
	char		*text;		/* ASCII lower-cased */
	size_t		 len;		/* bytes */
	size_t		 nchars;	/* UTF-8 characters: "longest" */
	int		 value;
	int		 in_summary;	/* also a summary keyword */
};

struct classify_table {
	struct classify_alias	*v;
	size_t			 n;
	size_t			 cap;
};

struct classifier {
	struct classify_table	cats;
	struct classify_table	mts;
};

const char *
classify_category_name(enum dj_category c)
{
	if ((int)c < 0 || c >= DJ_CAT_COUNT)
		return "other";
	return classify_cat_names[c];
}

int
classify_category_from_name(const char *name)
{
	int i;

	if (name == NULL)
		return -1;
	for (i = 0; i < DJ_CAT_COUNT; i++)
		if (strcasecmp(name, classify_cat_names[i]) == 0)
			return i;
	return -1;
}

const char *
classify_meeting_name(enum dj_meeting m)
{
	if ((int)m <= DJ_MT_NONE || m >= DJ_MT_COUNT)
		return NULL;
	return classify_mt_names[m];
}

int
classify_meeting_from_name(const char *name)
{
	int i;

	if (name == NULL)
		return -1;
	for (i = DJ_MT_NONE + 1; i < DJ_MT_COUNT; i++)
		if (strcasecmp(name, classify_mt_names[i]) == 0)
			return i;
	return -1;
}

static size_t
classify_utf8_len(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

/* Lower-case ASCII letters in place; UTF-8 multibyte sequences never hold
 * bytes below 0x80, so they pass through untouched. */
static void
classify_lower(char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = s[i] - 'A' + 'a';
}

/* Bounds of s[0..len) without ASCII blanks and U+3000 at either end. */
static void
classify_trim(const char **s, size_t *len)
{
	const unsigned char *p = (const unsigned char *)*s;
	size_t n = *len;

	for (;;) {
		if (n > 0 && (*p == ' ' || *p == '\t' || *p == '\r' ||
		    *p == '\n')) {
			p++;
			n--;
		} else if (n >= 3 && p[0] == 0xe3 && p[1] == 0x80 &&
		    p[2] == 0x80) {
			p += 3;
			n -= 3;
		} else
			break;
	}
	for (;;) {
		if (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' ||
		    p[n - 1] == '\r' || p[n - 1] == '\n'))
			n--;
		else if (n >= 3 && p[n - 3] == 0xe3 && p[n - 2] == 0x80 &&
		    p[n - 1] == 0x80)
			n -= 3;
		else
			break;
	}
	*s = (const char *)p;
	*len = n;
}

static void
classify_table_add(struct classify_table *t, int value, const char *text,
    int in_summary)
{
	struct classify_alias *a;
	const char *s = text;
	size_t i, len = strlen(text);
	char *low;

	classify_trim(&s, &len);
	if (len == 0)
		return;
	low = xstrndup(s, len);
	classify_lower(low, len);

	/* A known text moves to the new value: configuration overrides. */
	for (i = 0; i < t->n; i++) {
		a = &t->v[i];
		if (a->len == len && memcmp(a->text, low, len) == 0) {
			a->value = value;
			a->in_summary |= in_summary;
			free(low);
			return;
		}
	}
	if (t->n == t->cap) {
		t->cap = t->cap == 0 ? 64 : t->cap * 2;
		t->v = xreallocarray(t->v, t->cap, sizeof *t->v);
	}
	a = &t->v[t->n++];
	a->text = low;
	a->len = len;
	a->nchars = classify_utf8_len(low, len);
	a->value = value;
	a->in_summary = in_summary;
}

static void
classify_table_free(struct classify_table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->v[i].text);
	free(t->v);
}

struct classifier *
classifier_new(void)
{
	struct classifier *cls;
	size_t i;

	cls = xcalloc(1, sizeof *cls);
	/* Machine names are for CATEGORIES values only: "other" or "group"
	 * inside a summary is ordinary English, not a classification. */
	for (i = 0; i < DJ_CAT_COUNT; i++)
		classify_table_add(&cls->cats, (int)i, classify_cat_names[i],
		    0);
	for (i = DJ_MT_NONE + 1; i < DJ_MT_COUNT; i++)
		classify_table_add(&cls->mts, (int)i, classify_mt_names[i], 0);
	for (i = 0; i < NITEMS(classify_cat_builtins); i++)
		classify_table_add(&cls->cats, classify_cat_builtins[i].value,
		    classify_cat_builtins[i].text, 1);
	for (i = 0; i < NITEMS(classify_mt_builtins); i++)
		classify_table_add(&cls->mts, classify_mt_builtins[i].value,
		    classify_mt_builtins[i].text, 1);
	return cls;
}

void
classifier_free(struct classifier *cls)
{
	if (cls == NULL)
		return;
	classify_table_free(&cls->cats);
	classify_table_free(&cls->mts);
	free(cls);
}

void
classifier_add_category_alias(struct classifier *cls, enum dj_category c,
    const char *alias)
{
	if (alias == NULL || (int)c < 0 || c >= DJ_CAT_COUNT)
		return;
	classify_table_add(&cls->cats, (int)c, alias, 1);
}

void
classifier_add_meeting_alias(struct classifier *cls, enum dj_meeting m,
    const char *alias)
{
	if (alias == NULL || (int)m <= DJ_MT_NONE || m >= DJ_MT_COUNT)
		return;
	classify_table_add(&cls->mts, (int)m, alias, 1);
}

/* The value of an alias equal to s[0..len) (already trimmed), or -1. */
static int
classify_exact(const struct classify_table *t, const char *s, size_t len)
{
	const struct classify_alias *a;
	size_t i, j;

	for (i = 0; i < t->n; i++) {
		a = &t->v[i];
		if (a->len != len)
			continue;
		for (j = 0; j < len; j++) {
			unsigned char c = (unsigned char)s[j];

			if (c >= 'A' && c <= 'Z')
				c = c - 'A' + 'a';
			if (c != (unsigned char)a->text[j])
				break;
		}
		if (j == len)
			return a->value;
	}
	return -1;
}

/* The value of the first CATEGORIES item equal to an alias, or -1.  Items are
 * separated by ',' or the full-width '，' (U+FF0C). */
static int
classify_by_categories(const struct classify_table *t,
    const char *const *cats, size_t ncats)
{
	const char *p, *item, *end;
	size_t i, len, seplen;
	int v;

	if (cats == NULL)
		return -1;
	for (i = 0; i < ncats; i++) {
		if ((p = cats[i]) == NULL)
			continue;
		for (;;) {
			item = p;
			for (end = p; *end != '\0'; end++) {
				if (*end == ',')
					break;
				if ((unsigned char)end[0] == 0xef &&
				    (unsigned char)end[1] == 0xbc &&
				    (unsigned char)end[2] == 0x8c)
					break;
			}
			seplen = *end == ',' ? 1 : *end != '\0' ? 3 : 0;
			len = (size_t)(end - item);
			classify_trim(&item, &len);
			if (len > 0 && (v = classify_exact(t, item, len)) != -1)
				return v;
			if (seplen == 0)
				break;
			p = end + seplen;
		}
	}
	return -1;
}

/*
 * The value of the summary keyword found in s: the longest alias (in
 * characters), then the one found earliest.  A summary is short, and there
 * are some fifty aliases, so one memmem per alias over a lower-cased copy is
 * faster than anything cleverer would be to build.
 */
static int
classify_by_summary(const struct classify_table *t, const char *summary)
{
	const struct classify_alias *a;
	char stackbuf[512], *low;
	const char *hit;
	size_t i, len, best_chars = 0, best_pos = 0;
	int best = -1;

	if (summary == NULL || *summary == '\0')
		return -1;
	len = strlen(summary);
	low = len < sizeof stackbuf ? stackbuf : xmalloc(len + 1);
	memcpy(low, summary, len + 1);
	classify_lower(low, len);

	for (i = 0; i < t->n; i++) {
		a = &t->v[i];
		if (!a->in_summary || a->len > len || a->nchars < best_chars)
			continue;
		if ((hit = memmem(low, len, a->text, a->len)) == NULL)
			continue;
		if (a->nchars > best_chars ||
		    (size_t)(hit - low) < best_pos) {
			best = a->value;
			best_chars = a->nchars;
			best_pos = (size_t)(hit - low);
		}
	}
	if (low != stackbuf)
		free(low);
	return best;
}

enum dj_category
classifier_category(const struct classifier *cls, const char *const *cats,
    size_t ncats, const char *summary, enum dj_category fallback)
{
	int v;

	if ((v = classify_by_categories(&cls->cats, cats, ncats)) != -1)
		return (enum dj_category)v;
	if ((v = classify_by_summary(&cls->cats, summary)) != -1)
		return (enum dj_category)v;
	return fallback;
}

enum dj_meeting
classifier_meeting(const struct classifier *cls, const char *const *cats,
    size_t ncats, const char *summary, enum dj_category c)
{
	int v;

	if (c != DJ_CAT_STUDY)
		return DJ_MT_NONE;
	if ((v = classify_by_categories(&cls->mts, cats, ncats)) != -1)
		return (enum dj_meeting)v;
	if ((v = classify_by_summary(&cls->mts, summary)) != -1)
		return (enum dj_meeting)v;
	return DJ_MT_NONE;
}
