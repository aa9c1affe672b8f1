/*
 * samba-ca persistent-handle core: the C API.
 *
 * This is the only header the C glue includes from the C++ core.  It carries
 * plain data and opaque handles; no C++ type and no exception crosses it.
 *
 * The core does no I/O and reads no clock: the glue supplies the store (a
 * table of callbacks over a local TDB or a CTDB database) and the current
 * time (unix microseconds) on every call that needs it.
 *
 * Strings are NUL-terminated UTF-8.  Pointers handed to the core are only
 * read during the call.  Pointers handed out by pcore_record_view() stay valid
 * until the record is freed.
 */
#ifndef SAMBA_CA_PERSISTENT_CORE_H
#define SAMBA_CA_PERSISTENT_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version string of the core library, for log lines. */
const char *pcore_version(void);

/*
 * Every failure of the core.  pcore_status_string() names each one; the glue
 * maps them to NTSTATUS in one place (see pcore_ntstatus.h).
 */
typedef enum pcore_status {
	PCORE_OK = 0,
	/* Reconnect/replay lookups ([MS-SMB2] 3.3.5.9.10, 3.3.5.9.12). */
	PCORE_NOT_FOUND,               /* no record for the id / create GUID */
	PCORE_EXPIRED,                 /* disconnected longer than its timeout */
	PCORE_CREATE_GUID_MISMATCH,    /* record's create GUID differs */
	PCORE_CLIENT_GUID_MISMATCH,    /* leased open, other client GUID */
	PCORE_LEASE_MISMATCH,          /* lease presence or lease key differs */
	PCORE_PERSISTENT_FLAG_MISMATCH,/* DH2C without the persistent flag */
	PCORE_USER_MISMATCH,           /* owner SID differs */
	PCORE_SHARE_MISMATCH,          /* reconnect on another share */
	PCORE_NOT_DISCONNECTED,        /* the open is still connected */
	PCORE_NOT_CONNECTED,           /* disconnect of a disconnected open */
	PCORE_ALREADY_EXISTS,          /* grant of an id or create GUID in use */
	PCORE_FILE_NOT_AVAILABLE,      /* a disconnected persistent open holds it */
	PCORE_BREAK_PENDING,           /* it waits for the absent owner to
					  acknowledge a break of its lease */
	/* Arguments and records. */
	PCORE_INVALID_PARAMETER,       /* an argument fails the record's checks */
	PCORE_CORRUPT_RECORD,          /* a stored record fails its checks */
	PCORE_UNKNOWN_VERSION,         /* a stored record of a format we lack */
	PCORE_LOCK_NOT_FOUND,          /* unlock of a range not locked */
	PCORE_TOO_MANY_LOCKS,          /* the record's lock list is full */
	/* The store. */
	PCORE_STORE_FULL,
	PCORE_STORE_READ_ONLY,
	PCORE_STORE_IO_ERROR,
	PCORE_STORE_CONFLICT,          /* a concurrent update won; retry */
	PCORE_NO_MEMORY,
	PCORE_INTERNAL_ERROR,
	PCORE_STATUS_COUNT             /* not a status: the number of them */
} pcore_status;

/* A constant message for a status, never NULL. */
const char *pcore_status_string(pcore_status status);
/* The store status for a failed file operation's errno (full, read-only...). */
pcore_status pcore_status_from_errno(int err);

/* ---- Limits of a record (checked on grant and on every read). ---- */
#define PCORE_GUID_SIZE 16
#define PCORE_LOCK_SEQUENCE_ENTRIES 64 /* [MS-SMB2] 3.3.1.10 */
#define PCORE_LOCK_SEQUENCE_INVALID 0xFF
#define PCORE_MAX_SID_LEN 190         /* "S-1-..." with 15 sub-authorities */
#define PCORE_MAX_SHARE_NAME_LEN 256  /* bytes, without the NUL */
#define PCORE_MAX_PATH_LEN 4096       /* bytes, without the NUL */
#define PCORE_MAX_LOCKS 4096
#define PCORE_MAX_STREAM_NAME_LEN 1024 /* bytes, ":name:$DATA" */
#define PCORE_MIN_TIMEOUT_MS 1
#define PCORE_MAX_TIMEOUT_MS (24u * 3600u * 1000u)

