/* dlist.h: an intrusive doubly-linked list (recency orders: the decoder's exporters and each
 * domain's templates). A struct embeds a struct dlink and is found back with DLIST_ENTRY. */
#ifndef TW_DLIST_H
#define TW_DLIST_H

#include <stddef.h>

struct dlink {
    struct dlink *prev, *next;
};

struct dlist {
    struct dlink *first, *last;
};

#define DLIST_ENTRY(link, type, member) ((type *)(void *)((char *)(link)-offsetof(type, member)))

static inline void dlist_unlink(struct dlist *l, struct dlink *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        l->first = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->last = n->prev;
    n->prev = n->next = NULL;
}

static inline void dlist_push_front(struct dlist *l, struct dlink *n)
{
    n->prev = NULL;
    n->next = l->first;
    if (l->first)
        l->first->prev = n;
    else
        l->last = n;
    l->first = n;
}

static inline void dlist_push_back(struct dlist *l, struct dlink *n)
{
    n->next = NULL;
    n->prev = l->last;
    if (l->last)
        l->last->next = n;
    else
        l->first = n;
    l->last = n;
}

#endif
