/*
 * vec — a growable array of pointers. The vec owns the array, not the
 * items: vec_release takes an optional destructor to free them too.
 */
#ifndef TARMAC_BASE_VEC_H
#define TARMAC_BASE_VEC_H

#include <stddef.h>

struct vec {
	void **items;
	size_t len;
	size_t cap;
};

#define VEC_INIT { NULL, 0, 0 }

void vec_push(struct vec *v, void *item);
/* Calls free_item (when not NULL) on every item, then frees the array. */
void vec_release(struct vec *v, void (*free_item)(void *));
void vec_sort(struct vec *v, int (*cmp)(const void *a, const void *b));

/* Convenience for vectors of owned C strings. */
void vec_push_str(struct vec *v, const char *s);
void vec_free_strs(struct vec *v);

#endif
