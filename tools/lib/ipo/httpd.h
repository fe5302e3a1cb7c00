/* httpd.h - a small HTTP/1.1 server on one loopback port, for the review
 * page: one thread, a poll loop, keep-alive, whole requests handed to the
 * caller's handler (no chunked bodies: browsers send Content-Length).
 * Because any web page the browser has open can reach 127.0.0.1, a request
 * whose Host is not this address and port is refused (403: no DNS
 * rebinding), and so is a POST that is not application/json (415: a form
 * of another site cannot post one without a CORS preflight, which is
 * never answered).  Nothing here prints. */
#ifndef MLDE_IPO_HTTPD_H
#define MLDE_IPO_HTTPD_H

#include <stddef.h>

#include "base/err.h"

/* Limits of one request. */
#define MLDE_HTTPD_HEAD_MAX 16384
#define MLDE_HTTPD_BODY_MAX (1 << 20)
#define MLDE_HTTPD_CONN_MAX 32

typedef struct mlde_httpd mlde_httpd;

typedef struct mlde_httpd_req {
	const char *method;    /* "GET", "POST", ... */
	const char *path;      /* the target, query string included */
	const char *body;      /* NUL-terminated */
	size_t body_len;
} mlde_httpd_req;

typedef struct mlde_httpd_resp {
	int status;            /* 200 unless set */
	const char *type;      /* Content-Type; NULL: application/json */
	char *body;            /* malloc'd by the handler; the server frees it */
	size_t len;
} mlde_httpd_resp;

typedef void mlde_httpd_handler(void *ctx, const mlde_httpd_req *req, mlde_httpd_resp *resp);

/* Listen on 127.0.0.1:port (0: any free port).  NULL with err
 * (MLDE_EXIT_IO: the port is taken, or no socket). */
mlde_httpd *mlde_httpd_open(int port, mlde_error *err);
/* The port listened on. */
int mlde_httpd_port(const mlde_httpd *s);
/* Serve for at most wait_ms: accept, read, hand whole requests to h, write
 * answers.  Returns the number of requests handled, or -1 with err when
 * poll itself fails (EINTR is 0: a signal ends the wait). */
int mlde_httpd_poll(mlde_httpd *s, int wait_ms, mlde_httpd_handler *h, void *ctx,
		    mlde_error *err);
void mlde_httpd_free(mlde_httpd *s);

#endif
