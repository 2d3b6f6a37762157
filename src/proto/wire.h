/* RUM wire format: the frame header and every message payload, in one header.
 *
 * All fields are fixed width and little-endian. Encoders and decoders are pure
 * functions over byte buffers: no I/O, no clock, no allocation. Every decoder checks
 * every length and field against the bytes it was given and returns RUM_EPROTO for
 * anything malformed; decoded pointers (names, page data) point into the input buffer
 * and stay valid as long as it does.
 *
 * A message (one request or one response) is a payload of up to RUM_WIRE_MAX_MSG
 * bytes. It travels in one or more frames; each frame is a header followed by a slice
 * of the payload (frag_offset, payload_len) so that a 4 KiB page or a batch of pages
 * fits a 1500-byte MTU. The RPC layer (src/net/rpc.c) segments and reassembles. */
#ifndef RUM_PROTO_WIRE_H
#define RUM_PROTO_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
  RUM_WIRE_MAGIC = 0x314d5552u, /* "RUM1" read as little-endian bytes */
  RUM_WIRE_VERSION = 1,
  RUM_WIRE_HEADER_SIZE = 72,
  RUM_WIRE_TAG_SIZE = 16,   /* truncated HMAC-SHA256 when a cluster key is set */
  RUM_WIRE_KEY_SIZE = 32,   /* cluster key bytes */
  RUM_PAGE_SIZE = 4096,
  RUM_PAGE_SHIFT = 12,
  RUM_WIRE_MAX_PAGES = 64,  /* pages in one READ or WRITE message */
  RUM_WIRE_MAX_MSG = 64 * 4096 + 4096, /* payload bytes of one message */
  RUM_WIRE_MAX_FRAGS = 4096,
  RUM_WIRE_MIN_MTU = 576,   /* IPv4 minimum; below it a page would need > 8 frames */
  RUM_WIRE_MAX_FRAME = 65507, /* the largest UDP payload over IPv4 */
  RUM_WIRE_NAME_MAX = 255,
  RUM_WIRE_ERRMSG_MAX = 200,
  RUM_WIRE_MAX_REGIONS_LIST = 32, /* region entries in one REGIONS response */
  RUM_WIRE_MAX_NODES_LIST = 64,   /* peers in one STAT response */
  RUM_WIRE_MAX_DISCARD_RANGES = 64, /* page ranges in one DISCARD request */
};

/* Frame types. A response carries the type of its request with RUM_WIRE_F_RESPONSE
 * set, or RUM_MSG_ERROR. */
enum rum_msg_type {
  RUM_MSG_HELLO = 1,
  RUM_MSG_ALLOC = 2,
  RUM_MSG_FREE = 3,
  RUM_MSG_READ = 4,
  RUM_MSG_WRITE = 5,
  RUM_MSG_STAT = 6,
  RUM_MSG_HEARTBEAT = 7,
  RUM_MSG_ERROR = 8,
  RUM_MSG_ATTACH = 9,
  RUM_MSG_RESIZE = 10,
  RUM_MSG_COPY = 11,
  RUM_MSG_REGIONS = 12,
  RUM_MSG_PING = 13,   /* empty request and response: the RPC layer's own round trip */
  RUM_MSG_DISCARD = 14,
  RUM_MSG_PAXOS = 15,  /* node to node: one Paxos message (src/paxos/paxos_wire.h); empty response */
  RUM_MSG_TYPE_MAX = 15,
};

enum rum_wire_flags {
  RUM_WIRE_F_RESPONSE = 1u << 0,
  RUM_WIRE_F_MAC = 1u << 1,      /* tag holds a MAC over the frame */
  RUM_WIRE_F_RETRY = 1u << 2,    /* a retransmission (informational) */
  RUM_WIRE_F_ALL = 0x7u,
};

/* Header layout (offsets in bytes):
 *   0 magic u32 | 4 version u8 | 5 type u8 | 6 flags u16 | 8 sender u32 |
 *  12 frag_index u16 | 14 frag_count u16 | 16 session u64 | 24 seq u64 | 32 ack u64 |
 *  40 msg_len u32 | 44 frag_offset u32 | 48 payload_len u32 | 52 checksum u32 |
 *  56 tag[16] | 72 payload
 * checksum is CRC32C over the whole frame with the checksum field zeroed; when
 * RUM_WIRE_F_MAC is set it is computed after the tag was filled in. */
