// Debian's libhttp-parser-dev: the HTTP/1.1 request parser behind the API.
// The parser struct packs its fields into bit-fields; these accessors keep Swift away
// from their layout.
#ifndef SHOAL_CHTTPPARSER_SHIM_H
#define SHOAL_CHTTPPARSER_SHIM_H
#include <http_parser.h>

static inline unsigned shoal_http_method(const http_parser *p) { return p->method; }
static inline unsigned shoal_http_errno(const http_parser *p) { return p->http_errno; }
static inline unsigned shoal_http_is_upgrade(const http_parser *p) { return p->upgrade; }
static inline unsigned short shoal_http_major(const http_parser *p) { return p->http_major; }
static inline unsigned short shoal_http_minor(const http_parser *p) { return p->http_minor; }
static inline void *shoal_http_context(const http_parser *p) { return p->data; }
static inline void shoal_http_set_context(http_parser *p, void *context) { p->data = context; }
#endif
