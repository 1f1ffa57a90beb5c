/* Plain structs and limits shared by the daemon, the CLI and the tests. */
#ifndef DJCAL_TYPES_H
#define DJCAL_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define DJCAL_VERSION		"0.1.0"

/* The five categories of SPEC section 2, in a fixed order. */
enum dj_category {
	DJ_CAT_STUDY,
	DJ_CAT_PARTY_DAY,
	DJ_CAT_VOLUNTEER,
	DJ_CAT_STANDARDIZATION,
	DJ_CAT_OTHER,
	DJ_CAT_COUNT
};

/* Meeting types within study (三会一课 and 理论学习); DJ_MT_NONE for others. */
enum dj_meeting {
	DJ_MT_NONE,
	DJ_MT_BRANCH_COMMITTEE,	/* 支委会 */
	DJ_MT_MEMBER_ASSEMBLY,	/* 党员大会 */
	DJ_MT_GROUP,		/* 党小组会 */
	DJ_MT_LECTURE,		/* 党课 */
	DJ_MT_THEORY_STUDY,	/* 理论学习 */
	DJ_MT_COUNT
};

enum dj_kind {
	DJ_KIND_EVENT,
	DJ_KIND_TASK
};

/* Longest protocol line, and the most leads one reminder list may hold. */
#define DJ_MAX_LINE		(1024 * 1024)
#define DJ_MAX_LEADS		16

/* Reminder leads: seconds before the start (negative: after it). */
struct dj_leads {
	int		n;
	int64_t		v[DJ_MAX_LEADS];
};

#endif
