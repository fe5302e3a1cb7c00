/* httpd.c - the review page's HTTP/1.1 server: a poll loop over a listening
 * socket and its connections (httpd.h). */
#include "ipo/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"

typedef struct conn {
	int fd;
	mlde_buf in;          /* what has come in, not yet handled */
	mlde_buf out;         /* the answer being written */
	size_t sent;          /* of out */
	bool close_after;     /* close once out is written */
} conn;

struct mlde_httpd {
	int fd, port;
	conn conns[MLDE_HTTPD_CONN_MAX];
	size_t nconns;
};

mlde_httpd *mlde_httpd_open(int port, mlde_error *err)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	socklen_t alen = sizeof a;
	mlde_httpd *s;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;

	if (fd < 0) {
		mlde_error_set(err, MLDE_EXIT_IO, "socket: %s", strerror(errno));
		return NULL;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
		mlde_error_set(err, MLDE_EXIT_IO, "127.0.0.1:%d: %s", port, strerror(errno));
		close(fd);
		return NULL;
	}
	s = mlde_xcalloc(1, sizeof *s);
	s->fd = fd;
	s->port = ntohs(a.sin_port);
	return s;
}

int mlde_httpd_port(const mlde_httpd *s)
{
	return s->port;
}

static void conn_close(mlde_httpd *s, size_t i)
{
	close(s->conns[i].fd);
	mlde_buf_free(&s->conns[i].in);
	mlde_buf_free(&s->conns[i].out);
	s->conns[i] = s->conns[--s->nconns];
}

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	default: return "Status";
	}
}

static void answer(conn *c, int status, const char *type, const char *body, size_t len)
{
	mlde_buf_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			"Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n%s\r\n",
			status, status_text(status), type, len,
			c->close_after ? "Connection: close\r\n" : "");
	mlde_buf_add(&c->out, body, len);
}

static void refuse(conn *c, int status, const char *why)
{
	char body[300];
	int n = snprintf(body, sizeof body, "{\"error\":\"%s\"}", why);

	c->close_after = true;
	answer(c, status, "application/json", body, (size_t)n);
}

/* The value of header name in the head (lines after the request line),
 * copied into out; false when absent. */
static bool header(const char *head, const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name);

	for (const char *l = strstr(head, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
		const char *v = l + 2, *end;

		if (strncasecmp(v, name, n) != 0 || v[n] != ':')
			continue;
		v += n + 1;
		v += strspn(v, " \t");
		end = strstr(v, "\r\n");
		snprintf(out, outlen, "%.*s", (int)(end ? end - v : (long)strlen(v)), v);
		return true;
	}
	return false;
}

static bool host_ok(const mlde_httpd *s, const char *host)
{
	char a[64], b[64];

	snprintf(a, sizeof a, "127.0.0.1:%d", s->port);
	snprintf(b, sizeof b, "localhost:%d", s->port);
	return strcmp(host, a) == 0 || strcmp(host, b) == 0;
}

/* One whole request is in c->in (its head ends at head_len): check it,
 * hand it to h, queue the answer, and drop it from c->in. */
static void serve_one(mlde_httpd *s, conn *c, size_t head_len, size_t body_len,
		      mlde_httpd_handler *h, void *ctx)
{
	char *head = c->in.p, method[16], path[2048], version[16], value[256];
	mlde_httpd_req req = { 0 };
	mlde_httpd_resp resp = { .status = 200 };
	char *body = mlde_xmalloc(body_len + 1);
	size_t rest;

	memcpy(body, head + head_len, body_len);
	body[body_len] = '\0';
	head[head_len - 2] = '\0';  /* keep the last header's CRLF for header() */
	if (sscanf(head, "%15s %2047s %15s", method, path, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) != 0) {
		refuse(c, 400, "bad request line");
	} else {
		c->close_after = strcmp(version, "HTTP/1.0") == 0 ||
				 (header(head, "Connection", value, sizeof value) &&
				  strcasecmp(value, "close") == 0);
		if (!header(head, "Host", value, sizeof value) || !host_ok(s, value)) {
			refuse(c, 403, "this server answers only to its own address");
		} else if (strcmp(method, "POST") == 0 &&
			   (!header(head, "Content-Type", value, sizeof value) ||
			    strncasecmp(value, "application/json", 16) != 0)) {
			refuse(c, 415, "POST application/json only");
		} else {
			req.method = method;
			req.path = path;
			req.body = body;
			req.body_len = body_len;
			h(ctx, &req, &resp);
			answer(c, resp.status, resp.type ? resp.type : "application/json",
			       resp.body ? resp.body : "", resp.body ? resp.len : 0);
			free(resp.body);
		}
	}
	free(body);
	rest = c->in.len - head_len - body_len;
	memmove(c->in.p, c->in.p + head_len + body_len, rest);
	c->in.len = rest;
	c->in.p[rest] = '\0';
}

