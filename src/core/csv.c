/* csv.c - the streaming CSV reader. */
#include "scrm/core_csv.h"

#include "scrm/util.h"

#include <stdlib.h>
#include <string.h>

void csv_init(struct csv_reader *r, FILE *f)
{
	memset(r, 0, sizeof *r);
	r->f = f;
	r->next_line = 1;
}

void csv_clear(struct csv_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
}

static int rd(struct csv_reader *r)
{
	return r->nback ? r->back[--r->nback] : getc(r->f);
}

static void unrd(struct csv_reader *r, int c)
{
	if (c != EOF && r->nback < sizeof r->back)
		r->back[r->nback++] = (unsigned char)c;
}

static bool put(struct csv_reader *r, size_t *len, char c)
{
	if (*len + 1 >= CSV_MAX_RECORD)
		return false;
	if (*len + 1 >= r->cap) {
		r->cap = r->cap ? r->cap * 2 : 4096;
		r->buf = xrealloc(r->buf, r->cap);
	}
	r->buf[(*len)++] = c;
	return true;
}

/* Skip to the start of the next line after a malformed record. */
static void skip_line(struct csv_reader *r)
{
	int c;
	while ((c = rd(r)) != EOF && c != '\n')
		;
	if (c == '\n')
		r->next_line++;
}

int csv_next(struct csv_reader *r, const char **why)
{
	for (;;) {
		size_t len = 0, starts[CSV_MAX_FIELDS];
		size_t nf = 0;
		bool quoted = false, after_quote = false, any = false;
		int c;
		r->line = r->next_line;
		if (!r->started) {
			r->started = true;
			int b0 = rd(r), b1 = b0 == 0xEF ? rd(r) : EOF,
			    b2 = b1 == 0xBB ? rd(r) : EOF;
			if (!(b0 == 0xEF && b1 == 0xBB && b2 == 0xBF)) {
				unrd(r, b2);
				unrd(r, b1);
				unrd(r, b0);
			}
		}
		starts[nf++] = 0;
		for (;;) {
			c = rd(r);
			if (c == EOF) {
				if (quoted) {
					*why = "a quoted field is not closed before the end of the "
					       "file";
					return -1;
				}
				if (!any)
					return 0;
				break;
			}
			any = true;
			if (quoted) {
				if (c == '"') {
					int d = rd(r);
					if (d == '"') {
						if (!put(r, &len, '"'))
							goto too_long;
						continue;
					}
					unrd(r, d);
					quoted = false;
					after_quote = true;
					continue;
				}
				if (c == '\n')
					r->next_line++;
				if (!put(r, &len, (char)c))
					goto too_long;
				continue;
			}
			if (c == '\r') {
				int d = rd(r);
				if (d != '\n')
					unrd(r, d);
				c = '\n';
			}
			if (c == '\n') {
				r->next_line++;
				break;
			}
			if (c == ',') {
				if (!put(r, &len, '\0'))
					goto too_long;
				if (nf >= CSV_MAX_FIELDS) {
					*why = "a record has more than 256 fields";
					skip_line(r);
					return -1;
				}
				starts[nf++] = len;
				after_quote = false;
				continue;
			}
			if (c == '"') {
				if (len != starts[nf - 1] || after_quote) {
					*why =
					    "a quote appears inside an unquoted field; quote the "
					    "field and double the quote";
					skip_line(r);
					return -1;
				}
				quoted = true;
				continue;
			}
			if (after_quote) {
				*why = "text follows a closing quote; a quoted field must end at a "
				       "comma";
				skip_line(r);
				return -1;
			}
			if (!put(r, &len, (char)c))
				goto too_long;
		}
		if (!put(r, &len, '\0'))
			goto too_long;
		/* a line with nothing on it is not a record */
		if (nf == 1 && len == 1 && !after_quote)
			continue;
		r->nfields = nf;
		for (size_t i = 0; i < nf; i++)
			r->fields[i] = r->buf + starts[i];
		return 1;
	too_long:
		*why = "a record is longer than 1 MiB";
		skip_line(r);
		return -1;
	}
}
