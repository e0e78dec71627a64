/* sink_report.h: the report as a sink (exporter.h): every alert, summary and totals message
 * goes into a report model (report.h). With a path, flush() (the end of a replay) writes the
 * whole report there as HTML (written to PATH.tmp, then renamed); the daemon instead writes the
 * per-customer pages from the model on a timer (report_dir.h).
 * Main loop's thread, like every sink. */
#ifndef TW_SINK_REPORT_H
#define TW_SINK_REPORT_H

#include "exporter.h"
#include "report.h"

/* path: NULL (the caller writes) or the file flush() writes (copied). *model: the sink's
 * model, borrowed, valid until the sink is destroyed. 0, or -ENOMEM with err set. */
int sink_report_new(const struct report_opts *ro, const char *path, struct sink *out,
                    struct report **model, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Write the report r to path atomically (path.tmp, then renamed): the whole report, or one
 * customer's (customer non-NULL). 0 or -errno (logged by the caller). */
int report_write_file(const struct report *r, const char *customer, const char *path);

#endif