/* Values as on the wire ([MS-SMB2] 2.2.13, 2.2.13.2.8). */
#define PCORE_OPLOCK_NONE 0x00
#define PCORE_OPLOCK_II 0x01
#define PCORE_OPLOCK_EXCLUSIVE 0x08
#define PCORE_OPLOCK_BATCH 0x09
#define PCORE_OPLOCK_LEASE 0xFF
#define PCORE_LEASE_READ 0x01
#define PCORE_LEASE_HANDLE 0x02
#define PCORE_LEASE_WRITE 0x04

enum pcore_open_state {
	PCORE_STATE_CONNECTED = 1,
	PCORE_STATE_DISCONNECTED = 2,
};

enum pcore_lock_type {
	PCORE_LOCK_SHARED = 0,
	PCORE_LOCK_EXCLUSIVE = 1,
};

/* One byte-range lock held by the open. */
struct pcore_lock {
	uint64_t offset;
	uint64_t length;
	uint32_t type;          /* enum pcore_lock_type */
	uint32_t lock_sequence; /* LockSequence of the request, 0 if none */
};

/* What smbd identifies a file by (Samba's struct file_id). */
struct pcore_file_id {
	uint64_t devid;
	uint64_t inode;
	uint64_t extid;
};

/* The smbd that serves the open (Samba's struct server_id, reduced). */
struct pcore_server_id {
	uint32_t vnn;
	uint64_t pid;
	uint64_t unique_id;
};

/* What a replayed create is answered with ([MS-SMB2] 2.2.14). */
struct pcore_create_reply {
	uint16_t channel_sequence;
	uint32_t create_action; /* FILE_SUPERSEDED (0) .. FILE_OVERWRITTEN (3) */
	uint64_t creation_time; /* NTTIME */
	uint64_t last_access_time;
	uint64_t last_write_time;
	uint64_t change_time;
	uint64_t allocation_size;
	uint64_t end_of_file;
	uint32_t file_attributes;
	uint32_t maximal_access;
};

/*
 * A persistent open, as granted and as read back.  On grant, state,
 * disconnect_time_us and sequence are ignored (a grant is connected, sequence
 * 1) and lock_sequence must be all PCORE_LOCK_SEQUENCE_INVALID or valid
 * numbers 0..15.
 */
struct pcore_open {
	uint64_t persistent_id; /* nonzero; the store key */
	uint64_t volatile_id;
	uint8_t create_guid[PCORE_GUID_SIZE]; /* nonzero */
	uint8_t client_guid[PCORE_GUID_SIZE];
	uint8_t oplock_level;  /* PCORE_OPLOCK_* */
	uint8_t lease_version; /* 0 without a lease, else 1 or 2 */
	uint8_t lease_key[PCORE_GUID_SIZE];
	uint32_t lease_state;  /* PCORE_LEASE_* bits */
	uint16_t lease_epoch;
	const char *owner_sid;  /* "S-1-5-21-..." */
	const char *share_name; /* nonempty */
	const char *path;       /* relative to the share, nonempty */
	struct pcore_server_id owner;
	uint32_t access_mask;
	uint32_t share_access; /* FILE_SHARE_* bits (0..7) */
	uint32_t create_disposition; /* FILE_SUPERSEDE (0) .. FILE_OVERWRITE_IF (5) */
	uint32_t create_options;
	uint32_t timeout_ms;   /* PCORE_MIN_TIMEOUT_MS .. PCORE_MAX_TIMEOUT_MS */
	uint32_t state;        /* enum pcore_open_state */
	uint64_t disconnect_time_us; /* unix us; 0 while connected */
	uint64_t sequence;     /* bumped by every update of the record */
	const struct pcore_lock *locks;
	uint32_t num_locks;
	uint8_t lock_sequence[PCORE_LOCK_SEQUENCE_ENTRIES];
	struct pcore_create_reply reply;
	/*
	 * The file: a reconnect or a restore reattaches only to it, and
	 * conflicts are found by it, whichever share reaches the file.
	 * has_identity is 0 in a record of a store written before identities
	 * were kept (its file is known by share_name and path only); a grant
	 * must carry one.
	 */
	int has_identity;
	struct pcore_file_id file_id; /* as the share's VFS computes it */
	uint64_t birth_time;          /* NTTIME; 0 if the file system has none */
	const char *stream_name;      /* NULL or "" for the base file */
	/*
	 * The file is to be deleted when the open's last handle closes or
	 * the open expires: set on the open by a SET_INFO
	 * (FileDispositionInformation).  A create's FILE_DELETE_ON_CLOSE is
	 * in create_options.  0 in a record of a store written before it
	 * was kept.
	 */
	int delete_on_close;
};