/* Handle what c has brought in: 1 when a request was answered. */
static int take(mlde_httpd *s, conn *c, mlde_httpd_handler *h, void *ctx)
{
	char *end, value[32];
	size_t head_len;
	long body_len = 0;

	if (c->out.len > c->sent || !c->in.p)
		return 0;  /* one answer at a time, in order */
	end = strstr(c->in.p, "\r\n\r\n");
	if (!end) {
		if (c->in.len > MLDE_HTTPD_HEAD_MAX)
			refuse(c, 431, "request head too large");
		return 0;
	}
	head_len = (size_t)(end - c->in.p) + 4;
	if (head_len > MLDE_HTTPD_HEAD_MAX) {
		refuse(c, 431, "request head too large");
		return 0;
	}
	end[2] = '\0';  /* for header(); restored below */
	if (header(c->in.p, "Transfer-Encoding", value, sizeof value)) {
		end[2] = '\r';
		refuse(c, 400, "chunked bodies are not taken");
		return 0;
	}
	if (header(c->in.p, "Content-Length", value, sizeof value)) {
		char *e;

		body_len = strtol(value, &e, 10);
		if (*e || body_len < 0)
			body_len = -1;
	}
	end[2] = '\r';
	if (body_len < 0 || body_len > MLDE_HTTPD_BODY_MAX) {
		refuse(c, body_len < 0 ? 400 : 413, body_len < 0 ? "bad Content-Length"
			: "request body too large");
		return 0;
	}
	if (c->in.len < head_len + (size_t)body_len)
		return 0;
	serve_one(s, c, head_len, (size_t)body_len, h, ctx);
	return 1;
}

static void accept_all(mlde_httpd *s)
{
	for (;;) {
		int fd = accept(s->fd, NULL, NULL);

		if (fd < 0)
			return;
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		if (s->nconns == MLDE_HTTPD_CONN_MAX) {
			close(fd);  /* a browser opens six; more is not a person */
			continue;
		}
		memset(&s->conns[s->nconns], 0, sizeof s->conns[s->nconns]);
		s->conns[s->nconns++].fd = fd;
	}
}

/* Read what there is: false when the connection is over. */
static bool read_some(conn *c)
{
	char buf[65536];
	ssize_t got = read(c->fd, buf, sizeof buf);

	if (got < 0)
		return errno == EAGAIN || errno == EINTR;
	if (got == 0)
		return false;
	if (c->in.len > MLDE_HTTPD_HEAD_MAX + MLDE_HTTPD_BODY_MAX)
		return false;  /* refused already, and still sending */
	mlde_buf_add(&c->in, buf, (size_t)got);
	return true;
}

/* Write what there is: false when the connection is over. */
static bool write_some(conn *c)
{
	ssize_t w = write(c->fd, c->out.p + c->sent, c->out.len - c->sent);

	if (w < 0)
		return errno == EAGAIN || errno == EINTR;
	c->sent += (size_t)w;
	if (c->sent < c->out.len)
		return true;
	mlde_buf_reset(&c->out);
	c->sent = 0;
	return !c->close_after;
}

int mlde_httpd_poll(mlde_httpd *s, int wait_ms, mlde_httpd_handler *h, void *ctx,
		    mlde_error *err)
{
	struct pollfd p[MLDE_HTTPD_CONN_MAX + 1];
	size_t n = s->nconns;
	int handled = 0, got;

	p[0] = (struct pollfd){ .fd = s->fd, .events = POLLIN };
	for (size_t i = 0; i < n; i++)
		p[i + 1] = (struct pollfd){ .fd = s->conns[i].fd,
			.events = s->conns[i].out.len > s->conns[i].sent ? POLLOUT : POLLIN };
	got = poll(p, n + 1, wait_ms);
	if (got < 0) {
		if (errno == EINTR)
			return 0;
		mlde_error_set(err, MLDE_EXIT_IO, "poll: %s", strerror(errno));
		return -1;
	}
	/* from the end, so closing (which moves the last into i) skips nothing */
	for (size_t i = n; i-- > 0;) {
		conn *c = &s->conns[i];
		bool alive = true;

		if (p[i + 1].revents & (POLLERR | POLLNVAL))
			alive = false;
		else if (p[i + 1].revents & POLLOUT)
			alive = write_some(c);
		else if (p[i + 1].revents & (POLLIN | POLLHUP))
			alive = read_some(c);
		while (alive && take(s, c, h, ctx))
			handled++;
		/* answer at once when we can: most answers fit the socket buffer */
		if (alive && c->out.len > c->sent)
			alive = write_some(c);
		if (!alive)
			conn_close(s, i);
	}
	if (p[0].revents & POLLIN)
		accept_all(s);
	return handled;
}

void mlde_httpd_free(mlde_httpd *s)
{
	if (!s)
		return;
	while (s->nconns)
		conn_close(s, s->nconns - 1);
	close(s->fd);
	free(s);
}
