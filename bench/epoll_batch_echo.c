/* epoll_batch_echo: the one-core limit of the echo benchmarks (W2 in bench/compare), the
 * cheapest echo a single thread can do on Linux: non-blocking sockets, one level-triggered
 * epoll set, and on every readable connection read as much as is there and write it straight
 * back, with no line parsing (bytes in, the same bytes out, so a line split across reads is
 * echoed in two pieces, which a line client cannot tell apart).
 *
 * Reads go into one shared buffer; only what a full socket buffer did not take is copied into
 * the connection's own unsent buffer (allocated when needed, freed when empty), so an idle
 * connection costs its small struct alone. Back-pressure: while a connection's unsent bytes
 * reach the bound (--max-unsent, default 256 KiB) it is not read; it is read again once they are
 * written. No other limits, no timeouts. Same command line as samples/echo's echo_server (its
 * other options are accepted and ignored); prints "listening on HOST:PORT"; exits 0 on SIGINT
 * or SIGTERM. Plain C (C11 + POSIX) so that nothing but the kernel stands between the bytes. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { read_size = 64 * 1024, max_events = 256 };

static const char usage[] =
    "usage: epoll_batch_echo [--host HOST] [--port PORT] [--unix PATH] [--max-unsent BYTES]\n"
    "                        [--max-connections N] [--idle-timeout S] [--codec line]\n"
    "The echo benchmarks' one-core limit: one thread, epoll, read and write back as much as is\n"
    "there, no line parsing. Prints 'listening on HOST:PORT' when ready; exits 0 on SIGINT or\n"
    "SIGTERM.\n"
    "  --host HOST         address to bind (default 127.0.0.1)\n"
    "  --port PORT         TCP port; 0 picks a free one (default 0)\n"
    "  --unix PATH         listen on a Unix socket instead\n"
    "  --max-unsent BYTES  stop reading a connection while this much is unsent (default 262144)\n"
    "  --max-connections, --idle-timeout: accepted for echo_server compatibility, ignored\n"
    "  --codec line        accepted (the bytes are echoed whatever the framing)\n";

struct options {
  const char* host;
  const char* port;
  const char* unix_path;
  size_t max_unsent;
};

/* One connection. `unsent` holds bytes read but not yet written, at [unsent_at, unsent_size). */
struct connection {
  int fd;
  uint32_t events; /* What the epoll set waits for now: EPOLLIN, EPOLLOUT or both. */
  char* unsent;
  size_t unsent_at;
  size_t unsent_size;
  size_t unsent_capacity;
};

static char shared_buffer[read_size];

static void fail_usage(int status) {
  fputs(usage, status == 0 ? stdout : stderr);
  exit(status);
}

static struct options parse(int argc, char** argv) {
  struct options result = {"127.0.0.1", "0", NULL, 256 * 1024};
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) fail_usage(0);
    if (i + 1 >= argc) fail_usage(2);
    const char* value = argv[++i];
    if (strcmp(arg, "--host") == 0) {
      result.host = value;
    } else if (strcmp(arg, "--port") == 0) {
      char* end = NULL;
      const long port = strtol(value, &end, 10);
      if (*value == '\0' || *end != '\0' || port < 0 || port > 65535) fail_usage(2);
      result.port = value;
    } else if (strcmp(arg, "--unix") == 0) {
      result.unix_path = value;
    } else if (strcmp(arg, "--max-unsent") == 0) {
      char* end = NULL;
      const unsigned long long bound = strtoull(value, &end, 10);
      if (*value == '\0' || *end != '\0' || bound < 1 || bound > (1ull << 30)) fail_usage(2);
      result.max_unsent = (size_t)bound;
    } else if (strcmp(arg, "--codec") == 0) {
      if (strcmp(value, "line") != 0) fail_usage(2);
    } else if (strcmp(arg, "--max-connections") != 0 && strcmp(arg, "--idle-timeout") != 0) {
      fail_usage(2);
    }
  }
  return result;
}