/* ---- The store: callbacks the glue fills (local TDB, CTDB). ---- */

/* Called by fetch with the value; the value is valid during the call only. */
typedef void (*pcore_parser_fn)(const uint8_t *value, size_t value_len,
				void *parser_data);
/* Called by traverse for each record; return nonzero to stop. */
typedef int (*pcore_traverse_fn)(const uint8_t *key, size_t key_len,
				 const uint8_t *value, size_t value_len,
				 void *traverse_data);

/*
 * Every callback returns PCORE_OK or one of the PCORE_STORE_* statuses
 * (fetch: PCORE_NOT_FOUND for a missing key).  The core brackets every update
 * in transaction_start .. transaction_commit (or _cancel); commit with sync
 * set must not return before the data is on stable storage.  Transactions do
 * not nest.
 */
struct pcore_store_ops {
	void *private_data;
	pcore_status (*fetch)(void *private_data, const uint8_t *key,
			      size_t key_len, pcore_parser_fn parser,
			      void *parser_data);
	pcore_status (*store)(void *private_data, const uint8_t *key,
			      size_t key_len, const uint8_t *value,
			      size_t value_len);
	pcore_status (*remove)(void *private_data, const uint8_t *key,
			       size_t key_len);
	pcore_status (*traverse)(void *private_data, pcore_traverse_fn fn,
				 void *traverse_data);
	pcore_status (*transaction_start)(void *private_data);
	pcore_status (*transaction_commit)(void *private_data, int sync);
	pcore_status (*transaction_cancel)(void *private_data);
	/*
	 * Optional (NULL: not offered).  Empty the store by throwing its
	 * file away and opening a new one, outside any transaction; used
	 * when the store is rebuilt from its journal and may be damaged.
	 */
	pcore_status (*wipe)(void *private_data);
	/*
	 * Optional.  Called with enter=1 before and enter=0 after the
	 * journal opens or creates files (reopening it after another
	 * process compacted it, compacting it), which can happen while the
	 * process acts as a connected user: the glue becomes root.
	 */
	void (*privileged)(void *private_data, int enter);
	/*
	 * Optional.  Empty the store in place: the file stays the one other
	 * processes have open.  Used when a journaled store is rebuilt while
	 * other processes use it (an update was cut short by a crash).
	 * NULL: every key is deleted in one transaction.
	 */
	pcore_status (*clear)(void *private_data);
	/*
	 * Optional.  Where the core reports what no caller asked for: the
	 * rebuild of a journaled store's lookup copy found after attaching.
	 */
	void (*log)(void *private_data, const char *message);
};

struct pcore_store;
struct pcore_table;
struct pcore_record;

/* The ops are copied; every callback must be set. */
pcore_status pcore_store_new(const struct pcore_store_ops *ops,
			     struct pcore_store **store_out);
void pcore_store_free(struct pcore_store *store);

/*
 * The journal of a local store (journal.h): an append-only, checksummed
 * file with one synced append per update, so that the store can run
 * without syncs of its own.  Attaching decides, under the journal's lock,
 * what the store is worth:
 * - CREATED: the journal was new or empty; it is written from the store's
 *   contents (a fresh store, or one of a version without a journal);
 * - TRUSTED: the store was last matched with the journal during this boot
 *   (boot_id_path holds the running kernel's boot id): an smbd restart
 *   or crash, where unsynced store writes are still in the page cache;
 * - REBUILT: another boot (the store's unsynced writes may be lost or
 *   torn) or an unreadable store: the store is wiped and refilled from
 *   the journal, which is then compacted.
 * The journal is a wrapper around the store (journaled_store.h): attach
 * it before any table is made on the store.
 * report->problem names the first bad journal entry skipped, or on
 * failure what failed.  A journal with a bad header or an unknown version
 * is an error (PCORE_CORRUPT_RECORD, PCORE_UNKNOWN_VERSION): nothing is
 * changed, the caller must not use the store.
 */
