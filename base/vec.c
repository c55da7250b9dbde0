/* vec — pointer array; doubling growth, qsort-based sort. */
#include "base/vec.h"

#include <stdlib.h>

#include "base/buf.h"

void vec_push(struct vec *v, void *item)
{
	if (v->len == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 8;
		v->items = xrealloc(v->items, v->cap * sizeof *v->items);
	}
	v->items[v->len++] = item;
}

void vec_release(struct vec *v, void (*free_item)(void *))
{
	if (free_item)
		for (size_t i = 0; i < v->len; i++)
			free_item(v->items[i]);
	free(v->items);
	v->items = NULL;
	v->len = v->cap = 0;
}

void vec_sort(struct vec *v, int (*cmp)(const void *a, const void *b))
{
	if (v->len > 1)
		qsort(v->items, v->len, sizeof *v->items, cmp);
}

void vec_push_str(struct vec *v, const char *s)
{
	vec_push(v, xstrdup(s));
}

void vec_free_strs(struct vec *v)
{
	vec_release(v, free);
}