static void die(const char* what) {
  fprintf(stderr, "epoll_batch_echo: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* Binds and listens as `options` say; prints the "listening on" line. */
static int listen_socket(const struct options* options) {
  if (options->unix_path != NULL) {
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(options->unix_path) >= sizeof address.sun_path) {
      errno = ENAMETOOLONG;
      die(options->unix_path);
    }
    strcpy(address.sun_path, options->unix_path);
    unlink(options->unix_path);
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    if (bind(fd, (struct sockaddr*)&address, sizeof address) != 0) die(options->unix_path);
    if (listen(fd, SOMAXCONN) != 0) die("listen");
    printf("listening on unix:%s\n", options->unix_path);
    fflush(stdout);
    return fd;
  }
  struct addrinfo hints = {
      .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
  struct addrinfo* found = NULL;
  const int resolved = getaddrinfo(options->host, options->port, &hints, &found);
  if (resolved != 0) {
    fprintf(stderr, "epoll_batch_echo: %s: %s\n", options->host, gai_strerror(resolved));
    exit(1);
  }
  const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (bind(fd, found->ai_addr, found->ai_addrlen) != 0) die("bind");
  freeaddrinfo(found);
  if (listen(fd, SOMAXCONN) != 0) die("listen");
  struct sockaddr_storage bound;
  socklen_t bound_size = sizeof bound;
  if (getsockname(fd, (struct sockaddr*)&bound, &bound_size) != 0) die("getsockname");
  char text[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (bound.ss_family == AF_INET6) {
    const struct sockaddr_in6* v6 = (const struct sockaddr_in6*)&bound;
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    port = ntohs(v6->sin6_port);
    printf("listening on [%s]:%u\n", text, port);
  } else {
    const struct sockaddr_in* v4 = (const struct sockaddr_in*)&bound;
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    port = ntohs(v4->sin_port);
    printf("listening on %s:%u\n", text, port);
  }
  fflush(stdout);
  return fd;
}

static void close_connection(struct connection* c) {
  close(c->fd); /* Also removes it from the epoll set. */
  free(c->unsent);
  free(c);
}

/* Makes the epoll set wait for what `c` needs now: input while its unsent bytes are under the
 * bound, output while it has unsent bytes. Returns -1 if epoll_ctl failed. */
static int update_interest(int epoll_fd, struct connection* c, size_t max_unsent) {
  const size_t pending = c->unsent_size - c->unsent_at;
  const uint32_t wanted = (pending < max_unsent ? EPOLLIN : 0u) | (pending > 0 ? EPOLLOUT : 0u);
  if (wanted == c->events) return 0;
  struct epoll_event event = {.events = wanted, .data.ptr = c};
  c->events = wanted;
  return epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &event);
}

/* Keeps bytes[0, size) after what is already unsent. Returns -1 when out of memory. */
static int keep_unsent(struct connection* c, const char* bytes, size_t size) {
  if (c->unsent_at > 0 && c->unsent_at == c->unsent_size) c->unsent_at = c->unsent_size = 0;
  if (c->unsent_size + size > c->unsent_capacity) {
    const size_t pending = c->unsent_size - c->unsent_at;
    if (pending > 0 && c->unsent_at > 0) memmove(c->unsent, c->unsent + c->unsent_at, pending);
    c->unsent_at = 0;
    c->unsent_size = pending;
    if (pending + size > c->unsent_capacity) {
      size_t capacity = c->unsent_capacity ? c->unsent_capacity : read_size;
      while (capacity < pending + size)
        capacity *= 2;
      char* grown = realloc(c->unsent, capacity);
      if (grown == NULL) return -1;
      c->unsent = grown;
      c->unsent_capacity = capacity;
    }
  }
  memcpy(c->unsent + c->unsent_size, bytes, size);
  c->unsent_size += size;
  return 0;
}

/* Writes as much of `c`'s unsent bytes as the socket takes; frees the buffer once it is empty.
 * Returns -1 on a connection error. */
static int flush_unsent(struct connection* c) {
  while (c->unsent_at < c->unsent_size) {
    const ssize_t sent =
        send(c->fd, c->unsent + c->unsent_at, c->unsent_size - c->unsent_at, MSG_NOSIGNAL);
    if (sent < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    c->unsent_at += (size_t)sent;
  }
  free(c->unsent);
  c->unsent = NULL;
  c->unsent_at = c->unsent_size = c->unsent_capacity = 0;
  return 0;
}

/* Reads what is there (up to the bound) and echoes it. Returns -1 when the connection ends. */
static int echo_input(struct connection* c, size_t max_unsent) {
  while (c->unsent_size - c->unsent_at < max_unsent) {
    const ssize_t got = recv(c->fd, shared_buffer, sizeof shared_buffer, 0);
    if (got == 0) return -1;
    if (got < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    size_t taken = 0;
    if (c->unsent_at == c->unsent_size) { /* Nothing queued: straight back, in order. */
      const ssize_t sent = send(c->fd, shared_buffer, (size_t)got, MSG_NOSIGNAL);
      if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return -1;
      taken = sent > 0 ? (size_t)sent : 0;
    }
    if (taken < (size_t)got && keep_unsent(c, shared_buffer + taken, (size_t)got - taken) != 0)
      return -1;
    if ((size_t)got < sizeof shared_buffer) break; /* Drained: no recv just to see EAGAIN. */
  }
  return 0;
}

static void accept_all(int epoll_fd, int listener, int is_tcp) {
  while (1) {
    const int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return; /* EAGAIN, or EMFILE and the like: the next event retries. */
    if (is_tcp) {
      const int on = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on); /* As coronet does. */
    }
    struct connection* c = calloc(1, sizeof *c);
    if (c == NULL) {
      close(fd);
      continue;
    }
    c->fd = fd;
    c->events = EPOLLIN;
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) close_connection(c);
  }
}

int main(int argc, char** argv) {
  const struct options options = parse(argc, argv);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  if (sigprocmask(SIG_BLOCK, &stop_signals, NULL) != 0) die("sigprocmask");
  const int signal_fd = signalfd(-1, &stop_signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd < 0) die("signalfd");

  const int listener = listen_socket(&options);
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) die("epoll_create1");
  /* The listener and the signal descriptor are told apart from connections by these tags. */
  static char listener_tag, signal_tag;
  struct epoll_event event = {.events = EPOLLIN, .data.ptr = &listener_tag};
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &event) != 0) die("epoll_ctl");
  event.data.ptr = &signal_tag;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, signal_fd, &event) != 0) die("epoll_ctl");

  struct epoll_event events[max_events];
  while (1) {
    const int ready = epoll_wait(epoll_fd, events, max_events, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < ready; ++i) {
      void* tag = events[i].data.ptr;
      if (tag == &signal_tag) {
        if (options.unix_path != NULL) unlink(options.unix_path);
        return 0; /* The connections go with the process. */
      }
      if (tag == &listener_tag) {
        accept_all(epoll_fd, listener, options.unix_path == NULL);
        continue;
      }
      struct connection* c = tag;
      int status = 0;
      if (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) status = flush_unsent(c);
      if (status == 0 && (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        status = echo_input(c, options.max_unsent);
      if (status == 0) status = update_interest(epoll_fd, c, options.max_unsent);
      if (status != 0) close_connection(c);
    }
  }
}
