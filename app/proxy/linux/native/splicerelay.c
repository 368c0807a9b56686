/*
 * Cordon's zero-copy tunnel relay (Linux): moves the bytes of an opaque CONNECT tunnel from one
 * TCP socket to another with splice(2) through a pipe, on one relay thread per Node environment
 * with its own epoll loop. The bytes never enter user space and never wake the JavaScript event
 * loop; the kernel passes page references from the receiving socket to the sending one. Without
 * this addon the proxy relays in JavaScript (app/proxy/relay.ts), copying every byte twice.
 *
 * JavaScript (all calls on the JavaScript thread):
 *   start(onDone)          once; onDone(id, bytes, errno, side) is called on the JavaScript thread
 *                          when a relay ends: errno 0 after the source's end of stream (the sink's
 *                          sending side is then shut down too), else the error that ended it, on
 *                          the source (side 0) or the sink (side 1).
 *   relay(fromFd, toFd)    -> id (> 0), or a negative errno (-ENOTSOCK, -EMFILE, -ENOBUFS when
 *                          the user's pipe quota only allows tiny pipes, ...): then nothing was
 *                          taken and the caller relays the bytes itself. Takes its own duplicates
 *                          of both descriptors, so the caller may close its own at any time; to
 *                          end a relay early, shut the socket down (shutdown() below).
 *                          TCP urgent bytes are stepped over (dropped), as Node's reads do.
 *   shutdown(fd, how)      shutdown(2) of a socket (0 read, 1 write, 2 both) -> 0 or -errno.
 *   active()               relays not yet ended.
 * Ownership: every relay's state belongs to the relay thread; the JavaScript thread only queues new
 * relays (under a mutex, then a write to an eventfd) and learns of ends through a thread-safe call.
 * Built by scripts/build-native.ts against Node-API only (no V8 or libuv ABI).
 * @see splice(2), epoll(7), napi_threadsafe_function
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <unistd.h>

/* A relay's pipe keeps the kernel's default size (16 pages): 64 and 256 KiB measured alike in the
 * proxy bench, and larger pipes count against the user's pipe-user-pages-soft quota. */
#define DEFAULT_PIPE_BYTES 65536
#define MAX_EVENTS 64
/* At most what an empty pipe takes in one write (PIPE_BUF). */
#define URGENT_READ_BYTES 4096
#define CONTROL_TAG ((uint64_t)0)
#define SINK_BIT ((uint64_t)1)

enum { SIDE_SOURCE = 0, SIDE_SINK = 1 };

typedef struct done_msg {
  uint32_t id;
  uint64_t bytes;
  int err;
  int side;
} done_msg;

typedef struct relay {
  uint32_t id;
  int from, to;          /* our duplicates of the caller's descriptors */
  int pipe_r, pipe_w;
  size_t pipe_cap;
  size_t pending;        /* bytes in the pipe, not yet sent */
  uint64_t bytes;        /* bytes sent to `to` */
  int eof;
  int done;
  done_msg *msg;         /* allocated up front: an end is always reported */
  struct relay *next;    /* new-relay queue, the live list, then the ended relays freed after a batch */
  struct relay *prev;    /* the live list only */
} relay;

typedef struct env_state {
  napi_threadsafe_function on_done;
  pthread_t thread;
  int thread_started;
  int epfd;
  int control;           /* eventfd: new relays queued, or stop */
  pthread_mutex_t lock;
  relay *queued;         /* guarded by lock */
  int stopping;          /* guarded by lock */
  int dead;              /* guarded by lock: the thread's loop failed; no new relays */
  uint32_t next_id;      /* JavaScript thread only */
  uint32_t active;       /* JavaScript thread only */
  relay *live;           /* relay thread only: every relay not yet ended (for the env's teardown) */
} env_state;

