/* spool.h: an append-only, crash-safe on-disk log of messages (the Kafka sink's write-ahead
 * spool), with sequence numbers, an acknowledged point, and a size bound.
 *
 * Who calls what: one thread (the main loop's, through the Kafka sink) owns a spool; nothing here
 * is thread-safe.
 * spool_append() copies a message into the pending block and gives it the next sequence number;
 * spool_commit() compresses the pending block and write()s it to the active segment (after that
 * the message survives a SIGKILL; after an fsync it survives a power cut). spool_get() reads a
 * committed record back by sequence number; spool_ack() says "everything below seq was
 * delivered", which lets whole segments be deleted (the active one too, once all of it is: the
 * next commit starts a new one, so space a full disk refused comes back with the deliveries).
 * A block whose write fails is lost and counted; its sequence numbers are given again, so
 * head - acked is what waits for delivery. spool_tick() persists the ack point and runs
 * the fsync policy. Reopening the same directory after a crash recovers every intact record
 * above the ack point; damaged bytes are counted and skipped, never fatal.
 *
 * On-disk format (all integers little-endian):
 *   DIR/lock                   flock()ed while open: one process per spool directory.
 *   DIR/ack                    two 32-byte slots, written alternately:
 *                              "TWSA" | u32 0 | u64 generation | u64 acked | u32 crc32(0..23) | u32 0
 *                              the valid slot with the higher generation wins; none valid = 0.
 *   DIR/<first seq %016x>.tws  a segment: blocks back to back, each:
 *     0  "TWS1"   4  u32 disk_len (payload bytes)   8  u32 raw_len   12 u32 count
 *     16 u64 first_seq   24 u16 flags (bit 0: payload is a zlib stream)   26 u16 0
 *     28 u32 crc32 of bytes 0..27 followed by the payload    32 payload (disk_len bytes)
 *   raw payload = count records: u8 kind | u16 keylen | u32 len | key | data;
 *   records of a block have sequence numbers first_seq .. first_seq + count - 1.
 * A block with a bad magic, sizes, checksum or zlib stream is counted as corrupt and the scan
 * resynchronises on the next valid block header; a truncated tail is counted the same way.
 * Segment files are never appended to after a reopen (a new one is started).
 */
#ifndef TW_SPOOL_H
#define TW_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct spool;

enum spool_fsync {
    SPOOL_FSYNC_NEVER = 0,  /* write() only: survives SIGKILL, not a power cut (OS decides) */
    SPOOL_FSYNC_BATCH = 1,  /* fdatasync at most every fsync_ms, from spool_tick() */
    SPOOL_FSYNC_ALWAYS = 2, /* fdatasync after every committed block and ack write */
};

struct spool_opts {
    const char *dir;        /* borrowed; created with its parents if missing */
    uint64_t max_bytes;     /* bound on the segment files' total size (>= 256 KiB) */
    uint64_t segment_bytes; /* roll to a new segment past this (0: max_bytes / 8, clamped) */
    uint32_t block_bytes;   /* commit the pending block past this many raw bytes (0: 64 KiB) */
    enum spool_fsync fsync;
    uint32_t fsync_ms; /* SPOOL_FSYNC_BATCH interval */
    int zlevel;        /* zlib level 0..9 (0: stored); -1: default (1, fastest) */
};

/* A record read back; pointers are into the spool's buffer, valid until the next spool call. */
struct spool_rec {
    uint64_t seq;
    uint8_t kind;
    const char *key;
    size_t keylen;
    const char *data;
    size_t len;
};

struct spool_stats {
    uint64_t appended;      /* records accepted by spool_append() */
    uint64_t lost;          /* records refused: bound reached or a write failed */
    uint64_t lost_episodes; /* times the bound was reached (logged once each) */
    uint64_t bytes;         /* segment bytes on disk now (plus the pending block) */
    uint64_t max_bytes;
    uint64_t segments;
    uint64_t blocks_written;
    uint64_t recovered;      /* records found above the ack point when opened */
    uint64_t corrupt_blocks; /* damaged blocks / truncated tails seen (open or read) */
    uint64_t corrupt_bytes;  /* bytes skipped while resynchronising */
    uint64_t write_errors;
    uint64_t fsyncs;
    uint64_t head;      /* next sequence number to be given */
    uint64_t committed; /* records below this are committed */
    uint64_t acked;     /* records below this are acknowledged */
};

/* Returns 0 with *out, or a negative errno with err set (e.g. directory unusable: mkdir's,
 * open's or opendir's errno; locked by another process: -EWOULDBLOCK; -EINVAL: bad name;
 * -ENOMEM). Recovers the directory's content. */
int spool_open(const struct spool_opts *o, struct spool **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Commits the pending block, persists the ack point (and fsyncs unless NEVER), frees. */
void spool_close(struct spool *sp);

/* Copy one record into the pending block. Returns 0 with *seq, or -ENOSPC when the size
 * bound is reached, -EMSGSIZE when the record is too large, -ENOMEM (counted in lost; logged once
 * per episode). May commit. */
int spool_append(struct spool *sp, uint8_t kind, const char *key, size_t keylen, const char *data,
                 size_t len, uint64_t *seq) __attribute__((warn_unused_result));
/* Write the pending block (if any). Returns 0, or a negative errno on a write error (the
 * write's or open's errno, -ENOSPC: too many segments, -ENOMEM; its records are lost and
 * counted, and head goes back to committed). */
int spool_commit(struct spool *sp);
/* The first committed record with sequence >= seq (a gap left by damage is skipped: rec->seq may
 * be larger). Returns 1 found, 0 none (seq >= committed). */
int spool_get(struct spool *sp, uint64_t seq, struct spool_rec *rec)
    __attribute__((warn_unused_result));
/* Everything below seq is delivered (monotonic; smaller values are ignored). Deletes segments
 * that hold only acknowledged records, the active one included. The ack file is written at the
 * next tick/close. */
void spool_ack(struct spool *sp, uint64_t seq);
/* Persist the ack point if it moved; fsync per policy. now_ms: a monotonic clock. */
void spool_tick(struct spool *sp, uint64_t now_ms);
uint64_t spool_acked(const struct spool *sp);
uint64_t spool_committed(const struct spool *sp);
uint64_t spool_head(const struct spool *sp);
void spool_get_stats(const struct spool *sp, struct spool_stats *st);

/* Parse a segment image in memory (the same parser spool_open() uses; for fuzzing and tests).
 * Calls cb for every record of every valid block; returns the number of valid blocks and
 * fills corrupt counters. */
typedef int spool_scan_fn(void *ctx, const struct spool_rec *rec);
size_t spool_scan_mem(const uint8_t *buf, size_t len, spool_scan_fn *cb, void *ctx,
                      uint64_t *corrupt_blocks, uint64_t *corrupt_bytes);

#endif
