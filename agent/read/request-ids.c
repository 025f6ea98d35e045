/* request-ids.c: event id to request id; see request-ids.h. */
#include "request-ids.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"

void
request_ids_init(struct request_ids *m)
{
	memset(m, 0, sizeof(*m));
}

void
request_ids_finish(struct request_ids *m)
{
	for (size_t i = 0; i < m->n_slots; i++) {
		free(m->slots[i].request_id);
	}
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

/* Event ids are SHA-256 prefixes: their first bytes are a hash already. */
static size_t
home(const uint8_t id[16], size_t n_slots)
{
	uint64_t h;

	memcpy(&h, id, sizeof(h));
	return (size_t)h & (n_slots - 1);
}

/* The slot holding id, or NULL. */
static struct request_id_slot *
find(const struct request_ids *m, const uint8_t id[16])
{
	if (m->n_slots == 0) {
		return NULL;
	}
	for (size_t i = home(id, m->n_slots), k = 0; k < m->n_slots;
	     i = (i + 1) & (m->n_slots - 1), k++) {
		struct request_id_slot *s = &m->slots[i];
		if (s->request_id == NULL && !s->tomb) {
			return NULL;
		}
		if (s->request_id != NULL && memcmp(s->event_id, id, 16) == 0) {
			return s;
		}
	}
	return NULL;
}

/* Rehash into n slots (live entries only). */
static int
grow(struct request_ids *m, size_t n)
{
	struct request_id_slot *slots = calloc(n, sizeof(*slots));

	if (slots == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->n_slots; i++) {
		struct request_id_slot *s = &m->slots[i];
		if (s->request_id == NULL) {
			continue;
		}
		size_t j = home(s->event_id, n);
		while (slots[j].request_id != NULL) {
			j = (j + 1) & (n - 1);
		}
		slots[j] = *s;
	}
	free(m->slots);
	m->slots = slots;
	m->n_slots = n;
	m->used = m->live;
	return 0;
}

int
request_ids_put(struct request_ids *m, const uint8_t event_id[16], const char *request_id)
{
	size_t i;
	char *copy;
	int r;

	if (!am_request_id_valid(request_id)) {
		return -EINVAL;
	}
	if (find(m, event_id) != NULL) {
		return 0;
	}
	if (m->live >= REQUEST_IDS_MAX) {
		return -ENOSPC;
	}
	/* at most half full, tombstones counted */
	if (2 * (m->used + 1) > m->n_slots) {
		size_t n = m->n_slots ? m->n_slots : 64;
		while (2 * (m->live + 1) > n) {
			n *= 2;
		}
		if ((r = grow(m, n)) < 0) {
			return r;
		}
	}
	copy = strdup(request_id);
	if (copy == NULL) {
		return -ENOMEM;
	}
	for (i = home(event_id, m->n_slots); m->slots[i].request_id != NULL;
	     i = (i + 1) & (m->n_slots - 1)) {
	}
	if (!m->slots[i].tomb) {
		m->used++;
	}
	memcpy(m->slots[i].event_id, event_id, 16);
	m->slots[i].request_id = copy;
	m->slots[i].tomb = false;
	m->live++;
	return 0;
}

const char *
request_ids_get(const struct request_ids *m, const uint8_t event_id[16])
{
	const struct request_id_slot *s = find(m, event_id);

	return s != NULL ? s->request_id : NULL;
}

void
request_ids_del(struct request_ids *m, const uint8_t event_id[16])
{
	struct request_id_slot *s = find(m, event_id);

	if (s != NULL) {
		free(s->request_id);
		s->request_id = NULL;
		s->tomb = true;
		m->live--;
	}
}
