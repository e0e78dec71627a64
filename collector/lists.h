/* lists.h: load the operator's lists named by the settings (customer map, blocklist feeds) as
 * one unit, for start-up, --check-config and reload alike. Main thread. */
#ifndef TW_LISTS_H
#define TW_LISTS_H

#include "conf.h"
#include "customers.h"
#include "feeds.h"
#include "settings.h"

/* Returns 0 with both out-params set (an empty customer map when no file is configured), or
 * a negative errno (the failing loader's) with err naming file and line; nothing is returned
 * then. */
int lists_load(const struct settings *s, struct customer_map **customers, struct feed_set **feeds,
               struct conf_error *err);
/* Log warnings about loaded lists (feeds past their Expires, malformed lines skipped). */
void lists_warn(const struct feed_set *feeds);

#endif
