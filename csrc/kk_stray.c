/* Stray bytes on the shared connections of a multi (kk_multi.c).
 *
 * The multi's connections are shared: bytes a server sent past its answer (a body after a
 * 204, say) wait on an idle connection, and libcurl (7.x) hands that connection to the next
 * transfer of any transport of the multi, which reads them as its own answer. The check
 * kk_transfer.c makes of a blocking handle's one idle connection cannot see them here. So
 * right before a request goes out on a reused connection, that connection is looked at:
 * bytes waiting there abort the transfer (libcurl closes a connection a callback aborted)
 * and kk_multi.c starts it again on a new one. libcurl names the connection by its
 * addresses, not its descriptor, so every socket it opens for the multi is noted. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "kk_internal.h"

#if LIBCURL_VERSION_NUM >= 0x075000 /* 7.80: CURLOPT_PREREQFUNCTION */
static int on_sockopt(void *ud, curl_socket_t fd, curlsocktype purpose) {
  kk_transport *t = (kk_transport *)ud;
  kk_multi *m = t->multi;
  kk_sock *slot = NULL;
  int i;
  (void)purpose;
  for (i = 0; i < m->nsocks && slot == NULL; i++)
    if (m->socks[i].fd == fd) slot = &m->socks[i]; /* a descriptor number used again */
  if (slot == NULL && m->nsocks < KK_MAX_SOCKS) slot = &m->socks[m->nsocks++];
  if (slot == NULL) {
    slot = &m->socks[m->next_sock];
    m->next_sock = (m->next_sock + 1) % KK_MAX_SOCKS;
  }
  slot->fd = fd;
  slot->owner = t;
  slot->serial = t->serial;
  return CURL_SOCKOPT_OK;
}

/* The port of a socket address, its host as text in ip when asked; -1 if not IP. */
static int port_of(const struct sockaddr_storage *a, char *ip, socklen_t iplen) {
  if (a->ss_family == AF_INET) {
    struct sockaddr_in in;
    memcpy(&in, a, sizeof in);
    if (ip && inet_ntop(AF_INET, &in.sin_addr, ip, iplen) == NULL) return -1;
    return ntohs(in.sin_port);
  }
  if (a->ss_family == AF_INET6) {
    struct sockaddr_in6 in6;
    memcpy(&in6, a, sizeof in6);
    if (ip && inet_ntop(AF_INET6, &in6.sin6_addr, ip, iplen) == NULL) return -1;
    return ntohs(in6.sin6_port);
  }
  return -1;
}

/* Is fd (still) the connection from local_port to ip:port? */
static int is_connection(curl_socket_t fd, const char *ip, int port, int local_port) {
  struct sockaddr_storage a;
  socklen_t n = sizeof a;
  char peer[INET6_ADDRSTRLEN];
  if (getsockname(fd, (struct sockaddr *)&a, &n) != 0 || port_of(&a, NULL, 0) != local_port) return 0;
  n = sizeof a;
  if (getpeername(fd, (struct sockaddr *)&a, &n) != 0 || port_of(&a, peer, sizeof peer) != port) return 0;
  return strcmp(peer, ip) == 0;
}

/* NOLINTNEXTLINE(readability-non-const-parameter): libcurl's prototype */
static int on_prereq(void *ud, char *ip, char *local_ip, int port, int local_port) {
  kk_transport *t = (kk_transport *)ud;
  kk_multi *m = t->multi;
  int i;
  (void)local_ip;
  if (t->stray) return CURL_PREREQFUNC_OK; /* restarted on a new connection */
  for (i = 0; i < m->nsocks; i++) {
    kk_sock *s = &m->socks[i];
    if (is_connection(s->fd, ip, port, local_port)) {
      struct pollfd p;
      /* a connection opened for this transfer may hold TLS session tickets: not stray */
      if (s->owner == t && s->serial == t->serial) return CURL_PREREQFUNC_OK;
      p.fd = s->fd;
      p.events = POLLIN;
      p.revents = 0;
      if (poll(&p, 1, 0) == 0) return CURL_PREREQFUNC_OK;
      t->stray = 1;
      return CURL_PREREQFUNC_ABORT;
    }
  }
  return CURL_PREREQFUNC_OK;
}

void kk_stray_watch(kk_transport *t) {
  t->stray = 0;
  t->serial++;
  curl_easy_setopt(t->curl, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
  curl_easy_setopt(t->curl, CURLOPT_SOCKOPTDATA, t);
  curl_easy_setopt(t->curl, CURLOPT_PREREQFUNCTION, on_prereq);
  curl_easy_setopt(t->curl, CURLOPT_PREREQDATA, t);
}

int kk_stray_restarted(kk_multi *m, kk_transport *t, CURLcode rc) {
  if (t->stray != 1 || rc != CURLE_ABORTED_BY_CALLBACK) return 0;
  t->stray = 2;
  t->errbuf[0] = '\0';
  curl_multi_remove_handle(m->m, t->curl);
  curl_easy_setopt(t->curl, CURLOPT_FRESH_CONNECT, 1L);
  return curl_multi_add_handle(m->m, t->curl) == CURLM_OK;
}
#else
void kk_stray_watch(kk_transport *t) { (void)t; }
int kk_stray_restarted(kk_multi *m, kk_transport *t, CURLcode rc) {
  (void)m;
  (void)t;
  (void)rc;
  return 0;
}
#endif