struct rum_wire_header {
  uint8_t type;
  uint16_t flags;
  uint32_t sender;      /* node id, or client id */
  uint16_t frag_index;
  uint16_t frag_count;
  uint64_t session;     /* the sender's session (changes when a process restarts) */
  uint64_t seq;         /* request id, unique per session; a response echoes it */
  uint64_t ack;         /* highest seq the sender has fully completed (informational) */
  uint32_t msg_len;     /* whole message payload bytes */
  uint32_t frag_offset; /* where this frame's payload starts in the message */
  uint32_t payload_len; /* payload bytes in this frame */
};

/* A cluster key prepared for MACs: HMAC-SHA256's inner and outer hash states, so a
 * frame costs two SHA-256 passes and no allocation (the MAC runs in signal context
 * on the fault path). Opaque; sized to hold OpenSSL's state. */
struct rum_wire_key {
  _Alignas(16) uint8_t state[256];
};
/* Prepare a key from RUM_WIRE_KEY_SIZE raw bytes. */
void rum__wire_key_init(struct rum_wire_key *key, const uint8_t raw[RUM_WIRE_KEY_SIZE]);
/* Wipe a prepared key. */
void rum__wire_key_wipe(struct rum_wire_key *key);

/* Write the header for a frame whose payload (payload_len bytes) already follows it
 * at buf + RUM_WIRE_HEADER_SIZE, then the MAC (when key != NULL) and the checksum.
 * frame_len = RUM_WIRE_HEADER_SIZE + h->payload_len. Returns 0 or RUM_EINVAL. */
int rum__wire_frame_seal(uint8_t *buf, size_t frame_len, const struct rum_wire_header *h,
                         const struct rum_wire_key *key);

/* The same for a payload in pieces (sent without copying them together): writes the
 * RUM_WIRE_HEADER_SIZE bytes of header into head, computing CRC and MAC over head and
 * the pieces. The pieces' total must equal h->payload_len. Returns 0 or RUM_EINVAL. */
struct iovec;
int rum__wire_frame_seal_iov(uint8_t head[RUM_WIRE_HEADER_SIZE], const struct rum_wire_header *h,
                             const struct iovec *payload, int npieces,
                             const struct rum_wire_key *key);

/* Check a received frame: size, magic, version, type, flags, fragment fields against
 * each other and the length, checksum, and the MAC when key != NULL (a frame without
 * a valid MAC is then RUM_EAUTH). On success fills *h; the payload is at
 * buf + RUM_WIRE_HEADER_SIZE. Returns 0, RUM_EPROTO or RUM_EAUTH. */
int rum__wire_frame_open(const uint8_t *buf, size_t len, struct rum_wire_header *h,
                         const struct rum_wire_key *key);

/* CRC32C (Castagnoli) of len bytes, continuing from crc (start with 0). */
uint32_t rum__crc32c(uint32_t crc, const void *data, size_t len);

/* ---- Message payloads ----
 * Empty payloads: the STAT and PING requests, the PING response, and the responses to
 * FREE, RESIZE, COPY and DISCARD (success is the response itself).
 * Each message has an encode (returns bytes written, or RUM_EMSGSIZE when cap is too
 * small / RUM_EINVAL for a field out of range) and a decode (returns 0 or RUM_EPROTO).
 * Requests and responses of one type are separate structs. */

enum rum_hello_flags {
  RUM_HELLO_F_CLIENT = 1u << 0, /* sender is a client (heartbeats, leases apply) */
  RUM_HELLO_F_NODE = 1u << 1,   /* sender is a memory node */
};

