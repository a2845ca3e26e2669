/*
 * wire.h - the header of a record's entry that a rank sends rank 0
 * (lib/dist/dist.c): the record's place, status and the lengths of what
 * follows it, in a compact form. It does not use MPI, so it is built
 * whether MPI is found or not and tested on its own (tests/test_wire.c).
 *
 * The form: a LEB128 varint of presence bits, then a varint for each
 * field whose bit is set, in the order of struct wn_wire_record. A field
 * that is zero is left out; so are the offset and the line when they are
 * those that follow the unit's record before (ctx: the offset just past
 * its line and terminator, its line + 1), and then the offset or line is
 * sent as the distance past them when it is further on. An accepted
 * record of a JSONL file takes about 8 bytes (against 88 for the struct
 * as it was sent before): its raw, text, id and sketch lengths and the
 * bits.
 */
#ifndef WN_DIST_WIRE_H
#define WN_DIST_WIRE_H

#include "common/common.h"

struct wn_wire_record {
    int32_t kind, status, sys_errno;
    uint32_t flags; /* WN_WIRE_VALUE, WN_WIRE_SAME_SOURCE */
    uint64_t error_offset, offset, line, raw_len;
    uint64_t raw_sent, id_len, text_len, source_len, blob_len;
};

/* The record's --keep max value (a double) follows its sketch. */
#define WN_WIRE_VALUE 1u
/* The record's source is that of the unit's record before it (none
 * sent: a unit's records are mostly of one file). */
#define WN_WIRE_SAME_SOURCE 2u

/* What the next record of a unit is expected to be: zeroed at the start of
 * every unit, on the sending and the receiving side alike. */
struct wn_wire_ctx {
    uint64_t next_offset, next_line;
};

/* The most bytes wn__wire_put appends. */
#define WN_WIRE_HEAD_MAX 128

/* Append w's header to b and move ctx past w (kind, status and errno as
 * zigzag varints: a status is a negative wn_status). WN_EINVAL for an
 * unknown flag; WN_ENOMEM. */
WN_INTERNAL int wn__wire_put(struct wn_buf *b, const struct wn_wire_record *w,
                             struct wn_wire_ctx *ctx);

/* Read a header from p[0, n) into w, *used its bytes, and move ctx past
 * it. WN_EFORMAT when it is cut short or malformed (a varint of more than
 * 10 bytes or over its field's range, unknown bits). */
WN_INTERNAL int wn__wire_get(const uint8_t *p, size_t n,
                             struct wn_wire_record *w, struct wn_wire_ctx *ctx,
                             size_t *used);

/* A LEB128 varint: v into q (at most 10 bytes), the bytes written; and
 * from *p (before end) into *v, *p moved past it, WN_EFORMAT when cut
 * short or longer than 64 bits. lib/dist/dist.c's slim sketches use them
 * too. */
WN_INTERNAL size_t wn__varint_put(uint8_t *q, uint64_t v);
WN_INTERNAL int wn__varint_get(const uint8_t **p, const uint8_t *end,
                               uint64_t *v);

#endif /* WN_DIST_WIRE_H */
