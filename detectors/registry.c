#include <string.h>

#include "detector.h"

extern const struct detector_ops det_blocklist_ops;
extern const struct detector_ops det_spam_ops;
extern const struct detector_ops det_beacon_ops;
extern const struct detector_ops det_scan_ops;
extern const struct detector_ops det_flood_ops;
extern const struct detector_ops det_bruteforce_ops;

/* One line per detector. Order is the order of on_flow calls and of alerts at window close. */
const struct detector_ops *const det_registry[] = {
    &det_blocklist_ops, &det_spam_ops,  &det_beacon_ops,
    &det_scan_ops,      &det_flood_ops, &det_bruteforce_ops,
};
const size_t det_registry_count = sizeof det_registry / sizeof det_registry[0];

const struct detector_ops *det_find(const char *name)
{
    for (size_t i = 0; i < det_registry_count; i++)
        if (strcmp(det_registry[i]->name, name) == 0)
            return det_registry[i];
    return NULL;
}