struct rum_msg_hello_req {
  uint32_t proto_version;
  uint32_t flags;
  uint32_t mtu;        /* the sender's frame size */
  uint32_t lease_ms;   /* lease the client asks for; 0 = node default */
};
struct rum_msg_hello_resp {
  uint32_t node_id;
  uint32_t page_size;
  uint32_t lease_ms;   /* the lease the node grants */
  uint32_t mtu;
  uint64_t incarnation;  /* changes when the node restarts */
  uint64_t memory_limit; /* bytes */
  uint64_t memory_used;  /* bytes */
};

enum rum_region_flags {
  RUM_REGION_F_NAMED = 1u << 0,  /* permanent, found by name, never reclaimed by leases */
  RUM_REGION_F_PINNED = 1u << 1, /* placed on one node (rum_alloc_on) */
  RUM_REGION_F_ALL = 0x3u,
};

/* Register (this node's share of) a region. The client chooses region_id; a named
 * region's id is derived from its name. size is the whole region's size; reserve is
 * what this node must be able to store for it, checked against its memory limit now
 * (RUM_ENOSPC) so that a later write-back never finds the node full. */
struct rum_msg_alloc_req {
  uint64_t region_id;
  uint64_t size;
  uint64_t reserve;    /* bytes of pages this node commits to hold for the region (its
                          share of the chunks); 0 = nothing reserved */
  uint32_t flags;
  uint16_t name_len;   /* 0 unless RUM_REGION_F_NAMED */
  const char *name;    /* not NUL-terminated on the wire */
};
struct rum_msg_alloc_resp {
  uint64_t region_id;
  uint64_t size;
};

struct rum_msg_free_req {
  uint64_t region_id;
};

/* Read npages pages starting at first_page. The response carries them all, in order,
 * npages * RUM_PAGE_SIZE bytes after its fixed part (pages never written read as
 * zeros), so a receiver can scatter them straight into page frames. */
struct rum_msg_read_req {
  uint64_t region_id;
  uint64_t first_page;
  uint32_t npages; /* 1..RUM_WIRE_MAX_PAGES */
};
struct rum_msg_read_resp {
  uint64_t region_id;
  uint64_t first_page;
  uint32_t npages;
  const uint8_t *data; /* npages * RUM_PAGE_SIZE bytes */
};
enum { RUM_WIRE_READ_RESP_FIXED = 20 };

/* Write npages pages (any indexes, ascending or not) of one region. */
struct rum_msg_write_req {
  uint64_t region_id;
  uint32_t npages;                           /* 1..RUM_WIRE_MAX_PAGES */
  uint64_t page_index[RUM_WIRE_MAX_PAGES];
  const uint8_t *data;                       /* npages * RUM_PAGE_SIZE bytes */
};
struct rum_msg_write_resp {
  uint32_t npages;
};
/* Size of a WRITE request's fixed part (before the page data) for npages pages. */
static inline size_t rum__wire_write_req_fixed(uint32_t npages) { return 12 + 8 * (size_t)npages; }

/* Node statistics, answered to STAT. */
struct rum_msg_stat_resp {
  uint32_t node_id;
  uint32_t npeers;
  uint64_t incarnation;
  uint64_t uptime_ms;
  uint64_t memory_limit;
  uint64_t memory_used;
  uint64_t regions;
  uint64_t named_regions;
  uint64_t clients;
  uint64_t requests[RUM_MSG_TYPE_MAX + 1]; /* by request type */
  uint64_t bytes_in;
  uint64_t bytes_out;
  uint64_t retransmits;  /* duplicate requests seen (the peers' retransmissions) */
  uint64_t drops;        /* malformed or unauthenticated frames dropped */
  uint64_t auth_drops;
  uint64_t reclaims;     /* regions reclaimed from expired leases */
  uint64_t errors;       /* error replies sent */
  /* Requests refused by access control (src/server/ownership.h, quota.h). */
  uint64_t access_denied; /* another session's leased region (RUM_EPERM) */
  uint64_t no_region;     /* unknown (e.g. forged) region id */
  uint64_t out_of_range;  /* a page past a region's end */
  uint64_t oversized;     /* more pages than one READ/WRITE/DISCARD may carry */
  uint64_t quota_denied;  /* past the client's --client-quota-mb (RUM_EDQUOT) */
  struct {
    uint32_t node_id;
    uint32_t up;         /* 1 if heard from within the failure timeout */
    uint64_t last_heard_ms; /* ms since last heard, UINT64_MAX if never */
  } peers[RUM_WIRE_MAX_NODES_LIST];
};

