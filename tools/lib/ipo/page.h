/* page.h - the review page mlde-prompt review --serve answers GET / with:
 * one self-contained HTML document (inline CSS and JavaScript, nothing
 * fetched from elsewhere) that shows one item at a time from the server's
 * JSON (GET /state, GET /item/N, GET /image/N) and posts each verdict (POST
 * /verdict) as soon as it is given.  Keys: y correct, n wrong (a reason box
 * offering the reasons seen so far), s skip, right/j next, left/k previous,
 * q quit (the server ends). */
#ifndef MLDE_IPO_PAGE_H
#define MLDE_IPO_PAGE_H

extern const char mlde_review_page[];

#endif