static napi_value make_int(napi_env env, int64_t value) {
  napi_value out;
  napi_create_int64(env, value, &out);
  return out;
}

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, "ERR_CORDON_SPLICE", message);
  return NULL;
}

static void close_relay_fds(relay *r) {
  if (r->from >= 0) close(r->from);
  if (r->to >= 0) close(r->to);
  if (r->pipe_r >= 0) close(r->pipe_r);
  if (r->pipe_w >= 0) close(r->pipe_w);
  r->from = r->to = r->pipe_r = r->pipe_w = -1;
}

static void link_live(env_state *s, relay *r) {
  r->prev = NULL;
  r->next = s->live;
  if (s->live != NULL) s->live->prev = r;
  s->live = r;
}

static void unlink_live(env_state *s, relay *r) {
  if (r->prev != NULL) r->prev->next = r->next;
  else s->live = r->next;
  if (r->next != NULL) r->next->prev = r->prev;
  r->next = r->prev = NULL;
}

static void free_relay(relay *r) {
  free(r->msg);
  free(r);
}

/* Ends a relay on the relay thread: out of epoll, descriptors closed, JavaScript told. */
static void finish(env_state *s, relay *r, int err, int side, relay **graveyard) {
  if (r->done) return;
  r->done = 1;
  epoll_ctl(s->epfd, EPOLL_CTL_DEL, r->from, NULL);
  epoll_ctl(s->epfd, EPOLL_CTL_DEL, r->to, NULL);
  close_relay_fds(r);
  done_msg *msg = r->msg;
  r->msg = NULL;
  msg->id = r->id;
  msg->bytes = r->bytes;
  msg->err = err;
  msg->side = side;
  /* Fails only while the environment closes (then nobody waits for the answer). */
  if (napi_call_threadsafe_function(s->on_done, msg, napi_tsfn_nonblocking) != napi_ok) free(msg);
  unlink_live(s, r);
  /* Freed after the current batch of events, which may still name it. */
  r->next = *graveyard;
  *graveyard = r;
}

/*
 * splice cannot read past TCP urgent data (tcp_read_sock stops at the mark, and answers EAGAIN
 * for ever). A plain recv() steps over the urgent byte, as Node's own reads do (the urgent byte
 * is dropped, never relayed, in both relays), and what follows it goes into the empty pipe.
 * Returns 1 on progress, 0 when there is nothing to read, -errno on failure.
 */
static int read_past_urgent_mark(relay *r) {
  int at_mark = 0;
  if (ioctl(r->from, SIOCATMARK, &at_mark) != 0 || !at_mark) return 0;
  char buf[URGENT_READ_BYTES];
  ssize_t got = recv(r->from, buf, sizeof buf, MSG_DONTWAIT);
  if (got == 0) {
    r->eof = 1;
    return 1;
  }
  if (got < 0) return errno == EAGAIN || errno == EINTR ? 0 : -errno;
  /* The pipe is empty and holds at least a page: this write is whole and never waits. */
  ssize_t put = write(r->pipe_w, buf, (size_t)got);
  if (put != got) return -EIO;
  r->pending += (size_t)got;
  return 1;
}

/*
 * Moves what it can: source -> pipe while the pipe has room, pipe -> sink while the sink takes it,
 * until neither side makes progress. Edge-triggered epoll wakes it again: every side it waits on
 * last answered EAGAIN (or was skipped because the other side must move first).
 */