enum pcore_journal_action {
	PCORE_JOURNAL_TRUSTED = 0,
	PCORE_JOURNAL_CREATED = 1,
	PCORE_JOURNAL_REBUILT = 2,
};

struct pcore_journal_report {
	uint32_t action;        /* enum pcore_journal_action */
	uint64_t entries;       /* journal entries replayed (REBUILT) */
	uint64_t skipped_bytes; /* bytes of bad or torn entries passed over */
	uint64_t keys;          /* keys in the store afterwards */
	char problem[256];
	char reason[256];       /* REBUILT: why the store was not trusted */
};

pcore_status pcore_store_attach_journal(struct pcore_store *store,
					const char *journal_path,
					const char *boot_id_path,
					struct pcore_journal_report *report);

/* The table uses the store, which must outlive it. */
/*
 * Every key and value of the store (through its journal, when attached:
 * under the journal's lock).  fn returns nonzero to stop.
 */
pcore_status pcore_store_traverse(struct pcore_store *store,
				  pcore_traverse_fn fn, void *traverse_data);

pcore_status pcore_table_new(struct pcore_store *store,
			     struct pcore_table **table_out);
void pcore_table_free(struct pcore_table *table);

/*
 * A sentence on the last failure of a call on this table (which record,
 * which field), for the log line; "" after success.
 */
const char *pcore_table_last_error(const struct pcore_table *table);

/*
 * Store a new connected record, synced, before the create is answered.
 * PCORE_OK means the open is persistent; anything else means it is not, and
 * nothing was stored.
 */
pcore_status pcore_grant(struct pcore_table *table,
			 const struct pcore_open *open);

/* Mark the open disconnected at now_us (its timeout starts). */
pcore_status pcore_disconnect(struct pcore_table *table,
			      uint64_t persistent_id, uint64_t now_us);

/*
 * A record of an smbd that died is still "connected": when the glue learns of
 * the death (cleanupd, a CTDB node going away) it disconnects every open of
 * that smbd, or with whole_node set of every smbd on dead->vnn, as of now_us.
 * *count gets the number of opens disconnected.
 */
pcore_status pcore_disconnect_server(struct pcore_table *table,
				     const struct pcore_server_id *dead,
				     int whole_node, uint64_t now_us,
				     uint32_t *count);

/* A DH2C ([MS-SMB2] 3.3.5.9.12) as the glue parsed it. */
struct pcore_reconnect_request {
	uint64_t persistent_id;
	uint8_t create_guid[PCORE_GUID_SIZE];
	uint8_t client_guid[PCORE_GUID_SIZE]; /* of the new connection */
	int persistent_flag;  /* SMB2_DHANDLE_FLAG_PERSISTENT was set */
	int has_lease;        /* the create carried a lease context */
	uint8_t lease_key[PCORE_GUID_SIZE];
	uint8_t lease_version; /* of that context: 1 or 2 */
	const char *owner_sid;  /* the session's user */
	const char *share_name; /* the tree connect's share */
	struct pcore_server_id new_owner;
	uint64_t new_volatile_id;
};

/*
 * Check a reconnect and, if every check passes, mark the record connected to
 * new_owner (synced) and return it.  On failure the record is unchanged and
 * the status names the first check that failed.
 */
pcore_status pcore_reconnect(struct pcore_table *table,
			     const struct pcore_reconnect_request *req,
			     uint64_t now_us, struct pcore_record **record_out);

/*
 * The open a replayed create refers to ([MS-SMB2] 3.3.5.9.10): same create
 * GUID and same client GUID; PCORE_NOT_FOUND otherwise.
 */
pcore_status pcore_lookup_replay(struct pcore_table *table,
				 const uint8_t create_guid[PCORE_GUID_SIZE],
				 const uint8_t client_guid[PCORE_GUID_SIZE],
				 struct pcore_record **record_out);

/* Read a record by persistent id. */
pcore_status pcore_fetch(struct pcore_table *table, uint64_t persistent_id,
			 struct pcore_record **record_out);

