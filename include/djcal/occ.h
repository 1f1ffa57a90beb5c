/* An occurrence as the protocol, the CLI and the queries see it. */
#ifndef DJCAL_OCC_H
#define DJCAL_OCC_H

#include <stddef.h>
#include <time.h>

#include "djcal/types.h"

/* One occurrence of an event, or a task.  Strings are owned by the struct
 * (occ_clear frees them) unless a function says they are borrowed. */
struct dj_occurrence {
	char		*uid;
	char		*feed;
	char		*branch;	/* NULL when the feed has none */
	char		*summary;
	char		*location;
	char		*description;
	char		*status;	/* upper case as in the feed, or NULL */
	enum dj_kind	 kind;
	enum dj_category category;
	enum dj_meeting	 meeting_type;
	time_t		 start, end;	/* UTC; all-day: local midnight */
	int		 all_day;
	int		 has_rid;
	time_t		 rid;		/* original start of the instance */
	int		 rid_all_day;
	int		 on_holiday;
	char		*alarms;	/* the item's VALARM triggers, encoded
					   as update_alarms() does; not shown */
	/* Tasks (kind DJ_KIND_TASK). */
	int		 has_due;
	time_t		 due;
	int		 due_all_day;
	int		 has_completed;
	time_t		 completed;
};

struct dj_occ_list {
	struct dj_occurrence	*v;
	size_t			 n, cap;
};

/* Free the strings of an occurrence and zero it. */
void	occ_clear(struct dj_occurrence *);
/* Deep-copy src into dst. */
void	occ_copy(struct dj_occurrence *dst, const struct dj_occurrence *src);
/* Append a deep copy of o. */
void	occ_list_push(struct dj_occ_list *, const struct dj_occurrence *o);
/* Append o, taking ownership of its strings. */
void	occ_list_take(struct dj_occ_list *, struct dj_occurrence *o);
/* Free every occurrence and the array. */
void	occ_list_free(struct dj_occ_list *);
/* Sort by start, then feed, uid, recurrence id. */
void	occ_list_sort(struct dj_occ_list *);
/* Keep the first n. */
void	occ_list_truncate(struct dj_occ_list *, size_t n);

#endif