static void pump(env_state *s, relay *r, uint32_t sink_events, relay **graveyard) {
  for (;;) {
    int progress = 0;
    if (!r->eof && r->pending < r->pipe_cap) {
      ssize_t n = splice(r->from, NULL, r->pipe_w, NULL, r->pipe_cap - r->pending, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        r->pending += (size_t)n;
        progress = 1;
      } else if (n == 0) {
        r->eof = 1;
        progress = 1;
      } else if (errno == EINTR) {
        progress = 1;
      } else if (errno != EAGAIN) {
        finish(s, r, errno, SIDE_SOURCE, graveyard);
        return;
      } else if (r->pending == 0) {
        int moved = read_past_urgent_mark(r);
        if (moved < 0) {
          finish(s, r, -moved, SIDE_SOURCE, graveyard);
          return;
        }
        progress |= moved;
      }
    }
    if (r->pending > 0) {
      ssize_t n = splice(r->pipe_r, NULL, r->to, NULL, r->pending, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        r->pending -= (size_t)n;
        r->bytes += (uint64_t)n;
        progress = 1;
      } else if (n < 0 && errno == EINTR) {
        progress = 1;
      } else if (n < 0 && errno != EAGAIN) {
        finish(s, r, errno, SIDE_SINK, graveyard);
        return;
      }
    }
    if (r->eof && r->pending == 0) {
      shutdown(r->to, SHUT_WR);
      finish(s, r, 0, SIDE_SOURCE, graveyard);
      return;
    }
    if (!progress) break;
  }
  /* The sink failed or hung up while there was nothing to send it: nothing can be relayed. */
  if (sink_events & EPOLLERR) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(r->to, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err == 0) err = EPIPE;
    finish(s, r, err, SIDE_SINK, graveyard);
  } else if (sink_events & EPOLLHUP) {
    finish(s, r, EPIPE, SIDE_SINK, graveyard);
  }
}

static int add_relay(env_state *s, relay *r) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = (uint64_t)(uintptr_t)r;
  if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, r->from, &ev) != 0) return errno;
  ev.events = EPOLLOUT | EPOLLET;
  ev.data.u64 = (uint64_t)(uintptr_t)r | SINK_BIT;
  if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, r->to, &ev) != 0) return errno;
  return 0;
}

static void *relay_main(void *arg) {
  env_state *s = arg;
  struct epoll_event events[MAX_EVENTS];
  for (;;) {
    int n = epoll_wait(s->epfd, events, MAX_EVENTS, -1);
    relay *graveyard = NULL;
    if (n < 0) {
      if (errno == EINTR) continue;
      /* Cannot happen with a valid epoll descriptor; if it does, end every relay rather than hang them. */
      int err = errno;
      pthread_mutex_lock(&s->lock);
      s->dead = 1;
      relay *queued = s->queued;
      s->queued = NULL;
      pthread_mutex_unlock(&s->lock);
      while (queued != NULL) {
        relay *r = queued;
        queued = r->next;
        link_live(s, r);
      }
      while (s->live != NULL) finish(s, s->live, err, SIDE_SOURCE, &graveyard);
      while (graveyard != NULL) {
        relay *dead = graveyard;
        graveyard = dead->next;
        free_relay(dead);
      }
      return NULL;
    }
    for (int i = 0; i < n; i++) {
      uint64_t tag = events[i].data.u64;
      if (tag == CONTROL_TAG) {
        uint64_t count;
        while (read(s->control, &count, sizeof count) > 0) {
        }
        pthread_mutex_lock(&s->lock);
        relay *incoming = s->queued;
        s->queued = NULL;
        int stopping = s->stopping;
        pthread_mutex_unlock(&s->lock);
        while (incoming != NULL) {
          relay *r = incoming;
          incoming = r->next;
          link_live(s, r);
          int err = add_relay(s, r);
          if (err != 0) finish(s, r, err, SIDE_SOURCE, &graveyard);
          else pump(s, r, 0, &graveyard);
        }
        if (stopping) {
          while (graveyard != NULL) {
            relay *dead = graveyard;
            graveyard = dead->next;
            free_relay(dead);
          }
          return NULL;
        }
        continue;
      }
      relay *r = (relay *)(uintptr_t)(tag & ~SINK_BIT);
      if (r->done) continue;
      pump(s, r, (tag & SINK_BIT) ? events[i].events : 0, &graveyard);
    }
    while (graveyard != NULL) {
      relay *dead = graveyard;
      graveyard = dead->next;
      free_relay(dead);
    }
  }
}