/*
 * Remove the record (close, or after expiry released everything).  Not
 * synced unless pcore_table_set_sync_release() said so: the store's next
 * synced update makes it durable, and a release lost in a power loss
 * brings the open back as disconnected until its timeout.
 */
pcore_status pcore_release(struct pcore_table *table, uint64_t persistent_id);
void pcore_table_set_sync_release(struct pcore_table *table, int sync);

/*
 * [MS-SMB2] 3.3.5.14 before a lock request: *is_replay is set to 1 when the
 * entry at the request's LockSequenceIndex is valid with the same number
 * (answer success, do nothing); otherwise to 0, and a valid entry with another
 * number is invalidated (stored).  Index 0 or above 64 is no replay.
 */
pcore_status pcore_lock_sequence_check(struct pcore_table *table,
				       uint64_t persistent_id,
				       uint32_t lock_sequence, int *is_replay);

/*
 * After a successful lock/unlock: add or remove the range and record
 * lock_sequence (0: none) in the sequence array, in one synced update.
 */
pcore_status pcore_lock_add(struct pcore_table *table, uint64_t persistent_id,
			    const struct pcore_lock *lock,
			    uint32_t lock_sequence);
pcore_status pcore_lock_remove(struct pcore_table *table,
			       uint64_t persistent_id, uint64_t offset,
			       uint64_t length, uint32_t lock_sequence);

/*
 * [MS-SMB2] 3.3.5.14: a LOCK request with this LockSequence field (index
 * in bits 4..31, 1..64; number in bits 0..3) succeeded: the entry is
 * stored (synced), so that a replay after a crash or a restart is
 * answered once.
 */
pcore_status pcore_set_lock_sequence(struct pcore_table *table,
				     uint64_t persistent_id,
				     uint32_t lock_sequence);

/* A lease break or oplock change. */
pcore_status pcore_update_lease(struct pcore_table *table,
				uint64_t persistent_id, uint8_t oplock_level,
				uint32_t lease_state, uint16_t lease_epoch);

/*
 * A rename through smbd of the open's file: the record's path (relative to
 * its share) follows, synced.  PCORE_INVALID_PARAMETER for a record of an
 * older store without a file identity.
 */
pcore_status pcore_update_path(struct pcore_table *table,
			       uint64_t persistent_id, const char *path);

/*
 * A SET_INFO (FileDispositionInformation) on the open: delete_on_close
 * nonzero, the file is to be deleted when its last handle closes or the
 * open expires; zero, no longer.  Synced, before the SET_INFO is answered;
 * a repeat of the stored value writes nothing.
 */
pcore_status pcore_set_delete_on_close(struct pcore_table *table,
				       uint64_t persistent_id,
				       int delete_on_close);

/*
 * Another client's open of a file a disconnected persistent open holds
 * (the glue has found `held` by the file's identity).  access_mask has
 * generic bits mapped to file rights; client_guid NULL for an open of
 * smbd's own.
 */
struct pcore_open_request {
	uint32_t access_mask;
	uint32_t share_access;
	uint32_t create_disposition;
	const uint8_t *client_guid;
	int has_lease;
	uint8_t lease_key[PCORE_GUID_SIZE];
};

/*
 * PCORE_OK: no conflict (an attribute-only open, the owner's own lease,
 * share modes that agree and no caching to break);
 * PCORE_FILE_NOT_AVAILABLE: the held share mode denies it, or its share
 * mode denies the held open, or it would have to break caching the absent
 * owner cannot give up (write caching, or any caching for an overwrite or
 * supersede) and the owner holds no lease with Handle caching;
 * PCORE_BREAK_PENDING: the share modes agree, and the open needs a break of
 * the owner's lease with Handle caching: the open waits until the owner
 * comes back and acknowledges the break, or its handle expires; it is
 * neither refused nor granted before ([MS-SMB2] 3.3.4.7, 3.3.5.9).
 */
pcore_status pcore_open_conflict(const struct pcore_open *held,
				 const struct pcore_open_request *req);

/*
 * 1 if a lock [offset, offset + length) (exclusive or shared) conflicts
 * with a byte-range lock of `held`; shared locks share; zero-length
 * ranges overlap nothing.
 */
