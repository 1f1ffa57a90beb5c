/* The daemon's configuration (SPEC section 2): INI parsed with inih. */
#ifndef DJCAL_CONFIG_H
#define DJCAL_CONFIG_H

#include <stdint.h>

#include "djcal/types.h"

enum config_feed_kind {
	CONFIG_FEED_EVENTS,	/* kind = events (default) */
	CONFIG_FEED_HOLIDAYS	/* kind = holidays: a public holiday calendar */
};

struct config_category {
	char		**aliases;	/* configured, in addition to built-ins */
	size_t		  naliases;
	int		  has_reminders;
	struct dj_leads	  reminders;
};

struct config_meeting {
	char		**aliases;
	size_t		  naliases;
};

struct config_feed {
	char		*name;		/* the section's name: the feed's id */
	char		*url;		/* https or http (webcal:// and
					   webcals:// become https://), a
					   file:// URL or a plain path; a
					   relative path or file:// URL is made
					   absolute against the config's
					   directory */
	char		*path;		/* file feeds: the absolute local path
					   (file:// URL percent-decoded);
					   NULL for http and https */
	int		 category;	/* enum dj_category, or -1 when unset */
	char		*branch;	/* NULL when unset */
	int64_t		 refresh;	/* seconds; default 15 min */
	int		 has_reminders;
	struct dj_leads	 reminders;
	char		*username;	/* NULL when unset; never logged */
	char		*password;	/* NULL when unset; never logged */
	char		*ca_file;	/* NULL: the daemon's ca_file or system */
	enum config_feed_kind kind;
	unsigned	 line;		/* line of the [feed ...] header */
};

/* A required meeting cadence (三会一课, 主题党日): see issue 7. */
enum config_cadence {
	CONFIG_CADENCE_MONTH,
	CONFIG_CADENCE_QUARTER,
	CONFIG_CADENCE_YEAR
};

struct config_requirement {
	char		*name;		/* e.g. 支委会 */
	int		 category;	/* enum dj_category, or -1 */
	int		 meeting_type;	/* enum dj_meeting, or -1 */
	char		**aliases;	/* summary keywords that also match */
	size_t		  naliases;
	enum config_cadence cadence;
	int		 warn_days;	/* warn this many days before a period
					   that has nothing scheduled */
	unsigned	 line;
};

struct config {
	char		*path;		/* the file it was read from, made
					   absolute; NULL from config_default */
	char		*database;	/* paths made absolute against the */
	char		*socket;	/* config file's directory */
	unsigned	 socket_mode;
	char		*admin_group;	/* "" = root only */
	char		*http_listen;	/* "" = off */
	char		*http_token;	/* "" = none; never logged */
	char		*timezone;	/* IANA name */
	int		 horizon_days;
	int		 history_days;
	struct dj_leads	 reminders;
	int64_t		 late_grace;	/* seconds */
	uint64_t	 max_feed_bytes;
	char		*ca_file;	/* NULL: the system's CA store */
	int		 max_clients;	/* control socket connections */
	int		 max_clients_per_uid;	/* of one peer uid; 0: a
					   quarter of max_clients (at
					   least 1).  Root and djcald's
					   own uid are not capped */
	uint64_t	 max_output_bytes;	/* replies queued for all
						   control clients together */
	size_t		 max_items;	/* items (UIDs) per feed; 0 = no
					   limit (the default) */
	int		 warn_days;	/* default for requirements */
	int64_t		 fetch_timeout;	/* seconds a feed's whole fetch may
					   take; default 60 */

	struct config_category	categories[DJ_CAT_COUNT];
	struct config_meeting	meetings[DJ_MT_COUNT];

	struct config_feed	*feeds;
	size_t			 nfeeds;
	struct config_requirement *requirements;
	size_t			 nrequirements;
	int			 default_requirements;	/* no [requirement]
							   sections given */
};

/*
 * Read and validate a configuration file.  On success *out is the new config
 * (caller frees with config_free) and 0 is returned.  On failure -1 is
 * returned and *cause holds every error found, one "file:line: message" per
 * line in line order, joined with '\n' without a trailing one (caller frees;
 * cause may be NULL).  A file that cannot be read gives the single line
 * "file: strerror".  Messages never hold a password or http_token value.
 * Relative paths in the file are made absolute against the directory of
 * path (itself made absolute with the working directory).
 */
int		 config_load(const char *path, struct config **out,
		    char **cause);
/* config_load on bytes already read (the fuzzer's and tests' entry): name
 * stands for the file's path in messages and for its directory. */
int		 config_load_buffer(const char *name, const char *buf,
		    size_t len, struct config **out, char **cause);
/* The built-in defaults, as if read from an empty file. Caller frees. */
struct config	*config_default(void);
void		 config_free(struct config *);
/* The feed of that name, or NULL.  Borrowed from cfg. */
const struct config_feed *config_feed_find(const struct config *cfg,
		    const char *name);
/* The leads for items of a feed and category: the feed's, else the
 * category's, else the daemon's. Borrowed from cfg. */
const struct dj_leads *config_leads(const struct config *cfg,
		    const struct config_feed *feed, enum dj_category);

/* Seconds "90", number-unit pairs "90s", "15m", "2h", "1d", "1w", "1h30m",
 * or ISO 8601 "PT1H", "P1D", "P1DT2H"; an optional sign ("-PT15M"); at most
 * 100 years.  0 on success, -1 on a malformed value (*secs untouched). */
int		 config_parse_duration(const char *, int64_t *secs);
/* A list of durations separated by ',' or '，': duplicates dropped, sorted
 * largest first, at most DJ_MAX_LEADS; blank is the empty list.  0 or -1. */
int		 config_parse_leads(const char *, struct dj_leads *);
/* "64M", "1G", "512K", "1000" (bytes): K, M, G, T are powers of 1024, with
 * an optional "B" or "iB".  0 or -1. */
int		 config_parse_size(const char *, uint64_t *bytes);

#endif