struct rum_msg_heartbeat_req {
  uint32_t flags;      /* rum_hello_flags of the sender */
  uint32_t nregions;   /* regions the sender holds on this node (informational) */
};
struct rum_msg_heartbeat_resp {
  uint64_t incarnation;
  uint32_t lease_ms;
  uint32_t lease_valid; /* 0: the sender's lease had expired and its regions are gone */
};

struct rum_msg_error {
  int32_t code;        /* a negative RUM_E* code */
  uint16_t text_len;
  const char *text;    /* not NUL-terminated */
};

struct rum_msg_attach_req {
  uint16_t name_len;
  const char *name;
};
struct rum_msg_attach_resp {
  uint64_t region_id;
  uint64_t size;
  uint32_t flags;
};

struct rum_msg_resize_req {
  uint64_t region_id;
  uint64_t new_size;
  uint64_t reserve;    /* this node's new share, as in ALLOC */
};

/* Drop the stored bytes of page ranges of a region (freed heap blocks): they read as
 * zeros afterwards. The region keeps its size and its reservation, so the pages can
 * be written again without asking the node first. Empty response. */
struct rum_msg_discard_req {
  uint64_t region_id;
  uint32_t nranges; /* 1..RUM_WIRE_MAX_DISCARD_RANGES */
  struct {
    uint64_t first_page;
    uint32_t npages; /* >= 1 */
  } ranges[RUM_WIRE_MAX_DISCARD_RANGES];
};

/* Copy npages pages from one region to another, both on this node (realloc). */
struct rum_msg_copy_req {
  uint64_t src_region;
  uint64_t dst_region;
  uint64_t first_page;
  uint64_t npages;
};

struct rum_msg_regions_req {
  uint32_t flags;   /* RUM_REGION_F_NAMED: named regions only */
  uint32_t start;   /* index to resume a listing at */
};
struct rum_msg_regions_resp {
  uint32_t total;   /* regions matching on the node */
  uint32_t count;   /* entries in this response */
  struct {
    uint64_t region_id;
    uint64_t size;
    uint64_t bytes_stored;  /* bytes of pages this node holds for it */
    uint64_t owner_session; /* the owner session's top 32 bits, low ones zero; 0 for named */
    uint32_t owner_id;
    uint32_t flags;
    uint16_t name_len;
    char name[RUM_WIRE_NAME_MAX + 1]; /* NUL-terminated copy */
  } entries[RUM_WIRE_MAX_REGIONS_LIST];
};

int rum__wire_encode_hello_req(uint8_t *buf, size_t cap, const struct rum_msg_hello_req *m);
int rum__wire_decode_hello_req(const uint8_t *buf, size_t len, struct rum_msg_hello_req *m);
int rum__wire_encode_hello_resp(uint8_t *buf, size_t cap, const struct rum_msg_hello_resp *m);
int rum__wire_decode_hello_resp(const uint8_t *buf, size_t len, struct rum_msg_hello_resp *m);
int rum__wire_encode_alloc_req(uint8_t *buf, size_t cap, const struct rum_msg_alloc_req *m);
int rum__wire_decode_alloc_req(const uint8_t *buf, size_t len, struct rum_msg_alloc_req *m);
int rum__wire_encode_alloc_resp(uint8_t *buf, size_t cap, const struct rum_msg_alloc_resp *m);
int rum__wire_decode_alloc_resp(const uint8_t *buf, size_t len, struct rum_msg_alloc_resp *m);
int rum__wire_encode_free_req(uint8_t *buf, size_t cap, const struct rum_msg_free_req *m);
int rum__wire_decode_free_req(const uint8_t *buf, size_t len, struct rum_msg_free_req *m);
int rum__wire_encode_read_req(uint8_t *buf, size_t cap, const struct rum_msg_read_req *m);
int rum__wire_decode_read_req(const uint8_t *buf, size_t len, struct rum_msg_read_req *m);
/* Encodes only the fixed part (RUM_WIRE_READ_RESP_FIXED bytes); the sender appends
 * the page bytes (zero-copy from its store). Decode checks the whole length. */