int pcore_lock_conflict(const struct pcore_open *held, uint64_t offset,
			uint64_t length, int exclusive);

/*
 * A new open of share_name/path by someone else: PCORE_FILE_NOT_AVAILABLE if
 * a disconnected, unexpired persistent open holds the file ([MS-SMB2]
 * 3.3.5.9), PCORE_OK otherwise.  Scans the store.
 */
pcore_status pcore_check_open_conflict(struct pcore_table *table,
				       const char *share_name,
				       const char *path, uint64_t now_us);

/*
 * Visit every record that needs the glue's attention: status PCORE_EXPIRED
 * for a disconnected open past its timeout (release its share mode, locks
 * and lease, then pcore_release() it), PCORE_CORRUPT_RECORD or
 * PCORE_UNKNOWN_VERSION for a record that fails its checks (message says
 * why).  Nothing is removed by the sweep itself.
 */
typedef void (*pcore_sweep_fn)(uint64_t persistent_id, pcore_status status,
			       const char *message, void *sweep_data);
pcore_status pcore_sweep(struct pcore_table *table, uint64_t now_us,
			 pcore_sweep_fn fn, void *sweep_data);

/*
 * The persistent ids of the records of share_name/path, from the path index
 * (one key read, no traverse; written with each grant and release in the
 * same transaction).  fn is called for each; nonzero from fn stops.  An id
 * may name a record that is gone: the caller's fetch finds nothing.
 */
typedef int (*pcore_id_fn)(uint64_t persistent_id, void *id_data);
pcore_status pcore_path_ids(struct pcore_table *table, const char *share_name,
			    const char *path, pcore_id_fn fn, void *id_data);

/*
 * The persistent ids of the records of the file with this identity, from
 * the file index (one key read), whichever share and path granted them.
 * Records without an identity are in the path index (pcore_path_ids).
 */
pcore_status pcore_file_ids(struct pcore_table *table,
			    const struct pcore_file_id *file_id,
			    pcore_id_fn fn, void *id_data);

/*
 * Bring the path index in line with the records (a store written before the
 * index existed; ids left by removed unreadable records).  Traverses the
 * store: for startup, not for every request.  *fixed: entries rewritten.
 */
pcore_status pcore_reindex(struct pcore_table *table, uint32_t *fixed);

/* Fill *view with the record's fields; its pointers live as long as it. */
void pcore_record_view(const struct pcore_record *record,
		       struct pcore_open *view);
void pcore_record_free(struct pcore_record *record);

/*
 * ---- The cookie smbd keeps for a persistent open (cookie.h). ----
 * A header of PCORE_COOKIE_HEADER_SIZE bytes (magic, version, inner length,
 * persistent id), then the inner cookie: the default durable cookie.
 */
#define PCORE_COOKIE_HEADER_SIZE 24

/*
 * Nonzero when the cookie starts with our magic: it is a persistent open's
 * (decode it, refuse it if damaged); zero for a plain durable open's.
 */
int pcore_cookie_is_ours(const uint8_t *cookie, size_t cookie_len);

/*
 * Writes the cookie of persistent_id around inner (NULL if inner_len is 0)
 * into out, which must be exactly PCORE_COOKIE_HEADER_SIZE + inner_len
 * bytes; PCORE_INVALID_PARAMETER otherwise or for an inner cookie over
 * UINT32_MAX bytes.
 */
pcore_status pcore_cookie_encode(uint64_t persistent_id, const uint8_t *inner,
				 size_t inner_len, uint8_t *out,
				 size_t out_len);

/* A decoded cookie: the inner cookie is cookie + inner_offset. */
struct pcore_cookie {
	uint64_t persistent_id;
	size_t inner_offset;
	size_t inner_len;
	char problem[128]; /* on failure, what is wrong; "" on success */
};

/*
 * Checks every field of the cookie: PCORE_CORRUPT_RECORD (too short, no
 * magic, an inner length that does not reach exactly to the end) or
 * PCORE_UNKNOWN_VERSION, with out->problem saying which.
 */
pcore_status pcore_cookie_decode(const uint8_t *cookie, size_t cookie_len,
				 struct pcore_cookie *out);

#ifdef __cplusplus
}
#endif

#endif /* SAMBA_CA_PERSISTENT_CORE_H */