/* On the JavaScript thread: a relay ended. */
static void call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  env_state *s = context;
  done_msg *msg = data;
  if (env != NULL && js_cb != NULL && msg != NULL) {
    if (s->active > 0 && --s->active == 0) napi_unref_threadsafe_function(env, s->on_done);
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_value argv[4] = {make_int(env, msg->id), NULL, make_int(env, msg->err), make_int(env, msg->side)};
    napi_create_double(env, (double)msg->bytes, &argv[1]);
    napi_call_function(env, undefined, js_cb, 4, argv, NULL);
  }
  free(msg);
}

/* The environment is going away: stop the thread, close what is left. */
static void teardown(void *arg) {
  env_state *s = arg;
  if (s->thread_started) {
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_mutex_unlock(&s->lock);
    uint64_t one = 1;
    ssize_t written = write(s->control, &one, sizeof one);
    (void)written;
    pthread_join(s->thread, NULL);
  }
  relay *lists[2] = {s->live, s->queued};
  for (int i = 0; i < 2; i++) {
    while (lists[i] != NULL) {
      relay *r = lists[i];
      lists[i] = r->next;
      close_relay_fds(r);
      free_relay(r);
    }
  }
  if (s->epfd >= 0) close(s->epfd);
  if (s->control >= 0) close(s->control);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

static env_state *state_of(napi_env env) {
  void *data = NULL;
  if (napi_get_instance_data(env, &data) != napi_ok) return NULL;
  return data;
}

static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return throw_error(env, "start(onDone) needs a function");
  napi_valuetype type;
  if (napi_typeof(env, argv[0], &type) != napi_ok || type != napi_function) return throw_error(env, "start(onDone) needs a function");
  env_state *s = state_of(env);
  if (s == NULL) return throw_error(env, "no relay state");
  if (s->thread_started) return throw_error(env, "start() was already called");
  s->epfd = epoll_create1(EPOLL_CLOEXEC);
  s->control = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s->epfd < 0 || s->control < 0) return throw_error(env, strerror(errno));
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  ev.data.u64 = CONTROL_TAG;
  if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->control, &ev) != 0) return throw_error(env, strerror(errno));
  napi_value name;
  napi_create_string_utf8(env, "cordon-splice-relay", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[0], NULL, name, 0, 1, NULL, NULL, s, call_js, &s->on_done) != napi_ok) return throw_error(env, "could not create the completion callback");
  napi_unref_threadsafe_function(env, s->on_done);
  /* The relay thread takes no signals: process signals stay with Node's threads, and a SIGPIPE from
   * splicing into a closed socket is never delivered (the write fails with EPIPE instead). */
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  int started = pthread_create(&s->thread, NULL, relay_main, s);
  pthread_sigmask(SIG_SETMASK, &previous, NULL);
  if (started != 0) return throw_error(env, "could not start the relay thread");
  s->thread_started = 1;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  return undefined;
}

static int read_fd(napi_env env, napi_value value) {
  int32_t fd = -1;
  if (napi_get_value_int32(env, value, &fd) != napi_ok) return -1;
  return fd;
}

/* A relay that will not run: its descriptors closed, its memory freed, the errno for JavaScript. */
static napi_value refuse(napi_env env, relay *r, int err) {
  close_relay_fds(r);
  free_relay(r);
  return make_int(env, -err);
}

