/* Categories and meeting types: names, built-in and configured aliases. */
#ifndef DJCAL_CLASSIFY_H
#define DJCAL_CLASSIFY_H

#include "djcal/types.h"

/* "study", "party-day", "volunteer", "standardization", "other". */
const char	*classify_category_name(enum dj_category);
/* The category of a name as above (ASCII case-insensitive), or -1. */
int		 classify_category_from_name(const char *);
/* "branch-committee", "member-assembly", "group", "lecture",
 * "theory-study"; NULL for DJ_MT_NONE. */
const char	*classify_meeting_name(enum dj_meeting);
/* The meeting type of a name as above, or -1. */
int		 classify_meeting_from_name(const char *);

struct classifier;

/* A classifier with the built-in Chinese and English aliases.  Caller frees
 * with classifier_free. */
struct classifier *classifier_new(void);
void		 classifier_free(struct classifier *);
/*
 * Add an alias; configured aliases extend the built-in ones.  Matching is
 * ASCII case-insensitive and byte-exact otherwise.  An alias whose text is
 * already known (built-in or added before) moves to the new category or
 * meeting type, so configuration overrides built-ins.  Empty aliases are
 * ignored.  The alias is copied.
 */
void		 classifier_add_category_alias(struct classifier *,
		    enum dj_category, const char *alias);
void		 classifier_add_meeting_alias(struct classifier *,
		    enum dj_meeting, const char *alias);

/*
 * The category of an item: the first of its CATEGORIES values that equals an
 * alias (case-insensitive), else the alias found in its summary (the longest
 * match in characters, then the earliest), else fallback.  cats may hold
 * comma-separated lists as they appear in the property (',' or the
 * full-width '，'; spaces trimmed).  The bare machine names
 * ("other", "group", "lecture", ...) match CATEGORIES values only, never
 * summary text.  cats and summary may be NULL.
 */
enum dj_category classifier_category(const struct classifier *,
		    const char *const *cats, size_t ncats, const char *summary,
		    enum dj_category fallback);
/* The meeting type of an item of category study the same way; DJ_MT_NONE for
 * other categories or when nothing matches. */
enum dj_meeting	 classifier_meeting(const struct classifier *,
		    const char *const *cats, size_t ncats, const char *summary,
		    enum dj_category);

#endif
