/*
 * The C face of ctdb_handles' core (handles_view.h) for its glue.
 * Strings returned are malloc()ed; the caller frees them.
 */
#ifndef SAMBA_CA_CTDB_HANDLES_VIEW_C_H
#define SAMBA_CA_CTDB_HANDLES_VIEW_C_H

#include <stddef.h>
#include <stdint.h>

#include "persistent_core.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sca_handles;

/* Loads every key through ops (fetch and traverse are used). */
pcore_status sca_handles_load(const struct pcore_store_ops *ops,
			      const uint32_t *nodes, size_t num_nodes,
			      struct sca_handles **out, char **error);
char *sca_handles_list(const struct sca_handles *h);
char *sca_handles_counts(const struct sca_handles *h);
pcore_status sca_handles_show(const struct sca_handles *h, uint64_t id,
			      char **out);
/* 1 if id's record key holds no usable open (corrupt, unknown version). */
int sca_handles_is_bad(const struct sca_handles *h, uint64_t id);
size_t sca_handles_num_problems(const struct sca_handles *h);
void sca_handles_free(struct sca_handles *h);

#ifdef __cplusplus
}
#endif

#endif /* SAMBA_CA_CTDB_HANDLES_VIEW_C_H */
