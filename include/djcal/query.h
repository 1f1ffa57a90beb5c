/*
 * Queries shared by the daemon's socket and the CLI's --db path: the
 * occurrences in any window (materialised rows plus on-the-fly expansion
 * outside the materialised window), and tasks.
 */
#ifndef DJCAL_QUERY_H
#define DJCAL_QUERY_H

#include <time.h>

#include "djcal/occ.h"
#include "djcal/store.h"
#include "djcal/tz.h"

/* The zone the store's items were read in (its "timezone" setting, else
 * Asia/Shanghai).  Borrowed; lives for the process. */
const struct tz	*query_zone(struct store *);

/*
 * The occurrences overlapping [f->from, f->to) that match the filter, in
 * start order, at most f->limit (0: all).  0, or -1 with *cause.
 */
int		 query_upcoming(struct store *, const struct store_filter *f,
		    struct dj_occ_list *out, char **cause);

enum query_tasks {
	QUERY_TASKS_OPEN,	/* not completed or cancelled */
	QUERY_TASKS_OVERDUE,	/* open and due before now */
	QUERY_TASKS_DONE,	/* completed */
	QUERY_TASKS_ALL
};

/* Parse "open", "overdue", "done", "all"; -1 when unknown. */
int		 query_tasks_from_name(const char *);
/* Whether a task is done (STATUS:COMPLETED or a COMPLETED date). */
int		 query_task_done(const struct dj_occurrence *);
/* Tasks in due order (undated last). */
int		 query_tasks(struct store *, enum query_tasks, time_t now,
		    struct dj_occ_list *out, char **cause);

#endif