int rum__wire_encode_read_resp_fixed(uint8_t *buf, size_t cap, const struct rum_msg_read_resp *m);
int rum__wire_decode_read_resp(const uint8_t *buf, size_t len, struct rum_msg_read_resp *m);
/* Encodes only the fixed part (rum__wire_write_req_fixed(npages) bytes); page bytes
 * follow. Decode checks the whole length. */
int rum__wire_encode_write_req_fixed(uint8_t *buf, size_t cap, const struct rum_msg_write_req *m);
int rum__wire_decode_write_req(const uint8_t *buf, size_t len, struct rum_msg_write_req *m);
int rum__wire_encode_write_resp(uint8_t *buf, size_t cap, const struct rum_msg_write_resp *m);
int rum__wire_decode_write_resp(const uint8_t *buf, size_t len, struct rum_msg_write_resp *m);
int rum__wire_encode_stat_resp(uint8_t *buf, size_t cap, const struct rum_msg_stat_resp *m);
int rum__wire_decode_stat_resp(const uint8_t *buf, size_t len, struct rum_msg_stat_resp *m);
int rum__wire_encode_heartbeat_req(uint8_t *buf, size_t cap, const struct rum_msg_heartbeat_req *m);
int rum__wire_decode_heartbeat_req(const uint8_t *buf, size_t len, struct rum_msg_heartbeat_req *m);
int rum__wire_encode_heartbeat_resp(uint8_t *buf, size_t cap, const struct rum_msg_heartbeat_resp *m);
int rum__wire_decode_heartbeat_resp(const uint8_t *buf, size_t len, struct rum_msg_heartbeat_resp *m);
int rum__wire_encode_error(uint8_t *buf, size_t cap, const struct rum_msg_error *m);
int rum__wire_decode_error(const uint8_t *buf, size_t len, struct rum_msg_error *m);
int rum__wire_encode_attach_req(uint8_t *buf, size_t cap, const struct rum_msg_attach_req *m);
int rum__wire_decode_attach_req(const uint8_t *buf, size_t len, struct rum_msg_attach_req *m);
int rum__wire_encode_attach_resp(uint8_t *buf, size_t cap, const struct rum_msg_attach_resp *m);
int rum__wire_decode_attach_resp(const uint8_t *buf, size_t len, struct rum_msg_attach_resp *m);
int rum__wire_encode_resize_req(uint8_t *buf, size_t cap, const struct rum_msg_resize_req *m);
int rum__wire_decode_resize_req(const uint8_t *buf, size_t len, struct rum_msg_resize_req *m);
int rum__wire_encode_discard_req(uint8_t *buf, size_t cap, const struct rum_msg_discard_req *m);
int rum__wire_decode_discard_req(const uint8_t *buf, size_t len, struct rum_msg_discard_req *m);
int rum__wire_encode_copy_req(uint8_t *buf, size_t cap, const struct rum_msg_copy_req *m);
int rum__wire_decode_copy_req(const uint8_t *buf, size_t len, struct rum_msg_copy_req *m);
int rum__wire_encode_regions_req(uint8_t *buf, size_t cap, const struct rum_msg_regions_req *m);
int rum__wire_decode_regions_req(const uint8_t *buf, size_t len, struct rum_msg_regions_req *m);
int rum__wire_encode_regions_resp(uint8_t *buf, size_t cap, const struct rum_msg_regions_resp *m);
int rum__wire_decode_regions_resp(const uint8_t *buf, size_t len, struct rum_msg_regions_resp *m);

/* A region name is valid if it has 1..RUM_WIRE_NAME_MAX bytes, all printable ASCII
 * 0x21..0x7e. */
bool rum__wire_name_valid(const char *name, size_t len);

/* A named region's id: a 64-bit hash of the name with the top bit set, so it never
 * collides with client-chosen ids (which have it clear). */
uint64_t rum__wire_named_region_id(const char *name, size_t len);

#endif
