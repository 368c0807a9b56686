/*
 * Cordon's in-process sock_diag lookup (Linux): one exact SOCK_DIAG_BY_FAMILY request for a TCP
 * socket by its four endpoints, answered by the kernel's hash lookup, the way `ss` asks. Node
 * cannot open netlink sockets; without this addon the same request goes through a python3 helper
 * (a pipe round trip and a process wake-up per lookup), and without that through /proc/net/tcp.
 *
 * JavaScript: lookup(family 4|6, srcIp, srcPort, dstIp, dstPort) -> [state, uid, inode], or a
 * negative errno (-ENOENT: no such socket; -EAGAIN: no answer queued; others: netlink errors).
 * Never blocks: the kernel queues the answer before send() returns, so the read is MSG_DONTWAIT.
 * Built by scripts/build-native.ts against Node-API only (no V8 or libuv ABI).
 * @see sock_diag(7), linux/inet_diag.h (inet_diag_req_v2, inet_diag_msg)
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_IP_TEXT 64
/* One inet_diag_msg answer is ~72 bytes; room for a stray multi-part reply from an earlier request. */
#define RECV_BYTES 8192
#define MAX_STALE_REPLIES 16

typedef struct {
  int fd;
  uint32_t seq;
} diag_state;

static void close_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  diag_state *state = data;
  if (state->fd >= 0) close(state->fd);
  free(state);
}

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, "ERR_CORDON_SOCKDIAG", message);
  return NULL;
}

static napi_value make_int(napi_env env, int64_t value) {
  napi_value out;
  napi_create_int64(env, value, &out);
  return out;
}

/* Reads a JS string into buf; false when it is not a string or does not fit. */
static int read_string(napi_env env, napi_value value, char *buf, size_t size) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, value, buf, size, &len) != napi_ok) return 0;
  return len + 1 < size;
}

static int read_port(napi_env env, napi_value value, uint16_t *port) {
  uint32_t n = 0;
  if (napi_get_value_uint32(env, value, &n) != napi_ok || n > 65535) return 0;
  *port = (uint16_t)n;
  return 1;
}

static napi_value lookup(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5) return throw_error(env, "lookup(family, srcIp, srcPort, dstIp, dstPort) takes 5 arguments");

  uint32_t family_arg = 0;
  char src_text[MAX_IP_TEXT], dst_text[MAX_IP_TEXT];
  uint16_t sport = 0, dport = 0;
  if (napi_get_value_uint32(env, argv[0], &family_arg) != napi_ok || (family_arg != 4 && family_arg != 6)) return throw_error(env, "family must be 4 or 6");
  if (!read_string(env, argv[1], src_text, sizeof src_text) || !read_string(env, argv[3], dst_text, sizeof dst_text)) return throw_error(env, "addresses must be short strings");
  if (!read_port(env, argv[2], &sport) || !read_port(env, argv[4], &dport)) return throw_error(env, "ports must be integers from 0 to 65535");

  struct {
    struct nlmsghdr nlh;
    struct inet_diag_req_v2 req;
  } request;
  memset(&request, 0, sizeof request);
  int family = family_arg == 4 ? AF_INET : AF_INET6;
  if (inet_pton(family, src_text, request.req.id.idiag_src) != 1 || inet_pton(family, dst_text, request.req.id.idiag_dst) != 1) return throw_error(env, "addresses must be IP literals of the given family");

  diag_state *state = NULL;
  if (napi_get_instance_data(env, (void **)&state) != napi_ok || state == NULL) return throw_error(env, "sock_diag state missing");
  if (state->fd < 0) {
    state->fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (state->fd < 0) return make_int(env, -errno);
  }

  state->seq = (state->seq + 1) & 0x7fffffff;
  request.nlh.nlmsg_len = sizeof request;
  request.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  /* NLM_F_REQUEST without NLM_F_DUMP: the exact lookup (inet_diag_find_one_icsk). */
  request.nlh.nlmsg_flags = NLM_F_REQUEST;
  request.nlh.nlmsg_seq = state->seq;
  request.req.sdiag_family = (uint8_t)family;
  request.req.sdiag_protocol = IPPROTO_TCP;
  request.req.idiag_states = 0xffffffffu;
  request.req.id.idiag_sport = htons(sport);
  request.req.id.idiag_dport = htons(dport);
  request.req.id.idiag_if = 0;
  request.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  request.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

  struct sockaddr_nl kernel;
  memset(&kernel, 0, sizeof kernel);
  kernel.nl_family = AF_NETLINK;
  if (sendto(state->fd, &request, sizeof request, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) return make_int(env, -errno);

  uint8_t buf[RECV_BYTES] __attribute__((aligned(NLMSG_ALIGNTO)));
  for (int attempt = 0; attempt < MAX_STALE_REPLIES; attempt++) {
    ssize_t n = recv(state->fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_int(env, -errno);
    }
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (!NLMSG_OK(h, (size_t)n)) return make_int(env, -EBADMSG);
    if (h->nlmsg_seq != state->seq) continue; /* a late answer to an earlier request */
    if (h->nlmsg_type == NLMSG_ERROR) {
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) return make_int(env, -EBADMSG);
      const struct nlmsgerr *err = NLMSG_DATA(h);
      return make_int(env, err->error < 0 ? err->error : -EPROTO);
    }
    if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) return make_int(env, -EBADMSG);
    const struct inet_diag_msg *msg = NLMSG_DATA(h);
    napi_value out;
    if (napi_create_array_with_length(env, 3, &out) != napi_ok) return NULL;
    napi_set_element(env, out, 0, make_int(env, msg->idiag_state));
    napi_set_element(env, out, 1, make_int(env, msg->idiag_uid));
    napi_set_element(env, out, 2, make_int(env, msg->idiag_inode));
    return out;
  }
  return make_int(env, -EAGAIN);
}

NAPI_MODULE_INIT() {
  diag_state *state = calloc(1, sizeof *state);
  if (state == NULL) return throw_error(env, "out of memory");
  state->fd = -1;
  if (napi_set_instance_data(env, state, close_state, NULL) != napi_ok) {
    free(state);
    return throw_error(env, "cannot keep sock_diag state");
  }
  napi_value fn;
  if (napi_create_function(env, "lookup", NAPI_AUTO_LENGTH, lookup, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "lookup", fn) != napi_ok) return NULL;
  return exports;
}
