/* trie.h: longest-prefix match over IPv4 (mapped) and IPv6 prefixes.
 *
 * Built once by one thread with a builder, then frozen: a frozen trie is immutable and may be
 * read by any number of threads without locks; a reload builds a new one and swaps the pointer.
 * Each prefix maps to a uint32_t value chosen by the caller (an index into its own table).
 */
#ifndef TW_TRIE_H
#define TW_TRIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct trie;
struct trie_builder;

/* Returns 0 or -ENOMEM. max_prefixes bounds what the builder accepts (0 = 16M). */
int trie_builder_new(struct trie_builder **out, size_t max_prefixes);
/* Add a prefix. Returns 0, -EEXIST when that exact prefix is already present (its value kept),
 * -ENOSPC past max_prefixes, -ENOMEM. */
int trie_builder_add(struct trie_builder *b, const struct prefix *p, uint32_t value);
/* Freeze. The builder is consumed (freed) whatever the result. Returns 0 or -ENOMEM. */
int trie_build(struct trie_builder *b, struct trie **out);
void trie_builder_free(struct trie_builder *b);

/* Longest match. Returns true and sets *value (and *plen, the match length in the 128-bit space,
 * when plen is not NULL) or false. t may be NULL (no match). */
bool trie_lookup(const struct trie *t, const uint8_t addr[16], uint32_t *value, uint8_t *plen);
/* Visit every stored prefix that overlaps p (contains it or lies within it), in address order.
 * cb returns nonzero to stop. Returns the number visited. */
typedef int (*trie_visit_fn)(void *arg, const struct prefix *stored, uint32_t value);
size_t trie_overlaps(const struct trie *t, const struct prefix *p, trie_visit_fn cb, void *arg);
size_t trie_count(const struct trie *t);
size_t trie_memory(const struct trie *t); /* bytes held */
void trie_free(struct trie *t);

#endif