static napi_value js_relay(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return make_int(env, -EINVAL);
  env_state *s = state_of(env);
  if (s == NULL || !s->thread_started) return throw_error(env, "start() first");
  int from = read_fd(env, argv[0]);
  int to = read_fd(env, argv[1]);
  if (from < 0 || to < 0 || from == to) return make_int(env, -EBADF);
  relay *r = calloc(1, sizeof *r);
  if (r == NULL) return make_int(env, -ENOMEM);
  r->from = r->to = r->pipe_r = r->pipe_w = -1;
  r->msg = malloc(sizeof *r->msg);
  if (r->msg == NULL) {
    free(r);
    return make_int(env, -ENOMEM);
  }
  int fds[2];
  if ((r->from = fcntl(from, F_DUPFD_CLOEXEC, 0)) < 0 || (r->to = fcntl(to, F_DUPFD_CLOEXEC, 0)) < 0 || pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    return refuse(env, r, errno);
  }
  r->pipe_r = fds[0];
  r->pipe_w = fds[1];
  int cap = fcntl(r->pipe_w, F_GETPIPE_SZ);
  if (cap < DEFAULT_PIPE_BYTES) {
    /* Over the user's pipe-user-pages-soft quota the kernel hands out 2-page pipes, which would
     * crawl: refuse, and the caller relays this tunnel in JavaScript. */
    return refuse(env, r, ENOBUFS);
  }
  r->pipe_cap = (size_t)cap;
  /* Sockets only: splice would also move file or pipe bytes, which is not what a tunnel is. */
  int type = 0;
  socklen_t len = sizeof type;
  if (getsockopt(r->from, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM || getsockopt(r->to, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) {
    return refuse(env, r, ENOTSOCK);
  }
  int nonblock = fcntl(r->from, F_GETFL);
  int nonblock_to = fcntl(r->to, F_GETFL);
  if (nonblock < 0 || nonblock_to < 0 || !(nonblock & O_NONBLOCK) || !(nonblock_to & O_NONBLOCK)) {
    /* A blocking socket would stall every relay on the thread. */
    return refuse(env, r, EINVAL);
  }
  if (++s->next_id == 0) s->next_id = 1;
  uint32_t id = s->next_id;
  r->id = id;
  if (s->active++ == 0) napi_ref_threadsafe_function(env, s->on_done);
  pthread_mutex_lock(&s->lock);
  int dead = s->dead;
  if (!dead) {
    r->next = s->queued;
    s->queued = r;
  }
  pthread_mutex_unlock(&s->lock);
  if (dead) {
    if (--s->active == 0) napi_unref_threadsafe_function(env, s->on_done);
    return refuse(env, r, EIO);
  }
  uint64_t one = 1;
  ssize_t written = write(s->control, &one, sizeof one);
  (void)written;
  /* r belongs to the relay thread from here on (it may already be freed). */
  return make_int(env, id);
}

static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return make_int(env, -EINVAL);
  int fd = read_fd(env, argv[0]);
  int32_t how = -1;
  if (fd < 0 || napi_get_value_int32(env, argv[1], &how) != napi_ok || how < 0 || how > 2) return make_int(env, -EINVAL);
  return make_int(env, shutdown(fd, how) == 0 ? 0 : -errno);
}

static napi_value js_active(napi_env env, napi_callback_info info) {
  (void)info;
  env_state *s = state_of(env);
  return make_int(env, s == NULL ? 0 : s->active);
}

NAPI_MODULE_INIT() {
  env_state *s = calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  s->epfd = -1;
  s->control = -1;
  pthread_mutex_init(&s->lock, NULL);
  /* Freed by the cleanup hook (teardown), which joins the thread first: no finalizer. */
  if (napi_set_instance_data(env, s, NULL, NULL) != napi_ok || napi_add_env_cleanup_hook(env, teardown, s) != napi_ok) {
    pthread_mutex_destroy(&s->lock);
    free(s);
    return NULL;
  }
  napi_property_descriptor props[] = {
      {"start", NULL, js_start, NULL, NULL, NULL, napi_default, NULL},
      {"relay", NULL, js_relay, NULL, NULL, NULL, napi_default, NULL},
      {"shutdown", NULL, js_shutdown, NULL, NULL, NULL, napi_default, NULL},
      {"active", NULL, js_active, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
